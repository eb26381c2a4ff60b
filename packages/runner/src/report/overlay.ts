import { PNG } from "pngjs";

/**
 * Overlay images: a CT slice (grey) with the ground-truth contour (green) and the prediction
 * contour (red), axial / coronal / sagittal through the centre of the foreground. Volumes are
 * C-order [S0, S1, S2] (RAS voxel axes), one channel.
 */
export interface OverlayVolumes {
  shape: [number, number, number];
  image: ArrayLike<number>;
  label: ArrayLike<number>;
  pred: ArrayLike<number>;
}

type View = "axial" | "coronal" | "sagittal";

function range(a: ArrayLike<number>): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < a.length; i++) {
    if (a[i] < lo) lo = a[i];
    if (a[i] > hi) hi = a[i];
  }
  return [lo, hi];
}

/** the slice index per axis through the centroid of the labelled voxels (or the middle) */
function centre(v: OverlayVolumes): [number, number, number] {
  const [a, b, c] = v.shape;
  let n = 0;
  const s = [0, 0, 0];
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let k = 0; k < c; k++)
        if (v.label[(i * b + j) * c + k] > 0) {
          s[0] += i;
          s[1] += j;
          s[2] += k;
          n++;
        }
  return n ? (s.map((x) => Math.round(x / n)) as [number, number, number]) : [a >> 1, b >> 1, c >> 1];
}

/** a 2-D view: rows top→bottom, cols left→right in radiological display (patient right on the left) */
function slice(
  v: OverlayVolumes,
  view: View,
  at: number,
  arr: ArrayLike<number>,
): { w: number; h: number; get: (x: number, y: number) => number } {
  const [a, b, c] = v.shape;
  const idx = (i: number, j: number, k: number) => (i * b + j) * c + k;
  // axial: x = i (R→L as displayed: i increases toward the patient's right, shown on the left), y = anterior up
  if (view === "axial") return { w: a, h: b, get: (x, y) => arr[idx(a - 1 - x, b - 1 - y, at)] };
  if (view === "coronal") return { w: a, h: c, get: (x, y) => arr[idx(a - 1 - x, at, c - 1 - y)] };
  return { w: b, h: c, get: (x, y) => arr[idx(at, x, c - 1 - y)] };
}

export function overlayPng(v: OverlayVolumes, view: View, scale = 4): Buffer {
  const ctr = centre(v);
  const at = view === "axial" ? ctr[2] : view === "coronal" ? ctr[1] : ctr[0];
  const img = slice(v, view, at, v.image);
  const gt = slice(v, view, at, v.label);
  const pr = slice(v, view, at, v.pred);
  const [lo, hi] = range(v.image);
  const png = new PNG({ width: img.w * scale, height: img.h * scale });
  const edge = (s: typeof gt, x: number, y: number) => {
    const l = s.get(x, y);
    if (l <= 0) return false;
    return (
      x === 0 ||
      y === 0 ||
      x === s.w - 1 ||
      y === s.h - 1 ||
      s.get(x - 1, y) !== l ||
      s.get(x + 1, y) !== l ||
      s.get(x, y - 1) !== l ||
      s.get(x, y + 1) !== l
    );
  };
  for (let y = 0; y < img.h; y++)
    for (let x = 0; x < img.w; x++) {
      const g = Math.round(((img.get(x, y) - lo) / (hi - lo || 1)) * 255);
      let rgb = [g, g, g];
      if (edge(gt, x, y)) rgb = [40, 220, 60];
      if (edge(pr, x, y)) rgb = rgb[1] === 220 ? [255, 220, 0] : [235, 40, 40];
      for (let dy = 0; dy < scale; dy++)
        for (let dx = 0; dx < scale; dx++) {
          const o = ((y * scale + dy) * img.w * scale + x * scale + dx) * 4;
          png.data[o] = rgb[0];
          png.data[o + 1] = rgb[1];
          png.data[o + 2] = rgb[2];
          png.data[o + 3] = 255;
        }
    }
  return PNG.sync.write(png);
}

export const views: View[] = ["axial", "coronal", "sagittal"];
