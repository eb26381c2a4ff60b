import { ERROR_COLORS, organColor } from "@voxelpipe/web";
import { robustRange } from "./case-volumes.js";
import { textWidth } from "./font.js";
import { Raster, type RGB } from "./raster.js";

/**
 * Static overlay images for contexts without JavaScript: per view one PNG with three panels (ground truth,
 * prediction, errors) through the centre of the labelled voxels, organs filled in the fixed organ colours with
 * solid contours, missed / extra voxels in blue / orange, the slice index, R/L/A/P/S/I letters at the panel edges
 * (radiological display: the patient's right on the left) and a legend of the organs in the case.
 * Volumes are C-order [S0, S1, S2] with RAS voxel axes (i → patient right, j → anterior, k → superior).
 */
export interface OverlayVolumes {
  shape: [number, number, number];
  image: ArrayLike<number>;
  label: ArrayLike<number>;
  pred: ArrayLike<number>;
  /** voxel size in mm (default 1 mm): panels keep the anatomy's aspect ratio */
  spacing?: [number, number, number];
}

export type View = "axial" | "coronal" | "sagittal";
export const views: View[] = ["axial", "coronal", "sagittal"];

const PANEL = 256;
const PAD = 8;
const WHITE: RGB = [255, 255, 255];
const INK: RGB = [34, 34, 34];

/** the slice index per axis through the centroid of the labelled voxels (or the middle) */
export function centre(shape: [number, number, number], label: ArrayLike<number>): [number, number, number] {
  const [a, b, c] = shape;
  let n = 0;
  const s = [0, 0, 0];
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let k = 0; k < c; k++)
        if (label[(i * b + j) * c + k] > 0) {
          s[0] += i;
          s[1] += j;
          s[2] += k;
          n++;
        }
  return n ? (s.map((x) => Math.round(x / n)) as [number, number, number]) : [a >> 1, b >> 1, c >> 1];
}

interface Plane {
  w: number;
  h: number;
  /** mm per pixel column / row */
  px: number;
  py: number;
  /** C-order voxel index of display pixel (x, y) */
  at: (x: number, y: number) => number;
  /** letters at the left, right, top and bottom edges */
  letters: [string, string, string, string];
  axis: number;
}

/** a 2-D view: rows top→bottom, columns left→right in radiological display */
export function plane(
  shape: [number, number, number],
  spacing: [number, number, number],
  view: View,
  s: number,
): Plane {
  const [a, b, c] = shape;
  const idx = (i: number, j: number, k: number) => (i * b + j) * c + k;
  if (view === "axial")
    return {
      w: a,
      h: b,
      px: spacing[0],
      py: spacing[1],
      at: (x, y) => idx(a - 1 - x, b - 1 - y, s),
      letters: ["R", "L", "A", "P"],
      axis: 2,
    };
  if (view === "coronal")
    return {
      w: a,
      h: c,
      px: spacing[0],
      py: spacing[2],
      at: (x, y) => idx(a - 1 - x, s, c - 1 - y),
      letters: ["R", "L", "S", "I"],
      axis: 1,
    };
  return {
    w: b,
    h: c,
    px: spacing[1],
    py: spacing[2],
    at: (x, y) => idx(s, x, c - 1 - y),
    letters: ["P", "A", "S", "I"],
    axis: 0,
  };
}

/** the grey window: CT in Hounsfield units on the abdominal soft-tissue window (−175…250 HU), else 0.5–99.5 % */
export function displayWindow(a: ArrayLike<number>): [number, number] {
  const [lo, hi] = robustRange(a);
  return lo < -500 && hi > 100 ? [-175, 250] : [lo, hi];
}

/** draw the image slice of `p` into `r` at (ox, oy) scaled to w×h; `overlay` may colour a pixel */
export function drawPlane(
  r: Raster,
  ox: number,
  oy: number,
  w: number,
  h: number,
  p: Plane,
  image: ArrayLike<number>,
  window: [number, number],
  overlay?: (x: number, y: number) => { c: RGB; alpha: number } | null,
): void {
  for (let Y = 0; Y < h; Y++)
    for (let X = 0; X < w; X++) {
      const x = Math.min(p.w - 1, Math.floor((X / w) * p.w));
      const y = Math.min(p.h - 1, Math.floor((Y / h) * p.h));
      const g = Math.max(
        0,
        Math.min(255, Math.round(((image[p.at(x, y)] - window[0]) / (window[1] - window[0] || 1)) * 255)),
      );
      r.set(ox + X, oy + Y, [g, g, g]);
      const o = overlay?.(x, y);
      if (o) r.set(ox + X, oy + Y, o.c, o.alpha);
    }
  const [l, rt, t, b] = p.letters;
  r.text(ox + 4, oy + (h >> 1) - 7, l, WHITE, 2, true);
  r.text(ox + w - 14, oy + (h >> 1) - 7, rt, WHITE, 2, true);
  r.text(ox + (w >> 1) - 5, oy + 4, t, WHITE, 2, true);
  r.text(ox + (w >> 1) - 5, oy + h - 18, b, WHITE, 2, true);
}

/** panel size in pixels keeping the anatomy's aspect ratio, long side PANEL */
export function panelSize(p: Plane, long = PANEL): [number, number] {
  const sc = long / Math.max(p.w * p.px, p.h * p.py);
  return [Math.max(1, Math.round(p.w * p.px * sc)), Math.max(1, Math.round(p.h * p.py * sc))];
}

/** One view as a PNG: ground truth | prediction | errors, with slice index, orientation letters and legend. */
export function overlayPng(
  v: OverlayVolumes,
  view: View,
  classes: string[],
): { png: Buffer; slice: number; of: number } {
  const spacing = v.spacing ?? [1, 1, 1];
  const ctr = centre(v.shape, v.label);
  const axis = view === "axial" ? 2 : view === "coronal" ? 1 : 0;
  const p = plane(v.shape, spacing, view, ctr[axis]);
  const [w, h] = panelSize(p);
  const window = displayWindow(v.image);
  const present = new Set<number>();
  for (let i = 0; i < v.label.length; i++) {
    if (v.label[i] > 0) present.add(v.label[i]);
    if (v.pred[i] > 0) present.add(v.pred[i]);
  }
  const legend = [
    ...[...present].sort((a, b) => a - b).map((k) => ({ text: classes[k] ?? `class ${k}`, c: organColor(k) as RGB })),
    { text: "missed (FN)", c: ERROR_COLORS.missed as RGB },
    { text: "extra (FP)", c: ERROR_COLORS.extra as RGB },
  ];
  const W = 3 * w + 4 * PAD;
  // legend rows: swatch + name at scale 2, wrapped to the image width
  const rows: { text: string; c: RGB; x: number; row: number }[] = [];
  let x = PAD;
  let row = 0;
  for (const e of legend) {
    const ew = 18 + textWidth(e.text, 2) + 16;
    if (x + ew > W - PAD && x > PAD) {
      x = PAD;
      row++;
    }
    rows.push({ ...e, x, row });
    x += ew;
  }
  const top = PAD + 16 + 8 + 16;
  const H = top + h + PAD + (row + 1) * 20 + PAD;
  const r = new Raster(W, H);
  const of = v.shape[axis];
  r.text(PAD, PAD, `${view} slice ${ctr[axis] + 1}/${of}`, INK, 2);
  const label = (arr: ArrayLike<number>) => (x: number, y: number) => {
    const l = arr[p.at(x, y)];
    if (l <= 0) return null;
    const edge =
      x === 0 ||
      y === 0 ||
      x === p.w - 1 ||
      y === p.h - 1 ||
      arr[p.at(x - 1, y)] !== l ||
      arr[p.at(x + 1, y)] !== l ||
      arr[p.at(x, y - 1)] !== l ||
      arr[p.at(x, y + 1)] !== l;
    return { c: organColor(l) as RGB, alpha: edge ? 1 : 0.45 };
  };
  const errors = (x: number, y: number) => {
    const i = p.at(x, y);
    const t = v.label[i];
    const q = v.pred[i];
    if (t === q) return null;
    return { c: (t > 0 ? ERROR_COLORS.missed : ERROR_COLORS.extra) as RGB, alpha: 0.85 };
  };
  const panels: [string, ((x: number, y: number) => { c: RGB; alpha: number } | null) | undefined][] = [
    ["ground truth", label(v.label)],
    ["prediction", label(v.pred)],
    ["errors", errors],
  ];
  panels.forEach(([title, f], n) => {
    const ox = PAD + n * (w + PAD);
    r.text(ox, PAD + 24, title, INK, 2);
    drawPlane(r, ox, top, w, h, p, v.image, window, f);
  });
  for (const e of rows) {
    const y = top + h + PAD + e.row * 20;
    r.fillRect(e.x, y, 14, 14, e.c);
    r.text(e.x + 18, y, e.text, INK, 2);
  }
  return { png: r.png(), slice: ctr[axis], of };
}
