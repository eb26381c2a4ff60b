import { Niivue, NVImage } from "@niivue/niivue";
import { errorColormap, errorMap, organColormap } from "./error-map.js";
import { buildLegend, type Legend } from "./legend.js";
import { organColor } from "./organs.js";
import { injectStyles } from "./styles.js";
import { buildToolbar, el, type Layer, type Layout, type Toolbar } from "./toolbar.js";

/** NiiVue settings every view shares (the report's viewer and the SSL side-by-side panels) */
export const NIIVUE_BASE: ConstructorParameters<typeof Niivue>[0] = {
  backColor: [0, 0, 0, 1],
  crosshairColor: [1, 0.85, 0.2, 0.7],
  // thin lines (0.4 % of the field of view) with a gap around the centre, so the voxel under the crosshair stays
  // visible (NiiVue's default is one voxel wide, which hides it)
  crosshairWidthUnit: "percent",
  crosshairWidth: 0.4,
  crosshairGap: 12,
  isRadiologicalConvention: true,
  isOrientationTextVisible: true,
  // orientation letters readable on CT: white (NiiVue's default is mid-grey)
  fontColor: [1, 1, 1, 1],
  isNearestInterpolation: true,
  dragAndDropEnabled: false,
  logLevel: "error",
  loadingText: "loading",
};

/** a NIfTI volume for the viewer: bytes (gzip or not) or a URL (data:, blob: or http) */
export interface VolumeSource {
  name: string;
  bytes?: ArrayBuffer | Uint8Array;
  url?: string;
}

export interface ViewerOptions {
  title?: string;
  /** class names by label value (index 0 = background) */
  classes: string[];
  image: VolumeSource;
  prediction?: VolumeSource;
  groundTruth?: VolumeSource;
  /** display window of the image in its own units */
  window?: [number, number];
  /** per class index, a note for the legend */
  notes?: Record<string, string>;
  /** start with the error (false positive / false negative) layer on */
  errors?: boolean;
  caption?: string;
  /** canvas height in CSS pixels (default 480) */
  height?: number;
}

export interface ViewerHandle {
  readonly nv: Niivue;
  readonly root: HTMLElement;
  setLayer(layer: Layer, visible: boolean): void;
  setLayout(layout: Layout): void;
  /** move the crosshair to `index` along RAS voxel axis `axis` (0 R–L, 1 P–A, 2 I–S) */
  setSlice(axis: 0 | 1 | 2, index: number): void;
  /** the crosshair's RAS voxel coordinates */
  slice(): [number, number, number];
  /** show one class only (labels and errors), or all with null */
  selectClass(k: number | null): void;
  /** add or replace the prediction layer (the export-web site calls this after inference) */
  setPrediction(src: VolumeSource): Promise<void>;
  dispose(): void;
}

const LABEL_OPACITY = 0.55;
// NiiVue enums, as numbers: its package exports SLICE_TYPE but not SHOW_RENDER / MULTIPLANAR_TYPE
const SLICE = { axial: 0, coronal: 1, sagittal: 2, multiplanar: 3, render: 4 } as const;
const SHOW_RENDER_ALWAYS = 1;
const MULTIPLANAR_GRID = 2;

export async function loadVolume(src: VolumeSource): Promise<NVImage> {
  if (src.bytes) {
    const u8 = src.bytes instanceof Uint8Array ? src.bytes : new Uint8Array(src.bytes);
    const buffer = u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength) as ArrayBuffer;
    return NVImage.loadFromUrl({ url: src.name, name: src.name, buffer });
  }
  if (!src.url) throw new Error(`volume "${src.name}" has neither bytes nor a URL`);
  return NVImage.loadFromUrl({ url: src.url, name: src.name });
}

/**
 * Mount the voxelpipe viewer into `host`: NiiVue with the image, prediction and ground truth as label layers in
 * the fixed organ colours, an organ legend, layer toggles, three planes + 3-D render, slice sliders, crosshair
 * and orientation letters, and a per-organ false positive / false negative view. `host.dataset` carries the
 * state (`vpState`: loading / ready / error; `vpSlice`: "i,j,k") so headless browsers can test it.
 */
export async function mountViewer(host: HTMLElement, o: ViewerOptions): Promise<ViewerHandle> {
  // Long by design: the viewer's DOM and its NiiVue event wiring: every handler closes over the same NiiVue
  // instance, layers and controls; split, that state would be threaded through each piece.
  const doc = host.ownerDocument;
  injectStyles(doc);
  host.classList.add("vp-viewer");
  host.dataset.vpState = "loading";
  const hasErrors = !!(o.prediction && o.groundTruth);
  const toolbar: Toolbar = buildToolbar(doc, {
    layers: {
      image: true,
      prediction: o.prediction ? true : undefined,
      groundTruth: o.groundTruth ? !o.prediction : undefined,
      errors: hasErrors ? !!o.errors : undefined,
    },
  });
  const canvasBox = el(doc, "div", { class: "vp-canvas" });
  canvasBox.style.height = `${o.height ?? 480}px`;
  const canvas = el(doc, "canvas") as HTMLCanvasElement;
  canvas.tabIndex = 0;
  canvasBox.append(canvas);
  const legend: Legend = buildLegend(doc, o.classes, organColor, o.notes ?? {}, hasErrors);
  const status = el(doc, "div", { class: "vp-status", "aria-live": "polite" });
  host.append(
    ...(o.title ? [el(doc, "h4", {}, o.title)] : []),
    toolbar.root,
    el(doc, "div", { class: "vp-main" }, canvasBox, legend.root),
    toolbar.slices,
    status,
    ...(o.caption ? [el(doc, "div", { class: "vp-caption" }, o.caption)] : []),
  );

  const nv = new Niivue({
    ...NIIVUE_BASE,
    // orientation letters at least 16 px (NiiVue's default is 13 px)
    fontMinPx: 16,
    showAllOrientationMarkers: true,
    isOrientCube: true,
    multiplanarShowRender: SHOW_RENDER_ALWAYS,
    multiplanarLayout: MULTIPLANAR_GRID,
    show3Dcrosshair: true,
  });
  const layers = new Map<Layer, NVImage>();
  let selected: number | null = null;

  const refreshLabels = () => {
    for (const layer of ["prediction", "groundTruth"] as const)
      layers.get(layer)?.setColormapLabel(organColormap(o.classes, organColor, selected));
    layers.get("errors")?.setColormapLabel(errorColormap(o.classes, selected));
    nv.updateGLVolume();
  };
  const applyVisibility = () => {
    for (const [layer, vol] of layers) {
      const on = toolbar.isOn(layer);
      const i = nv.volumes.indexOf(vol);
      if (i >= 0) nv.setOpacity(i, on ? (layer === "image" ? 1 : layer === "errors" ? 0.9 : LABEL_OPACITY) : 0);
    }
    host.dataset.vpLayers = [...layers.keys()].filter((l) => toolbar.isOn(l)).join(",");
  };
  const updateErrors = () => {
    const pred = layers.get("prediction");
    const gt = layers.get("groundTruth");
    if (!pred || !gt) return;
    const old = layers.get("errors");
    if (old) nv.removeVolume(old);
    layers.delete("errors");
    if (pred.img?.length !== gt.img?.length || 2 * o.classes.length > 256) {
      // another grid (or too many classes for one byte): no error layer rather than no viewer
      toolbar.hide("errors");
      return;
    }
    const { map, missed, extra } = errorMap(
      pred.img as ArrayLike<number>,
      gt.img as ArrayLike<number>,
      o.classes.length,
    );
    const err = gt.clone();
    err.img = map;
    err.name = "errors";
    err.setColormapLabel(errorColormap(o.classes, selected));
    nv.addVolume(err);
    layers.set("errors", err);
    legend.setErrorCounts(missed, extra);
  };
  const sync = () => {
    const dims = nv.volumes[0]?.dimsRAS;
    if (!dims) return;
    const v = nv.frac2vox(nv.scene.crosshairPos) as unknown as number[];
    const ijk: [number, number, number] = [v[0], v[1], v[2]];
    toolbar.showSlice(ijk, [dims[1], dims[2], dims[3]]);
    host.dataset.vpSlice = ijk.join(",");
  };

  try {
    await nv.attachToCanvas(canvas);
    const image = await loadVolume(o.image);
    if (o.window) {
      image.cal_min = o.window[0];
      image.cal_max = o.window[1];
    }
    nv.addVolume(image);
    layers.set("image", image);
    for (const [layer, src] of [
      ["groundTruth", o.groundTruth],
      ["prediction", o.prediction],
    ] as const) {
      if (!src) continue;
      const vol = await loadVolume(src);
      vol.setColormapLabel(organColormap(o.classes, organColor, null));
      nv.addVolume(vol);
      layers.set(layer, vol);
    }
    legend.setCounts(countClasses(layers.get("prediction")), countClasses(layers.get("groundTruth")));
    updateErrors();
    nv.setSliceType(SLICE.multiplanar);
    nv.onLocationChange = (loc: unknown) => {
      sync();
      const s = (loc as { string?: string }).string;
      if (s) status.textContent = s;
    };
    applyVisibility();
    refreshLabels();
    sync();
    host.dataset.vpState = "ready";
  } catch (e) {
    host.dataset.vpState = "error";
    host.append(
      el(
        doc,
        "div",
        { class: "vp-error" },
        `The interactive viewer could not start (${e instanceof Error ? e.message : String(e)}); it needs WebGL 2. The static slices below show the same case.`,
      ),
    );
    throw e;
  }

  const handle: ViewerHandle = {
    nv,
    root: host,
    setLayer(layer, visible) {
      toolbar.setOn(layer, visible);
      applyVisibility();
    },
    setLayout(layout) {
      toolbar.setLayout(layout);
      nv.setSliceType(SLICE[layout]);
    },
    setSlice(axis, index) {
      const v = [...(nv.frac2vox(nv.scene.crosshairPos) as unknown as number[])];
      v[axis] = index;
      nv.scene.crosshairPos = nv.vox2frac(v as unknown as Parameters<Niivue["vox2frac"]>[0]);
      nv.createOnLocationChange();
      nv.drawScene();
      sync();
    },
    slice: () => (host.dataset.vpSlice ?? "0,0,0").split(",").map(Number) as [number, number, number],
    selectClass(k) {
      selected = k;
      legend.select(k);
      refreshLabels();
    },
    async setPrediction(src) {
      const old = layers.get("prediction");
      if (old) nv.removeVolume(old);
      const vol = await loadVolume(src);
      vol.setColormapLabel(organColormap(o.classes, organColor, selected));
      nv.addVolume(vol);
      layers.set("prediction", vol);
      toolbar.enable("prediction", true);
      legend.setCounts(countClasses(vol), countClasses(layers.get("groundTruth")));
      updateErrors();
      applyVisibility();
    },
    dispose() {
      nv.volumes.slice().forEach((v) => {
        nv.removeVolume(v);
      });
      host.replaceChildren();
    },
  };
  toolbar.onLayer = () => applyVisibility();
  toolbar.onLayout = (l) => handle.setLayout(l);
  toolbar.onSlice = (axis, i) => handle.setSlice(axis, i);
  legend.onSelect = (k) => handle.selectClass(k === selected ? null : k);
  return handle;
}

/** voxels per label value of a label layer (for the legend: which organs are present) */
function countClasses(vol: NVImage | undefined): number[] | undefined {
  if (!vol) return undefined;
  const img = vol.img as ArrayLike<number>;
  const counts: number[] = [];
  for (let i = 0; i < img.length; i++) {
    const v = img[i];
    if (v > 0 && Number.isInteger(v)) counts[v] = (counts[v] ?? 0) + 1;
  }
  return counts;
}
