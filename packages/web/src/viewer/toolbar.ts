/** The viewer's controls: layer toggles, layout choice and one slice slider per RAS axis. Plain DOM. */

export type Layer = "image" | "prediction" | "groundTruth" | "errors";
export type Layout = "multiplanar" | "axial" | "coronal" | "sagittal" | "render";

const LAYER_LABELS: Record<Layer, string> = {
  image: "image",
  prediction: "prediction",
  groundTruth: "ground truth",
  errors: "errors (missed / extra)",
};
const LAYOUTS: [Layout, string][] = [
  ["multiplanar", "3 planes + 3-D"],
  ["axial", "axial"],
  ["coronal", "coronal"],
  ["sagittal", "sagittal"],
  ["render", "3-D"],
];
const AXES = ["sagittal (R→L)", "coronal (P→A)", "axial (I→S)"];

export function el(
  doc: Document,
  tag: string,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElement {
  const e = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

export interface Toolbar {
  root: HTMLElement;
  slices: HTMLElement;
  isOn(layer: Layer): boolean;
  setOn(layer: Layer, on: boolean): void;
  enable(layer: Layer, on: boolean): void;
  hide(layer: Layer): void;
  setLayout(layout: Layout): void;
  showSlice(ijk: [number, number, number], dims: [number, number, number]): void;
  onLayer?: (layer: Layer, on: boolean) => void;
  onLayout?: (layout: Layout) => void;
  onSlice?: (axis: 0 | 1 | 2, index: number) => void;
}

let uid = 0;

/** `layers`: initial state per layer; undefined = the layer does not exist (no checkbox) */
export function buildToolbar(
  doc: Document,
  o: { layers: Partial<Record<Layer, boolean | undefined>>; layout?: Layout },
): Toolbar {
  const id = `vp${++uid}`;
  const boxes = new Map<Layer, HTMLInputElement>();
  const layerSet = el(doc, "fieldset", {}, el(doc, "legend", {}, "Layers"));
  if (Object.values(o.layers).every((v) => v === undefined)) layerSet.hidden = true;
  for (const layer of Object.keys(LAYER_LABELS) as Layer[]) {
    const box = el(doc, "input", { type: "checkbox", "data-layer": layer }) as HTMLInputElement;
    box.checked = !!o.layers[layer];
    boxes.set(layer, box);
    const label = el(doc, "label", {}, box, ` ${LAYER_LABELS[layer]}`);
    if (o.layers[layer] === undefined) label.hidden = true;
    layerSet.append(label);
  }
  const radios = new Map<Layout, HTMLInputElement>();
  const layoutSet = el(doc, "fieldset", {}, el(doc, "legend", {}, "View"));
  for (const [layout, text] of LAYOUTS) {
    const r = el(doc, "input", { type: "radio", name: `${id}-layout`, value: layout }) as HTMLInputElement;
    r.checked = layout === (o.layout ?? "multiplanar");
    radios.set(layout, r);
    layoutSet.append(el(doc, "label", {}, r, ` ${text}`));
  }
  const sliders: HTMLInputElement[] = [];
  const outputs: HTMLOutputElement[] = [];
  const slices = el(doc, "div", { class: "vp-slices" }, el(doc, "strong", {}, "Slice"));
  AXES.forEach((name, axis) => {
    const s = el(doc, "input", { type: "range", min: "0", max: "0", step: "1", "data-axis": String(axis) });
    const out = el(doc, "output") as HTMLOutputElement;
    sliders.push(s as HTMLInputElement);
    outputs.push(out);
    slices.append(el(doc, "label", {}, `${name}`, s, out));
  });
  const t: Toolbar = {
    root: el(doc, "div", { class: "vp-bar" }, layerSet, layoutSet),
    slices,
    isOn: (layer) => !!boxes.get(layer)?.checked && !boxes.get(layer)?.parentElement?.hidden,
    setOn(layer, on) {
      const b = boxes.get(layer);
      if (b) b.checked = on;
    },
    enable(layer, on) {
      const b = boxes.get(layer);
      if (!b?.parentElement) return;
      b.parentElement.hidden = false;
      b.checked = on;
    },
    hide(layer) {
      const b = boxes.get(layer);
      if (b?.parentElement) b.parentElement.hidden = true;
    },
    setLayout(layout) {
      const r = radios.get(layout);
      if (r) r.checked = true;
    },
    showSlice(ijk, dims) {
      ijk.forEach((v, a) => {
        sliders[a].max = String(dims[a] - 1);
        sliders[a].value = String(v);
        outputs[a].value = `${v + 1} / ${dims[a]}`;
      });
    },
  };
  for (const [layer, box] of boxes) box.addEventListener("change", () => t.onLayer?.(layer, box.checked));
  for (const [layout, r] of radios) r.addEventListener("change", () => r.checked && t.onLayout?.(layout));
  sliders.forEach((s, a) => {
    s.addEventListener("input", () => t.onSlice?.(a as 0 | 1 | 2, Number(s.value)));
  });
  return t;
}
