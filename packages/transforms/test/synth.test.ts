import { isVoxelpipeError, spacingOf } from "@voxelpipe/core";
import { beforeAll, describe, expect, it } from "vitest";
import { gaussianBlur, gaussianKernel } from "../src/synth/filters.js";
import { Ellipsoid, rotation, Tube } from "../src/synth/geometry.js";
import {
  BTCV_CLASS_NAMES,
  BtcvLabel,
  btcvLabelNames,
  generateCase,
  resolveSynthGrid,
  SYNTH_DEFAULT_FOV_MM,
  type SynthCase,
  type SynthCaseInfo,
  synthCaseName,
} from "../src/synth/index.js";

const ORGANS = Object.values(BtcvLabel);
const SIZE = 64;
const info = (c: SynthCase) => c.image.meta.synth as SynthCaseInfo;

function counts(c: SynthCase): number[] {
  const n = new Array(BTCV_CLASS_NAMES.length).fill(0);
  for (const v of c.label.data) n[v]++;
  return n;
}

/** mean voxel index (i, j, k) of one label */
function centroid(c: SynthCase, label: number): [number, number, number] {
  const [, n1, n2] = c.label.shape;
  const s = [0, 0, 0];
  let n = 0;
  c.label.data.forEach((v, idx) => {
    if (v !== label) return;
    s[0] += Math.floor(idx / (n1 * n2));
    s[1] += Math.floor(idx / n2) % n1;
    s[2] += idx % n2;
    n++;
  });
  return [s[0] / n, s[1] / n, s[2] / n];
}

/** HU values of voxels of `label` whose six neighbours carry the same label (no partial-volume blur) */
function interiorHu(c: SynthCase, label: number): number[] {
  const [n0, n1, n2] = c.label.shape;
  const L = c.label.data;
  const out: number[] = [];
  for (let i = 1; i < n0 - 1; i++) {
    for (let j = 1; j < n1 - 1; j++) {
      for (let k = 1; k < n2 - 1; k++) {
        const v = (i * n1 + j) * n2 + k;
        if (L[v] !== label) continue;
        if (L[v + 1] !== label || L[v - 1] !== label || L[v + n2] !== label || L[v - n2] !== label) continue;
        if (L[v + n1 * n2] !== label || L[v - n1 * n2] !== label) continue;
        out.push(c.image.data[v]);
      }
    }
  }
  return out;
}

const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;

/** share of a label's voxels in its largest 26-connected component */
function largestComponentShare(c: SynthCase, label: number): number {
  const [n0, n1, n2] = c.label.shape;
  const L = c.label.data;
  const seen = new Uint8Array(L.length);
  let total = 0;
  let best = 0;
  const stack: number[] = [];
  for (let s = 0; s < L.length; s++) {
    if (L[s] !== label || seen[s]) continue;
    let size = 0;
    stack.push(s);
    seen[s] = 1;
    while (stack.length) {
      const v = stack.pop()!;
      size++;
      const i = Math.floor(v / (n1 * n2));
      const j = Math.floor(v / n2) % n1;
      const k = v % n2;
      for (let di = -1; di <= 1; di++) {
        for (let dj = -1; dj <= 1; dj++) {
          for (let dk = -1; dk <= 1; dk++) {
            const [a, b, d] = [i + di, j + dj, k + dk];
            if (a < 0 || b < 0 || d < 0 || a >= n0 || b >= n1 || d >= n2) continue;
            const w = (a * n1 + b) * n2 + d;
            if (L[w] === label && !seen[w]) {
              seen[w] = 1;
              stack.push(w);
            }
          }
        }
      }
    }
    total += size;
    best = Math.max(best, size);
  }
  return best / total;
}

/**
 * Best Dice for class `a` over every single-threshold rule on raw HU ("a if HU ≤ t" or "a if HU > t"), among
 * the voxels labelled a or b: what an intensity-only classifier can reach at best.
 */
function bestThresholdDice(c: SynthCase, a: number, b: number): number {
  const ha = new Float64Array(4096);
  const hb = new Float64Array(4096);
  c.label.data.forEach((l, v) => {
    if (l === a) ha[c.image.data[v] + 1024]++;
    else if (l === b) hb[c.image.data[v] + 1024]++;
  });
  const na = ha.reduce((s, x) => s + x, 0);
  const nb = hb.reduce((s, x) => s + x, 0);
  let best = 0;
  let ca = 0;
  let cb = 0;
  for (let t = 0; t < 4096; t++) {
    ca += ha[t];
    cb += hb[t];
    best = Math.max(best, (2 * ca) / (na + ca + cb), (2 * (na - ca)) / (na + (na - ca) + (nb - cb)));
  }
  return best;
}

describe("synth geometry and filters", () => {
  it("rotation(90) maps local x to canonical y and is orthonormal", () => {
    const R = rotation(90, 0, 0);
    expect(R[0]).toBeCloseTo(0, 12);
    expect(R[3]).toBeCloseTo(1, 12);
    const R2 = rotation(30, -12, 15);
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        const dot = R2[a] * R2[b] + R2[3 + a] * R2[3 + b] + R2[6 + a] * R2[6 + b];
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 12);
      }
    }
  });

  it("an ellipsoid's normalised radius and box follow its semi-axes and rotation", () => {
    const e = new Ellipsoid([10, 0, 0], [4, 2, 1], rotation(90));
    // local x (semi 4) now points along canonical y
    expect(e.radius(10, 4, 0)).toBeCloseTo(1, 12);
    expect(e.radius(12, 0, 0)).toBeCloseTo(1, 12);
    expect(e.radius(10, 0, 0.5)).toBeCloseTo(0.5, 12);
    expect(e.box.min[0]).toBeCloseTo(8, 12);
    expect(e.box.max[1]).toBeCloseTo(4, 12);
  });

  it("a straight tube's depth is radius minus distance, with the arc-length fraction", () => {
    const t = new Tube(
      [
        [0, 0, 0],
        [0, 0, 100],
      ],
      [10, 10],
    );
    expect(t.depth(3, 4, 50)).toBeCloseTo(5, 9);
    expect(t.t).toBeCloseTo(0.5, 9);
    expect(t.depth(0, 0, 110)).toBeCloseTo(0, 9); // half-sphere cap
    expect(t.depth(30, 0, 50)).toBe(-Infinity); // outside every segment box
  });

  it("the Gaussian kernel is normalised and blurring preserves a constant and the total of an impulse", () => {
    const k = gaussianKernel(0.7);
    expect(k.length).toBe(7);
    expect(k.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 6);
    expect(k[3] / k[4]).toBeCloseTo(Math.exp(0.5 / 0.49), 4);
    const shape: [number, number, number] = [9, 9, 9];
    const flat = new Float32Array(729).fill(40);
    gaussianBlur(flat, shape, [0.7, 0.7, 0.7]);
    expect(Math.max(...flat.map((v) => Math.abs(v - 40)))).toBeLessThan(1e-4);
    const imp = new Float32Array(729);
    imp[(4 * 9 + 4) * 9 + 4] = 1000;
    gaussianBlur(imp, shape, [0.7, 0.7, 0.7]);
    expect(imp.reduce((s, x) => s + x, 0)).toBeCloseTo(1000, 2);
    expect(imp[(4 * 9 + 4) * 9 + 4]).toBeCloseTo(1000 * k[3] ** 3, 2);
  });
});

describe("synth options", () => {
  it("derives spacing from the default field of view and centres the grid at world 0", () => {
    const g = resolveSynthGrid({ size: [64, 60, 56], seed: 0 });
    expect(g.spacing).toEqual([
      SYNTH_DEFAULT_FOV_MM[0] / 64,
      SYNTH_DEFAULT_FOV_MM[1] / 60,
      SYNTH_DEFAULT_FOV_MM[2] / 56,
    ]);
    expect(spacingOf(g.affine)).toEqual(g.spacing.map((s) => expect.closeTo(s, 12)));
    // centre voxel ((n−1)/2) → world 0; positive diagonal (RAS+)
    for (let a = 0; a < 3; a++) {
      expect(g.affine[a * 5]).toBeGreaterThan(0);
      expect(g.affine[a * 4 + 3] + ((g.shape[a] - 1) / 2) * g.spacing[a]).toBeCloseTo(0, 12);
    }
    expect(resolveSynthGrid({ size: 32, seed: 0, spacing: [2, 2, 3] }).spacing).toEqual([2, 2, 3]);
  });

  it.each([
    [{ size: 8, seed: 0 }, "synth.size"],
    [{ size: [64, 64] as unknown as number, seed: 0 }, "synth.size"],
    [{ size: 64, seed: 1.5 }, "synth.seed"],
    [{ size: 64, seed: 0, spacing: [1, -1, 1] as [number, number, number] }, "synth.spacing"],
  ])("rejects bad options with a VP111 diagnostic (%j)", (opts, path) => {
    try {
      generateCase(0, { cases: 1, ...opts });
      expect.unreachable();
    } catch (e) {
      expect(isVoxelpipeError(e)).toBe(true);
      if (!isVoxelpipeError(e)) return;
      expect(e.code).toBe("VP111");
      expect(e.diagnostics[0].path).toBe(path);
      expect(e.diagnostics[0].expected).toBeTruthy();
    }
  });

  it("accepts a non-cubic grid and an explicit spacing (smaller field of view crops the body)", () => {
    const c = generateCase(0, { cases: 1, size: [40, 36, 32], seed: 0, spacing: [6, 6, 6] });
    expect(c.image.shape).toEqual([40, 36, 32]);
    expect(c.label.data.length).toBe(40 * 36 * 32);
    expect(spacingOf(c.image.affine)).toEqual([6, 6, 6]);
    // 240 × 216 mm field: the body (≥ 260 mm wide) fills the left–right extent, so edge voxels are tissue
    const [, n1, n2] = c.image.shape;
    const centreRowLeftEdge = c.image.data[(0 * n1 + n1 / 2) * n2 + n2 / 2];
    expect(centreRowLeftEdge).toBeGreaterThan(-500);
  });

  it("rejects a negative case index", () => {
    expect(() => generateCase(-1, { cases: 1, size: 32, seed: 0 })).toThrow(/index/);
  });

  it("names cases and labels like BTCV", () => {
    expect(synthCaseName(7)).toBe("case_0007");
    expect(btcvLabelNames()).toMatchObject({
      "0": "background",
      "1": "spleen",
      "6": "liver",
      "13": "left adrenal gland",
    });
    expect(Object.keys(btcvLabelNames())).toHaveLength(14);
  });
});

describe("synth phantom (size 64, seed 0, cases 0–3)", () => {
  const cases: SynthCase[] = [];
  beforeAll(() => {
    for (let i = 0; i < 4; i++) cases.push(generateCase(i, { cases: 4, size: SIZE, seed: 0 }));
  });

  it("returns int16 HU and uint8 labels on one RAS grid", () => {
    for (const c of cases) {
      expect(c.image.data).toBeInstanceOf(Int16Array);
      expect(c.label.data).toBeInstanceOf(Uint8Array);
      expect(c.image.shape).toEqual([SIZE, SIZE, SIZE]);
      expect(c.label.shape).toEqual([SIZE, SIZE, SIZE]);
      expect(c.image.channels).toBe(1);
      expect(Array.from(c.image.affine)).toEqual(Array.from(c.label.affine));
      expect(Array.from(c.image.affine)).toEqual(Array.from(resolveSynthGrid({ size: SIZE, seed: 0 }).affine));
      expect(Math.max(...new Set(c.label.data))).toBe(13);
    }
    expect(cases.map((c) => c.name)).toEqual(["case_0000", "case_0001", "case_0002", "case_0003"]);
  });

  it("is deterministic in (seed, index) and varies with either", () => {
    const again = generateCase(2, { cases: 4, size: SIZE, seed: 0 });
    expect(Buffer.from(again.image.data.buffer).equals(Buffer.from(cases[2].image.data.buffer))).toBe(true);
    expect(Buffer.from(again.label.data.buffer).equals(Buffer.from(cases[2].label.data.buffer))).toBe(true);
    expect(info(again)).toEqual(info(cases[2]));
    const otherSeed = generateCase(2, { cases: 4, size: SIZE, seed: 1 });
    const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let n = 0;
      for (let v = 0; v < a.length; v++) if (a[v] !== b[v]) n++;
      return n / a.length;
    };
    expect(diff(otherSeed.label.data, cases[2].label.data)).toBeGreaterThan(0.01);
    expect(diff(otherSeed.image.data, cases[2].image.data)).toBeGreaterThan(0.5);
    expect(diff(cases[1].label.data, cases[2].label.data)).toBeGreaterThan(0.01);
    // the cases differ in anatomy, not only in noise: organ sizes change
    expect(counts(cases[1])[BtcvLabel.liver]).not.toBe(counts(cases[2])[BtcvLabel.liver]);
  });

  it("contains all 13 organs with plausible sizes: liver largest, adrenals smallest yet learnable", () => {
    for (const c of cases) {
      const n = counts(c);
      for (const o of ORGANS) expect(n[o], `${c.name} ${BTCV_CLASS_NAMES[o]}`).toBeGreaterThanOrEqual(40);
      const organCounts = ORGANS.map((o) => n[o]);
      expect(n[BtcvLabel.liver]).toBe(Math.max(...organCounts));
      // liver 3–6 % of the grid, like an abdomen in a 38 cm field of view
      expect(n[BtcvLabel.liver] / SIZE ** 3).toBeGreaterThan(0.025);
      expect(n[BtcvLabel.liver] / SIZE ** 3).toBeLessThan(0.06);
      const others = ORGANS.filter((o) => o !== BtcvLabel.rightAdrenal && o !== BtcvLabel.leftAdrenal).map((o) => n[o]);
      expect(Math.max(n[BtcvLabel.rightAdrenal], n[BtcvLabel.leftAdrenal])).toBeLessThan(Math.min(...others));
      expect(n[BtcvLabel.spleen]).toBeGreaterThan(n[BtcvLabel.pancreas]);
      expect(n[BtcvLabel.stomach]).toBeGreaterThan(n[BtcvLabel.spleen]);
    }
  });

  it("keeps organs apart: each label is mostly visible and in one piece", () => {
    for (const c of cases) {
      const n = counts(c);
      const drawn = info(c).drawnVoxels;
      for (const o of ORGANS) {
        // at most 40 % of an organ's own shape is covered by neighbours (vessels through the liver, etc.)
        expect(n[o] / drawn[o], `${c.name} ${BTCV_CLASS_NAMES[o]} visible share`).toBeGreaterThan(0.6);
        expect(largestComponentShare(c, o), `${c.name} ${BTCV_CLASS_NAMES[o]} largest piece`).toBeGreaterThan(0.9);
      }
    }
  });

  it("follows RAS+ anatomy: liver right (high i), spleen left, kidneys paired, gut anterior, esophagus high", () => {
    for (const c of cases) {
      const C = (o: number) => centroid(c, o);
      expect(C(BtcvLabel.liver)[0]).toBeGreaterThan(SIZE / 2);
      expect(C(BtcvLabel.spleen)[0]).toBeLessThan(SIZE / 2);
      expect(C(BtcvLabel.rightKidney)[0]).toBeGreaterThan(SIZE / 2);
      expect(C(BtcvLabel.leftKidney)[0]).toBeLessThan(SIZE / 2);
      expect(C(BtcvLabel.ivc)[0]).toBeGreaterThan(C(BtcvLabel.aorta)[0]);
      expect(C(BtcvLabel.rightAdrenal)[0]).toBeGreaterThan(C(BtcvLabel.leftAdrenal)[0]);
      // anterior structures have larger j than the retroperitoneal ones
      expect(C(BtcvLabel.stomach)[1]).toBeGreaterThan(C(BtcvLabel.leftKidney)[1]);
      expect(C(BtcvLabel.gallbladder)[1]).toBeGreaterThan(C(BtcvLabel.rightKidney)[1]);
      expect(C(BtcvLabel.aorta)[1]).toBeLessThan(C(BtcvLabel.pancreas)[1]);
      // craniocaudal: adrenals above the kidneys, esophagus only in the upper slices, right kidney lower
      expect(C(BtcvLabel.rightAdrenal)[2]).toBeGreaterThan(C(BtcvLabel.rightKidney)[2]);
      expect(C(BtcvLabel.leftAdrenal)[2]).toBeGreaterThan(C(BtcvLabel.leftKidney)[2]);
      expect(C(BtcvLabel.rightKidney)[2]).toBeLessThan(C(BtcvLabel.leftKidney)[2]);
      const [, n1, n2] = c.label.shape;
      let lowest = n2;
      c.label.data.forEach((v, idx) => {
        if (v === BtcvLabel.esophagus) lowest = Math.min(lowest, idx % n2);
      });
      expect(lowest / n2).toBeGreaterThan(0.55);
      expect(n1).toBe(SIZE);
    }
  });

  it("organ intensities sit near the case's intended HU, and air outside the body near −1000", () => {
    for (const c of cases) {
      const { organHu, noiseSigma } = info(c);
      for (const [o, want] of Object.entries(organHu)) {
        const hu = interiorHu(c, Number(o));
        if (hu.length < 20) continue; // thin organs have no interior at this size
        expect(Math.abs(mean(hu) - want), `${c.name} ${BTCV_CLASS_NAMES[Number(o)]}`).toBeLessThan(25);
      }
      expect(interiorHu(c, BtcvLabel.liver).length).toBeGreaterThan(2000);
      // an 8³ block at the anterior-left-inferior corner is outside the body: air plus noise (clamped at −1024)
      const air: number[] = [];
      for (let i = 0; i < 8; i++) {
        for (let j = SIZE - 8; j < SIZE; j++)
          for (let k = 0; k < 8; k++) air.push(c.image.data[(i * SIZE + j) * SIZE + k]);
      }
      expect(Math.abs(mean(air) + 1000)).toBeLessThan(4);
      const sd = Math.sqrt(mean(air.map((v) => (v - mean(air)) ** 2)));
      expect(sd).toBeGreaterThan(0.75 * noiseSigma);
      expect(sd).toBeLessThan(1.1 * noiseSigma);
      expect(noiseSigma).toBeGreaterThanOrEqual(10);
      expect(noiseSigma).toBeLessThanOrEqual(20);
    }
  });

  it("parenchymal organs overlap in HU: intensity alone cannot separate them", () => {
    const hu = cases.map(info).map((i) => i.hu);
    for (const h of hu) {
      const vals = [h.liver, h.spleen, h.pancreas, h.kidney];
      expect(Math.max(...vals) - Math.min(...vals)).toBeLessThan(45);
    }
    // the order of liver and spleen brightness is not fixed across cases
    const liverMinusSpleen = Array.from({ length: 12 }, (_, i) => {
      const h = info(generateCase(i, { cases: 12, size: 16, seed: 3 })).hu;
      return h.liver - h.spleen;
    });
    expect(Math.min(...liverMinusSpleen)).toBeLessThan(0);
    expect(Math.max(...liverMinusSpleen)).toBeGreaterThan(0);
    for (const c of cases) {
      // best single-threshold Dice on raw HU: poor for organ pairs, high for a real contrast (aorta; its thin
      // blurred rim keeps it below 1 at this size)
      expect(bestThresholdDice(c, BtcvLabel.spleen, BtcvLabel.liver), `${c.name} spleen|liver`).toBeLessThan(0.7);
      expect(bestThresholdDice(c, BtcvLabel.pancreas, BtcvLabel.liver), `${c.name} pancreas|liver`).toBeLessThan(0.7);
      expect(bestThresholdDice(c, BtcvLabel.pancreas, BtcvLabel.spleen), `${c.name} pancreas|spleen`).toBeLessThan(0.7);
      expect(bestThresholdDice(c, BtcvLabel.rightKidney, BtcvLabel.liver), `${c.name} kidney|liver`).toBeLessThan(0.8);
      expect(bestThresholdDice(c, BtcvLabel.aorta, BtcvLabel.liver), `${c.name} aorta|liver`).toBeGreaterThan(0.8);
    }
  });

  it("changes only sampling, not anatomy, with the grid: a 32³ case matches the 64³ case's organ volumes", () => {
    const small = generateCase(0, { cases: 1, size: 32, seed: 0 });
    const big = counts(cases[0]);
    const sm = counts(small);
    for (const o of [
      BtcvLabel.liver,
      BtcvLabel.stomach,
      BtcvLabel.spleen,
      BtcvLabel.rightKidney,
      BtcvLabel.leftKidney,
    ]) {
      // volumes in mm³ agree within 15 % (voxels are 8× larger at 32³)
      expect(Math.abs((sm[o] * 8) / big[o] - 1), BTCV_CLASS_NAMES[o]).toBeLessThan(0.15);
    }
    expect(info(small).hu).toEqual(info(cases[0]).hu);
  });
});
