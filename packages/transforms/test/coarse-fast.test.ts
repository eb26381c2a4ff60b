import { RandomState, type Volume, type VoxelArray } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { coarseDropout, coarseShuffle, type FillValue, type Hole, sampleHoles } from "../src/transforms/coarse.js";
import { minMax } from "../src/transforms/sample.js";
import { vol } from "./transforms-util.js";

/**
 * The batched coarse transforms (row-wise fillUniform, skipped draws under the outer cutout's boxes,
 * gather/shuffle/scatter) against the plain per-voxel formulation of MONAI's _transform_holes: one
 * scalar draw per voxel, per hole, channel-major C order. Outputs must be identical bit for bit and
 * leave the stream in the same state.
 */
function eachInHole(v: Volume, h: Hole, c: number, fn: (p: number) => void): void {
  const [, n1, n2] = v.shape;
  for (let i = h.start[0]; i < h.start[0] + h.extent[0]; i++)
    for (let j = h.start[1]; j < h.start[1] + h.extent[1]; j++)
      for (let k = 0; k < h.extent[2]; k++) fn(((i * n1 + j) * n2 + h.start[2] + k) * v.channels + c);
}

function refRange(a: ArrayLike<number>): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < a.length; i++) {
    if (a[i] < lo) lo = a[i];
    if (a[i] > hi) hi = a[i];
  }
  return [lo, hi];
}

function refDropout(v: Volume, holes: Hole[], dropoutHoles: boolean, fill: FillValue, rng: RandomState): VoxelArray {
  const range = fill === null ? refRange(v.data) : Array.isArray(fill) ? fill : null;
  const data = v.data.slice();
  const C = v.channels;
  const draw = () => (range ? rng.uniform(range[0], range[1]) : (fill as number));
  if (dropoutHoles) {
    for (const h of holes) for (let c = 0; c < C; c++) eachInHole(v, h, c, (p) => (data[p] = draw()));
    return data;
  }
  const n = data.length / C;
  for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) data[i * C + c] = draw();
  for (const h of holes) for (let c = 0; c < C; c++) eachInHole(v, h, c, (p) => (data[p] = v.data[p]));
  return data;
}

function refShuffle(v: Volume, holes: Hole[], rng: RandomState): VoxelArray {
  const data = v.data.slice();
  const w = { ...v, data };
  for (const h of holes) {
    for (let c = 0; c < v.channels; c++) {
      const idx: number[] = [];
      eachInHole(w, h, c, (p) => idx.push(p));
      const vals = idx.map((p) => data[p]);
      for (let i = vals.length - 1; i > 0; i--) {
        const j = rng.randint(0, i + 1);
        [vals[i], vals[j]] = [vals[j], vals[i]];
      }
      for (let t = 0; t < idx.length; t++) data[idx[t]] = vals[t];
    }
  }
  return data;
}

/** index of the first byte where a and b differ (-1: identical bits); a cheap check on big arrays */
function firstDiff(a: VoxelArray, b: VoxelArray): number {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

function randomVolume(
  seed: number,
  shape: [number, number, number],
  channels: number,
  Ctor: typeof Float32Array | typeof Float64Array | typeof Int16Array,
): Volume {
  const r = new RandomState(seed);
  const n = shape[0] * shape[1] * shape[2] * channels;
  const data = new Ctor(n);
  for (let i = 0; i < n; i++) data[i] = Ctor === Int16Array ? r.randint(-1000, 3000) : r.uniform(-2, 5);
  return vol(data, shape, { channels, Ctor: Ctor as never });
}

describe("batched coarse transforms equal the per-voxel formulation", () => {
  const shapes: [number, number, number][] = [
    [23, 17, 29],
    [40, 33, 31],
  ];
  const cases: [string, boolean, FillValue, { holes: number; spatialSize: number; maxSpatialSize: number }][] = [
    ["inner, image range", true, null, { holes: 6, spatialSize: 3, maxSpatialSize: 16 }],
    ["outer, image range", false, null, { holes: 6, spatialSize: 5, maxSpatialSize: 30 }],
    ["outer, [lo, hi]", false, [-1, 2], { holes: 4, spatialSize: 2, maxSpatialSize: 12 }],
    ["outer, constant", false, 3, { holes: 5, spatialSize: 4, maxSpatialSize: 20 }],
    ["inner, constant", true, -7, { holes: 6, spatialSize: 2, maxSpatialSize: 9 }],
  ];
  for (const [name, dropoutHoles, fill, spec] of cases) {
    it(`RandCoarseDropout ${name}: 1 and 2 channels, float32 / float64 / int16, many seeds`, () => {
      for (const shape of shapes)
        for (const channels of [1, 2])
          for (const Ctor of [Float32Array, Float64Array, Int16Array])
            for (const seed of [0, 1, 2, 3, 7, 11]) {
              const v = randomVolume(seed + 100, shape, channels, Ctor);
              const before = v.data.slice();
              const a = new RandomState(seed);
              const b = new RandomState(seed);
              const holes = sampleHoles(a, shape, spec);
              expect(sampleHoles(b, shape, spec)).toEqual(holes);
              const got = coarseDropout(v, holes, dropoutHoles, fill, a).data;
              const want = refDropout(v, holes, dropoutHoles, fill, b);
              expect(got.constructor).toBe(want.constructor);
              expect(firstDiff(got, want)).toBe(-1);
              expect(a.nextUint32()).toBe(b.nextUint32());
              expect(firstDiff(v.data, before)).toBe(-1); // the input is not modified
            }
    });
  }

  it("RandCoarseShuffle: fixed and growing boxes, 1 and 2 channels, several dtypes", () => {
    for (const shape of shapes)
      for (const channels of [1, 2])
        for (const Ctor of [Float32Array, Float64Array, Int16Array])
          for (const seed of [0, 1, 5, 9]) {
            const v = randomVolume(seed + 7, shape, channels, Ctor);
            const before = v.data.slice();
            for (const spec of [
              { holes: 10, spatialSize: 8 },
              { holes: 3, spatialSize: 2, maxHoles: 6, maxSpatialSize: 19 },
            ]) {
              const a = new RandomState(seed);
              const b = new RandomState(seed);
              const holes = sampleHoles(a, shape, spec);
              sampleHoles(b, shape, spec);
              expect(firstDiff(coarseShuffle(v, holes, a).data, refShuffle(v, holes, b))).toBe(-1);
              expect(a.nextUint32()).toBe(b.nextUint32());
            }
            expect(firstDiff(v.data, before)).toBe(-1);
          }
  });

  it("image range: the fast min/max equals the compare loop, signed zeros and NaNs included", () => {
    const arrays: number[][] = [
      [3, 1, 2],
      [0, -0, 1],
      [-0, 0, 1],
      [1, 2, -0, 0],
      [-1, 0, -0],
      [-1, -0, 0],
      [0, 0],
      [-0],
      [Number.NaN, 1, 2],
      [1, Number.NaN, -0, 0, 2],
      [Number.NaN],
      [],
      [5, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
    ];
    for (const a of arrays)
      for (const arr of [Float32Array.from(a), Float64Array.from(a)]) {
        const [lo, hi] = minMax(arr);
        const [rlo, rhi] = refRange(arr);
        expect(Object.is(lo, rlo) && Object.is(hi, rhi)).toBe(true);
      }
  });

  it("outer cutout keeps signed zeros of the fill range exactly (min is a zero)", () => {
    const v = randomVolume(4, [20, 20, 20], 1, Float32Array);
    const d = v.data as Float32Array;
    for (let i = 0; i < d.length; i += 17) d[i] = Math.abs(d[i]);
    d[5] = -0;
    d[9] = 0;
    for (let i = 0; i < d.length; i++) if (d[i] < 0) d[i] = 0;
    const a = new RandomState(2);
    const b = new RandomState(2);
    const spec = { holes: 6, spatialSize: 3, maxSpatialSize: 12 };
    const holes = sampleHoles(a, v.shape, spec);
    sampleHoles(b, v.shape, spec);
    expect(firstDiff(coarseDropout(v, holes, false, null, a).data, refDropout(v, holes, false, null, b))).toBe(-1);
  });
});
