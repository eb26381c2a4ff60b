export type Vec3 = [number, number, number];

export function coords(shape: Vec3): Vec3[] {
  const out: Vec3[] = [];
  for (let i = 0; i < shape[0]; i++)
    for (let j = 0; j < shape[1]; j++) for (let k = 0; k < shape[2]; k++) out.push([i, j, k]);
  return out;
}

/** surface voxels by definition: in the mask with a 6-neighbour outside the mask or outside the grid */
export function bruteEdges(mask: ArrayLike<number>, shape: Vec3): Uint8Array {
  const at = (i: number, j: number, k: number) =>
    i >= 0 && j >= 0 && k >= 0 && i < shape[0] && j < shape[1] && k < shape[2]
      ? mask[(i * shape[1] + j) * shape[2] + k]
      : 0;
  const out = new Uint8Array(mask.length);
  coords(shape).forEach(([i, j, k], v) => {
    if (!mask[v]) return;
    const nb = [at(i - 1, j, k), at(i + 1, j, k), at(i, j - 1, k), at(i, j + 1, k), at(i, j, k - 1), at(i, j, k + 1)];
    if (nb.some((x) => !x)) out[v] = 1;
  });
  return out;
}

/** distances (float64) from each `from` voxel to the nearest `to` voxel, by checking all pairs */
export function bruteDistances(from: ArrayLike<number>, to: ArrayLike<number>, shape: Vec3, sp: Vec3): number[] {
  const cs = coords(shape);
  const tos = cs.filter((_, v) => to[v]);
  const out: number[] = [];
  cs.forEach((a, v) => {
    if (!from[v]) return;
    let best = Number.POSITIVE_INFINITY;
    for (const b of tos) {
      const d = ((a[0] - b[0]) * sp[0]) ** 2 + ((a[1] - b[1]) * sp[1]) ** 2 + ((a[2] - b[2]) * sp[2]) ** 2;
      if (d < best) best = d;
    }
    out.push(Math.sqrt(best));
  });
  return out;
}

/** numpy-style linear percentile in float64 */
export function brutePercentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const r = (p / 100) * (s.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return s[lo] + (r - lo) * (s[hi] - s[lo]);
}

export function randomBlobMask(shape: Vec3, rnd: () => number, density: number): Uint8Array {
  // union of a few random boxes plus speckles: irregular surfaces with holes
  const m = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (let n = 0; n < 3; n++) {
    const lo = shape.map((s) => Math.floor(rnd() * s));
    const hi = lo.map((l, a) => Math.min(shape[a], l + 1 + Math.floor(rnd() * shape[a] * 0.6)));
    for (let i = lo[0]; i < hi[0]; i++)
      for (let j = lo[1]; j < hi[1]; j++) for (let k = lo[2]; k < hi[2]; k++) m[(i * shape[1] + j) * shape[2] + k] = 1;
  }
  for (let v = 0; v < m.length; v++) if (rnd() < density) m[v] ^= 1;
  return m;
}
