import { ERROR_COLORS } from "./organs.js";

/**
 * The per-organ error map of a prediction against its ground truth, voxel by voxel on one grid:
 * 0 = agree, k (1..K−1) = organ k missed (ground truth k, prediction differs: false negative of k),
 * K + k = organ k extra (prediction k, ground truth differs: false positive of k). A voxel where truth is j and
 * prediction is k (both organs) is a false negative of j and a false positive of k; the map keeps the false
 * negative (the organ the reader is looking for) and `counts` still counts both.
 */
export function errorMap(
  prediction: ArrayLike<number>,
  truth: ArrayLike<number>,
  classes: number,
): { map: Uint8Array; missed: number[]; extra: number[] } {
  if (prediction.length !== truth.length) throw new Error("prediction and ground truth are on different grids");
  if (2 * classes > 256) throw new Error(`the error view supports up to 128 classes (got ${classes})`);
  const map = new Uint8Array(truth.length);
  const missed = new Array(classes).fill(0);
  const extra = new Array(classes).fill(0);
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = prediction[i];
    if (t === p) continue;
    if (p > 0 && p < classes) {
      extra[p]++;
      map[i] = classes + p;
    }
    if (t > 0 && t < classes) {
      missed[t]++;
      map[i] = t;
    }
  }
  return { map, missed, extra };
}

/**
 * A NiiVue label colour map for the error map: missed voxels blue, extra voxels orange; with `only`, the other
 * organs' errors are transparent (the per-organ error view).
 */
export function errorColormap(
  classes: string[],
  only: number | null,
): { R: number[]; G: number[]; B: number[]; A: number[]; I: number[]; labels: string[] } {
  const K = classes.length;
  const cm = { R: [0], G: [0], B: [0], A: [0], I: [0], labels: ["agree"] };
  for (const [kind, rgb, offset] of [
    ["missed", ERROR_COLORS.missed, 0],
    ["extra", ERROR_COLORS.extra, K],
  ] as const) {
    for (let k = 1; k < K; k++) {
      cm.R.push(rgb[0]);
      cm.G.push(rgb[1]);
      cm.B.push(rgb[2]);
      cm.A.push(only === null || only === k ? 255 : 0);
      cm.I.push(offset + k);
      cm.labels.push(`${classes[k]} ${kind}`);
    }
  }
  return cm;
}

/** a NiiVue label colour map for the organ classes; with `only`, the other organs are transparent */
export function organColormap(
  classes: string[],
  color: (i: number) => [number, number, number],
  only: number | null,
): { R: number[]; G: number[]; B: number[]; A: number[]; I: number[]; labels: string[] } {
  const cm = { R: [] as number[], G: [] as number[], B: [] as number[], A: [] as number[], I: [] as number[] };
  classes.forEach((_, i) => {
    const c = color(i);
    cm.R.push(c[0]);
    cm.G.push(c[1]);
    cm.B.push(c[2]);
    cm.A.push(i === 0 || (only !== null && only !== i) ? 0 : 255);
    cm.I.push(i);
  });
  return { ...cm, labels: [...classes] };
}
