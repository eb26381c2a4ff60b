import { Niivue, type NVImage } from "@niivue/niivue";
import { injectStyles } from "./styles.js";
import { buildToolbar, el, type Layout } from "./toolbar.js";
import { loadVolume, NIIVUE_BASE, type VolumeSource } from "./viewer.js";

export interface PanelsOptions {
  title?: string;
  panels: { name: string; role: string; source: VolumeSource }[];
  window?: [number, number];
  caption?: string;
  /** canvas height per panel in CSS pixels (default 240) */
  height?: number;
}

export interface PanelsHandle {
  readonly nvs: Niivue[];
  setLayout(layout: Layout): void;
  setSlice(axis: 0 | 1 | 2, index: number): void;
}

const SLICE = { axial: 0, coronal: 1, sagittal: 2, multiplanar: 3, render: 4 } as const;

/**
 * Volumes side by side, one NiiVue per panel, one grey window for all, crosshairs kept at the same world
 * position (moving one moves all), one view choice and one set of slice sliders for all.
 */
export async function mountPanels(host: HTMLElement, o: PanelsOptions): Promise<PanelsHandle> {
  // Long by design: the panels' DOM and the wiring that keeps their crosshairs, window and sliders in step;
  // every handler closes over the same list of NiiVue instances.
  const doc = host.ownerDocument;
  injectStyles(doc);
  host.classList.add("vp-viewer");
  host.dataset.vpState = "loading";
  const toolbar = buildToolbar(doc, { layers: {}, layout: "axial" });
  const grid = el(doc, "div", { class: "vp-panels" });
  const canvases = o.panels.map((p) => {
    const box = el(doc, "div", { class: "vp-canvas" });
    box.style.height = `${o.height ?? 240}px`;
    const canvas = el(doc, "canvas") as HTMLCanvasElement;
    box.append(canvas);
    grid.append(el(doc, "figure", {}, box, el(doc, "figcaption", {}, el(doc, "b", {}, p.name), ` ${p.role}`)));
    return canvas;
  });
  host.append(
    ...(o.title ? [el(doc, "h4", {}, o.title)] : []),
    toolbar.root,
    grid,
    toolbar.slices,
    ...(o.caption ? [el(doc, "div", { class: "vp-caption" }, o.caption)] : []),
  );
  const nvs: Niivue[] = [];
  let syncing = false;
  const follow = (from: Niivue) => {
    const dims = from.volumes[0]?.dimsRAS;
    if (dims) {
      const v = from.frac2vox(from.scene.crosshairPos) as unknown as number[];
      toolbar.showSlice([v[0], v[1], v[2]], [dims[1], dims[2], dims[3]]);
      host.dataset.vpSlice = v.slice(0, 3).join(",");
    }
    if (syncing) return;
    syncing = true;
    const mm = from.frac2mm(from.scene.crosshairPos);
    for (const nv of nvs)
      if (nv !== from) {
        nv.scene.crosshairPos = nv.mm2frac(mm);
        nv.drawScene();
      }
    syncing = false;
  };
  try {
    for (const [i, p] of o.panels.entries()) {
      const nv = new Niivue({ ...NIIVUE_BASE });
      await nv.attachToCanvas(canvases[i]);
      const vol: NVImage = await loadVolume(p.source);
      if (o.window) {
        vol.cal_min = o.window[0];
        vol.cal_max = o.window[1];
      }
      nv.addVolume(vol);
      nv.setSliceType(SLICE.axial);
      nv.onLocationChange = () => follow(nv);
      nvs.push(nv);
    }
    if (nvs[0]) follow(nvs[0]);
    host.dataset.vpState = "ready";
  } catch (e) {
    host.dataset.vpState = "error";
    host.append(
      el(
        doc,
        "div",
        { class: "vp-error" },
        `The panels could not start (${e instanceof Error ? e.message : String(e)}).`,
      ),
    );
    throw e;
  }
  const handle: PanelsHandle = {
    nvs,
    setLayout(layout) {
      toolbar.setLayout(layout);
      for (const nv of nvs) nv.setSliceType(SLICE[layout]);
    },
    setSlice(axis, index) {
      const nv = nvs[0];
      if (!nv) return;
      const v = [...(nv.frac2vox(nv.scene.crosshairPos) as unknown as number[])];
      v[axis] = index;
      nv.scene.crosshairPos = nv.vox2frac(v as unknown as Parameters<Niivue["vox2frac"]>[0]);
      nv.drawScene();
      follow(nv);
    },
  };
  toolbar.onLayout = (l) => handle.setLayout(l);
  toolbar.onSlice = (axis, i) => handle.setSlice(axis, i);
  return handle;
}
