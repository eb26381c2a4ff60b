import { describe, expect, it } from "vitest";
import { seeded } from "../../../test-utils/random.js";
import { distanceToFeatures, squaredDistanceToFeatures } from "../src/edt.js";
import { bruteDistances, coords, type Vec3 } from "./helpers.js";

describe("exact Euclidean distance transform (Felzenszwalb–Huttenlocher, anisotropic)", () => {
  it("a single feature on a 3×4×5 grid: squared distances by hand", () => {
    const shape: Vec3 = [3, 4, 5];
    const f = new Uint8Array(60);
    f[(1 * 4 + 2) * 5 + 3] = 1; // feature at (1, 2, 3)
    const sp: Vec3 = [2, 0.5, 1.5];
    const d2 = squaredDistanceToFeatures(f, shape, sp);
    coords(shape).forEach(([i, j, k], v) => {
      const want = ((i - 1) * 2) ** 2 + ((j - 2) * 0.5) ** 2 + ((k - 3) * 1.5) ** 2;
      expect(d2[v]).toBeCloseTo(want, 12);
    });
    expect(d2[0]).toBeCloseTo(4 + 1 + 20.25, 12); // voxel (0,0,0)
  });

  it("no feature → +Infinity everywhere", () => {
    const d = distanceToFeatures(new Uint8Array(24), [2, 3, 4]);
    expect(d.every((x) => x === Number.POSITIVE_INFINITY)).toBe(true);
  });

  for (const [seed, shape, sp, density] of [
    [1, [7, 9, 6], [1, 1, 1], 0.05],
    [2, [8, 5, 11], [0.7, 1.9, 3.1], 0.03],
    [3, [1, 13, 12], [1, 0.8, 1.25], 0.02], // a 2-D slice padded to 3-D
    [4, [10, 1, 9], [2.5, 1, 0.6], 0.1],
    [5, [6, 6, 6], [1.5, 1.5, 2], 0.004], // a single or very few features: long distances
  ] as [number, Vec3, Vec3, number][]) {
    it(`random features, grid ${shape.join("×")}, spacing ${sp.join(",")}: equals brute force over all pairs (float64)`, () => {
      const rnd = seeded(seed);
      const n = shape[0] * shape[1] * shape[2];
      const f = Uint8Array.from({ length: n }, () => (rnd() < density ? 1 : 0));
      if (!f.some((x) => x)) f[Math.floor(n / 3)] = 1;
      const got = distanceToFeatures(f, shape, sp);
      const all = new Uint8Array(n).fill(1);
      const want = bruteDistances(all, f, shape, sp);
      let maxErr = 0;
      for (let v = 0; v < n; v++) maxErr = Math.max(maxErr, Math.abs(got[v] - want[v]));
      expect(maxErr).toBeLessThan(1e-12);
    });
  }
});
