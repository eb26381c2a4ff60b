import { describe, expect, it } from "vitest";
import { seeded } from "../../../test-utils/random.js";
import { computeHausdorffDistance, hausdorffDistance, percentileDistance } from "../src/hausdorff.js";
import { torchQuantile } from "../src/quantile.js";
import { maskEdges } from "../src/surface.js";
import { computeSurfaceDice } from "../src/surface-dice.js";
import { bruteDistances, bruteEdges, brutePercentile, randomBlobMask, type Vec3 as Shape } from "./helpers.js";

describe("surface voxels (MONAI get_mask_edges: mask XOR erosion)", () => {
  it("a 3×3×3 cube has 26 surface voxels, its centre is interior; the grid border counts as outside", () => {
    const m = new Uint8Array(125);
    for (let i = 1; i < 4; i++) for (let j = 1; j < 4; j++) for (let k = 1; k < 4; k++) m[(i * 5 + j) * 5 + k] = 1;
    const e = maskEdges(m, [5, 5, 5]);
    expect(e.reduce((a, x) => a + x, 0)).toBe(26);
    expect(e[(2 * 5 + 2) * 5 + 2]).toBe(0);
    const full = maskEdges(new Uint8Array(27).fill(1), [3, 3, 3]);
    expect(full.reduce((a, x) => a + x, 0)).toBe(26);
  });
  it("2-D grids (rank 2) use 4-connectivity, not the padded axis", () => {
    const m = new Uint8Array(25);
    for (let j = 1; j < 4; j++) for (let k = 1; k < 4; k++) m[j * 5 + k] = 1;
    expect(maskEdges(m, [1, 5, 5], 2).reduce((a, x) => a + x, 0)).toBe(8);
    expect(maskEdges(m, [1, 5, 5], 3).reduce((a, x) => a + x, 0)).toBe(9); // a real 1-thick 3-D slab
  });
  it("equals the brute-force definition on random masks", () => {
    const rnd = seeded(9);
    const shape: Shape = [7, 8, 6];
    for (let t = 0; t < 5; t++) {
      const m = randomBlobMask(shape, rnd, 0.1);
      expect(Array.from(maskEdges(m, shape))).toEqual(Array.from(bruteEdges(m, shape)));
    }
  });
});

describe("torch.quantile semantics", () => {
  it("linear interpolation at rank q·(n−1) in float32", () => {
    expect(torchQuantile(Float32Array.from([3, 1, 2, 4]), 0.5)).toBe(2.5);
    // rank 0.95·4 = 3.8 → 4 + 0.8·(10 − 4)
    expect(torchQuantile(Float32Array.from([1, 2, 3, 4, 10]), 0.95)).toBeCloseTo(8.8, 5);
    expect(torchQuantile(Float32Array.from([7]), 0.95)).toBe(7);
  });
  it("all +inf → NaN (inf − inf inside lerp), as MONAI's HD95 returns for a class missing on one side", () => {
    expect(Number.isNaN(torchQuantile(Float32Array.from([Infinity, Infinity]), 0.95))).toBe(true);
    expect(percentileDistance(Float32Array.from([Infinity, Infinity]))).toBe(Infinity);
    expect(Number.isNaN(percentileDistance(new Float32Array(0), 95))).toBe(true);
  });
});

describe("Hausdorff distance by hand", () => {
  const shape: Shape = [8, 4, 4];
  const cube = (i0: number) => {
    const m = new Uint8Array(128);
    for (let i = i0; i < i0 + 2; i++)
      for (let j = 1; j < 3; j++) for (let k = 1; k < 3; k++) m[(i * 4 + j) * 4 + k] = 1;
    return m;
  };
  it("two 2×2×2 cubes 3 voxels apart along axis 0: HD = 3·s0", () => {
    // both cubes are all surface; A at i∈{1,2}, B at i∈{4,5}: A's i=2 layer is 2 from B, its i=1 layer 3;
    // symmetric, so the maximum is 3 voxels
    expect(hausdorffDistance(cube(1), cube(4), shape)).toBeCloseTo(3, 6);
    expect(hausdorffDistance(cube(1), cube(4), shape, { spacing: [1.5, 1, 1] })).toBeCloseTo(4.5, 6);
    // percentile 50 of d(A→B) = [3,3,3,3,2,2,2,2] sorted → rank 3.5 → 2.5; symmetric: both 2.5
    expect(hausdorffDistance(cube(1), cube(4), shape, { percentile: 50 })).toBeCloseTo(2.5, 6);
  });
  it("empty sides: pred empty → inf (max) / NaN (percentile); both empty → NaN; directed uses pred → gt only", () => {
    const empty = new Uint8Array(128);
    expect(hausdorffDistance(empty, cube(4), shape)).toBe(Infinity);
    expect(hausdorffDistance(cube(1), empty, shape)).toBe(Infinity);
    expect(Number.isNaN(hausdorffDistance(empty, cube(4), shape, { percentile: 95 }))).toBe(true);
    expect(Number.isNaN(hausdorffDistance(empty, empty, shape))).toBe(true);
    const small = new Uint8Array(128);
    small[(2 * 4 + 1) * 4 + 1] = 1; // one voxel of cube(1)
    expect(hausdorffDistance(small, cube(1), shape, { directed: true })).toBe(0);
    expect(hausdorffDistance(small, cube(1), shape)).toBeCloseTo(Math.sqrt(3), 6);
  });
});

describe("Hausdorff and surface Dice vs brute force on random masks, anisotropic spacing", () => {
  const rnd = seeded(21);
  for (let t = 0; t < 6; t++) {
    const shape: Shape = [5 + Math.floor(rnd() * 6), 5 + Math.floor(rnd() * 6), 4 + Math.floor(rnd() * 6)];
    const sp: Shape = [0.5 + rnd() * 2, 0.5 + rnd() * 2, 0.5 + rnd() * 2];
    const p = randomBlobMask(shape, rnd, 0.05);
    const g = randomBlobMask(shape, rnd, 0.05);
    it(`case ${t}: ${shape.join("×")} @ ${sp.map((s) => s.toFixed(2)).join(",")}`, () => {
      const ep = bruteEdges(p, shape);
      const eg = bruteEdges(g, shape);
      const dpg = bruteDistances(ep, eg, shape, sp);
      const dgp = bruteDistances(eg, ep, shape, sp);
      const hd = Math.max(Math.max(...dpg), Math.max(...dgp));
      expect(hausdorffDistance(p, g, shape, { spacing: sp })).toBeCloseTo(hd, 5);
      for (const q of [95, 50, 99]) {
        const want = Math.max(brutePercentile(dpg, q), brutePercentile(dgp, q));
        expect(Math.abs(hausdorffDistance(p, g, shape, { spacing: sp, percentile: q }) - want)).toBeLessThan(1e-5);
      }
      expect(
        Math.abs(
          hausdorffDistance(p, g, shape, { spacing: sp, percentile: 95, directed: true }) - brutePercentile(dpg, 95),
        ),
      ).toBeLessThan(1e-5);
      // surface Dice at two tolerances through the batch API (binary one-hot channels [bg, fg])
      const oh = (m: Uint8Array) => ({
        data: Uint8Array.from({ length: m.length * 2 }, (_, i) => (i % 2 === 1 ? m[i >> 1] : 1 - m[i >> 1])),
        shape: [1, ...shape, 2],
      });
      for (const tau of [1, 2.2]) {
        const want =
          (dpg.filter((d) => d <= tau).length + dgp.filter((d) => d <= tau).length) / (dpg.length + dgp.length);
        const got = computeSurfaceDice(oh(p), oh(g), { class_thresholds: [tau], spacing: sp });
        expect(got.data[0]).toBeCloseTo(want, 10);
      }
    });
  }
});

describe("batch API on a multi-class label map (values from scipy + MONAI's formulas)", () => {
  // grid 20×22×18, spacing (0.8, 1.2, 2.5); reference numbers computed with scipy.ndimage (binary_erosion,
  // distance_transform_edt) and torch.quantile's float32 rank/lerp, i.e. MONAI 1.4's code path
  const S: Shape = [20, 22, 18];
  const sp: Shape = [0.8, 1.2, 2.5];
  const pred = new Float32Array(S[0] * S[1] * S[2]);
  const gt = new Float32Array(pred.length);
  const idx = (i: number, j: number, k: number) => (i * S[1] + j) * S[2] + k;
  for (let i = 0; i < S[0]; i++)
    for (let j = 0; j < S[1]; j++)
      for (let k = 0; k < S[2]; k++) {
        if ((i - 9) ** 2 + (j - 10) ** 2 + (k - 8) ** 2 <= 25) pred[idx(i, j, k)] = 1;
        if ((i - 10) ** 2 * 100 + (j - 11) ** 2 * 225 + (k - 8) ** 2 * 144 <= 3600) gt[idx(i, j, k)] = 1;
        if (i >= 2 && i < 6 && j >= 14 && j < 20 && k >= 2 && k < 7) pred[idx(i, j, k)] = 2;
        if (i >= 3 && i < 7 && j >= 15 && j < 21 && k >= 3 && k < 9) gt[idx(i, j, k)] = 2;
        if (i < 2 && j < 2 && k < 2) gt[idx(i, j, k)] = 4; // class 4: ground truth only
      }
  pred[idx(18, 2, 16)] = 3; // class 3: prediction only
  const P = { data: pred, shape: [1, ...S, 1] };
  const G = { data: gt, shape: [1, ...S, 1] };
  const expectRow = (got: Float64Array, want: number[], atol: number) =>
    want.forEach((w, c) => {
      if (Number.isNaN(w)) expect(Number.isNaN(got[c])).toBe(true);
      else if (!Number.isFinite(w)) expect(got[c]).toBe(w);
      else expect(Math.abs(got[c] - w)).toBeLessThan(atol);
    });

  it("HD (max), HD95 and directed HD95", () => {
    const o = { num_classes: 5, spacing: sp };
    expectRow(
      computeHausdorffDistance(P, G, o).data,
      [2.5298221111297607, 5.2038445472717285, Infinity, Infinity],
      1e-6,
    );
    expectRow(
      computeHausdorffDistance(P, G, { ...o, percentile: 95 }).data,
      [2.4000000953674316, 5.063595771789551, NaN, NaN],
      1e-6,
    );
    expectRow(
      computeHausdorffDistance(P, G, { ...o, percentile: 95, directed: true }).data,
      [2.4000000953674316, 2.6248810291290283, NaN, NaN],
      1e-6,
    );
  });
  it("surface Dice at τ = 1.0 and 2.5 mm (0 when one side is empty)", () => {
    const nsd = (t: number) =>
      computeSurfaceDice(P, G, { num_classes: 5, spacing: sp, class_thresholds: [t, t, t, t] }).data;
    expectRow(nsd(1.0), [0.6227678571428571, 0.5384615384615384, 0, 0], 1e-12);
    expectRow(nsd(2.5), [0.9933035714285714, 0.7980769230769231, 0, 0], 1e-12);
  });
  it("both classes absent → NaN; include_background adds class 0", () => {
    const r = computeHausdorffDistance(P, G, { num_classes: 6, spacing: sp, include_background: true });
    expect(r.classes).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Number.isNaN(r.data[5])).toBe(true);
    expect(Number.isFinite(r.data[0])).toBe(true);
  });
  it("clear errors: label maps without num_classes, wrong spacing length, wrong threshold count", () => {
    expect(() => computeHausdorffDistance(P, G)).toThrow(/label maps need num_classes/);
    expect(() => computeHausdorffDistance(P, G, { num_classes: 5, spacing: [1, 1] })).toThrow(/spacing/);
    expect(() => computeSurfaceDice(P, G, { num_classes: 5, class_thresholds: [1] })).toThrow(
      /one tolerance per reported class/,
    );
  });
});
