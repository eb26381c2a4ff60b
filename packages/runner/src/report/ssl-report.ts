import { gzipSync } from "node:zlib";
import { tf } from "@voxelpipe/core";
import { encodeNifti } from "@voxelpipe/transforms";
import type { ViewerPanelsPayload } from "@voxelpipe/web";
import { robustRange } from "./case-volumes.js";
import { drawPlane, panelSize, plane, views } from "./overlay.js";
import { Raster } from "./raster.js";

/**
 * Self-supervised runs: the first validation item as the step graph saw it — the original (a batch key no model
 * reads, e.g. `gt_image`), each model call's input (a corrupted view) and output (its reconstruction) — for the
 * report's side-by-side panels.
 */
export interface SslView {
  shape: [number, number, number];
  panels: { name: string; role: "original" | "corrupted view" | "reconstruction"; data: Float32Array }[];
  iteration?: number;
  /** voxel size in mm (default 1) */
  spacing?: [number, number, number];
}

interface GraphLike {
  nodes: readonly { name: string; kind: string; inputs?: string[] }[];
  inputKeys: string[];
}

/** sample 0, channel 0 of every rank-5 tensor with the image's spatial shape; undefined when there is none */
export async function sslView(graph: GraphLike, env: Map<string, tf.Tensor>): Promise<SslView | undefined> {
  const calls = graph.nodes.filter((n) => n.kind === "model" && n.inputs?.length);
  if (!calls.length) return undefined;
  const first = env.get(calls[0].inputs![0]);
  if (first?.rank !== 5) return undefined;
  const shape = (first as tf.Tensor).shape.slice(1, 4) as [number, number, number];
  const fits = (t: tf.Tensor | undefined): t is tf.Tensor =>
    !!t && t.rank === 5 && t.shape[1] === shape[0] && t.shape[2] === shape[1] && t.shape[3] === shape[2];
  // read asynchronously: webgpu in Node has no synchronous read
  const take = async (t: tf.Tensor) => {
    const s = tf.slice(t, [0, 0, 0, 0, 0], [1, ...shape, 1]);
    const data = Float32Array.from(await s.data());
    s.dispose();
    return data;
  };
  const modelInputs = new Set(calls.map((c) => c.inputs![0]));
  const panels: SslView["panels"] = [];
  for (const k of graph.inputKeys) {
    const t = env.get(k);
    if (!modelInputs.has(k) && fits(t)) panels.push({ name: k, role: "original", data: await take(t) });
  }
  for (const c of calls) {
    const input = env.get(c.inputs![0]);
    const output = env.get(c.name);
    if (fits(input)) panels.push({ name: c.inputs![0], role: "corrupted view", data: await take(input) });
    if (fits(output)) panels.push({ name: c.name, role: "reconstruction", data: await take(output) });
  }
  return panels.length ? { shape, panels } : undefined;
}

/**
 * One PNG: a column per panel (original, corrupted views, reconstructions), a row per view (axial, coronal,
 * sagittal) through the volume's centre, all on the original's grey window so reconstructions compare directly.
 */
export function sslPng(v: SslView): Buffer {
  const PAD = 8;
  const centreIdx = v.shape.map((s) => s >> 1);
  const ref = v.panels.find((p) => p.role === "original") ?? v.panels[0];
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const x of ref.data) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const planes = views.map((view) => {
    const axis = view === "axial" ? 2 : view === "coronal" ? 1 : 0;
    const p = plane(v.shape, v.spacing ?? [1, 1, 1], view, centreIdx[axis]);
    return { view, p, size: panelSize(p, 180) };
  });
  const colW = Math.max(...planes.map((q) => q.size[0]));
  const headH = 2 * 16 + PAD;
  const rowH = planes.map((q) => q.size[1]);
  const W = PAD + v.panels.length * (colW + PAD);
  const H = headH + PAD + rowH.reduce((a, b) => a + b + PAD, 0);
  const r = new Raster(W, H);
  v.panels.forEach((panel, n) => {
    const ox = PAD + n * (colW + PAD);
    r.text(ox, PAD, panel.name, [34, 34, 34], 2);
    r.text(ox, PAD + 18, panel.role, [100, 100, 100], 1);
    let oy = headH + PAD;
    planes.forEach((q, i) => {
      drawPlane(r, ox, oy, q.size[0], q.size[1], q.p, panel.data, [lo, hi]);
      oy += rowH[i] + PAD;
    });
  });
  return r.png();
}

/**
 * The panels for the viewer: each volume in 8 bits over the original's 0.5–99.5 % range (scl_slope/inter keep the
 * values), on one grid, so the browser shows them side by side with crosshairs in step.
 */
export function sslPanelsPayload(v: SslView, title: string): ViewerPanelsPayload {
  const ref = v.panels.find((p) => p.role === "original") ?? v.panels[0];
  const [lo, hi] = robustRange(ref.data);
  const slope = (hi - lo) / 255 || 1;
  const sp = v.spacing ?? [1, 1, 1];
  const affine = Float64Array.from([sp[0], 0, 0, 0, 0, sp[1], 0, 0, 0, 0, sp[2], 0, 0, 0, 0, 1]);
  const panels = v.panels.map((p) => {
    const q = Uint8Array.from(p.data, (x) => Math.max(0, Math.min(255, Math.round((x - lo) / slope))));
    const bytes = encodeNifti({ data: q, shape: v.shape, channels: 1, affine, meta: {} }, { dtype: "uint8" });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setFloat32(112, slope, true); // scl_slope
    view.setFloat32(116, lo, true); // scl_inter
    return { name: p.name, role: p.role, image: gzipSync(bytes, { level: 6 }).toString("base64") };
  });
  return {
    kind: "panels",
    title,
    panels,
    window: [lo, hi],
    caption: `grid ${v.shape.join("×")}; ${v.spacing ? `${sp.map((s) => +s.toPrecision(3)).join("×")} mm voxels` : "1 mm voxels assumed"}; 8 bits over the original's ${lo.toPrecision(4)}…${hi.toPrecision(4)} (values outside are clipped)`,
  };
}
