import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BTCV_CLASS_NAMES, readNifti, writeNifti } from "@voxelpipe/transforms";
import { describe, expect, it } from "vitest";
import { sharedOrSkip, sharedPath } from "../../../test-utils/gates.js";
import { cli, tmp } from "./helpers.js";

const TS = sharedPath("data", "totalseg");
const need = sharedOrSkip("data/totalseg/example_seg_fast.nii.gz", "data/totalseg/example_seg.nii.gz");
// TotalSegmentator value → BTCV class (data README)
const BTCV: Record<number, number> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  15: 5,
  5: 6,
  6: 7,
  52: 8,
  63: 9,
  64: 10,
  7: 11,
  8: 12,
  9: 13,
};
const NAMES = BTCV_CLASS_NAMES;

/** independent reference: surface = mask minus its 6-connected erosion; brute-force nearest distances; torch-style quantile */
function edges(m: Uint8Array, [a, b, c]: number[]): number[][] {
  const out: number[][] = [];
  const at = (i: number, j: number, k: number) =>
    i < 0 || j < 0 || k < 0 || i >= a || j >= b || k >= c ? 0 : m[(i * b + j) * c + k];
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let k = 0; k < c; k++) {
        if (!at(i, j, k)) continue;
        if (
          !(
            at(i - 1, j, k) &&
            at(i + 1, j, k) &&
            at(i, j - 1, k) &&
            at(i, j + 1, k) &&
            at(i, j, k - 1) &&
            at(i, j, k + 1)
          )
        )
          out.push([i, j, k]);
      }
  return out;
}
function nearest(from: number[][], to: number[][], sp: number[]): number[] {
  return from.map((p) => {
    let best = Number.POSITIVE_INFINITY;
    for (const q of to) {
      const d = ((p[0] - q[0]) * sp[0]) ** 2 + ((p[1] - q[1]) * sp[1]) ** 2 + ((p[2] - q[2]) * sp[2]) ** 2;
      if (d < best) best = d;
    }
    return Math.fround(Math.sqrt(best));
  });
}
function quantile(v: number[], q: number): number {
  const s = [...v].sort((x, y) => x - y);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}

describe.skipIf(!need.ok)(need.title("voxelpipe evaluate on two raters of the real CT"), () => {
  it("prints per-organ Dice and HD95 equal to an independent computation, and writes CSV/JSON", async () => {
    const dir = tmp();
    const mapFile = join(dir, "map.json");
    writeFileSync(mapFile, JSON.stringify(BTCV));
    const namesFile = join(dir, "names.json");
    writeFileSync(namesFile, JSON.stringify(Object.fromEntries(NAMES.map((n, i) => [String(i), n]))));
    const pred = join(TS, "example_seg_fast.nii.gz");
    const label = join(TS, "example_seg.nii.gz");
    const r = await cli([
      "evaluate",
      "--pred",
      pred,
      "--label",
      label,
      "--map",
      mapFile,
      "--labels",
      namesFile,
      "--out",
      join(dir, "out"),
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.cases).toHaveLength(1);
    expect(j.cases[0]).toMatchObject({ pred, label });

    const [p, l] = [await readNifti(pred), await readNifti(label)];
    const shape = p.shape;
    const sp = [3, 3, 3];
    const dices: number[] = [];
    for (let c = 1; c <= 13; c++) {
      const pm = Uint8Array.from(p.data, (v) => (BTCV[v] === c ? 1 : 0));
      const lm = Uint8Array.from(l.data, (v) => (BTCV[v] === c ? 1 : 0));
      let inter = 0;
      let np = 0;
      let nl = 0;
      for (let i = 0; i < pm.length; i++) {
        inter += pm[i] & lm[i];
        np += pm[i];
        nl += lm[i];
      }
      const organ = NAMES[c];
      if (nl === 0) {
        expect(j.cases[0].metrics.dice[organ], organ).toBeNull(); // esophagus: absent from the ground truth
        expect(j.cases[0].metrics.hd95[organ], organ).toBeNull();
        continue;
      }
      const dice = (2 * inter) / (np + nl);
      dices.push(dice);
      expect(j.cases[0].metrics.dice[organ], organ).toBeCloseTo(dice, 10);
      const ep = edges(pm, shape);
      const el = edges(lm, shape);
      const hd95 = Math.max(quantile(nearest(ep, el, sp), 0.95), quantile(nearest(el, ep, sp), 0.95));
      expect(Math.abs(j.cases[0].metrics.hd95[organ] - hd95), organ).toBeLessThan(1e-4);
    }
    expect(j.cases[0].metrics.dice.esophagus).toBeNull();
    expect(j.mean.dice.mean).toBeCloseTo(dices.reduce((a, b) => a + b, 0) / dices.length, 10);
    expect(j.mean.dice.liver).toBeGreaterThan(0.95);

    const table = await cli([
      "evaluate",
      "--pred",
      pred,
      "--label",
      label,
      "--map",
      mapFile,
      "--labels",
      namesFile,
      "--out",
      join(dir, "out"),
    ]);
    expect(table.stdout).toMatch(/^dice\norgan\s+example_seg\s+mean\n/);
    expect(table.stdout).toMatch(/liver\s+0\.98\d\s+0\.98\d/);
    expect(table.stdout).toMatch(/esophagus\s+-\s+-/);
    expect(table.stdout).toMatch(/hd95 \(mm\)/);
    const csv = readFileSync(join(dir, "out", "evaluation.csv"), "utf8").split("\n");
    expect(csv[0]).toBe("case,pred,label,organ,dice,hd95");
    expect(csv).toContainEqual(
      expect.stringMatching(/^example_seg,example_seg_fast\.nii\.gz,example_seg\.nii\.gz,liver,0\.98/),
    );
    expect(JSON.parse(readFileSync(join(dir, "out", "evaluation.json"), "utf8"))).toEqual(j);
  });
});

describe("voxelpipe evaluate: pairing and grids", () => {
  const vol = (data: Uint8Array, shape: [number, number, number], origin = 0) => ({
    data,
    shape,
    channels: 1,
    affine: Float64Array.from([2, 0, 0, origin, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]),
    meta: {},
  });

  it("pairs folders by case name and refuses predictions on another grid", async () => {
    const dir = tmp();
    for (const d of ["pred/case_1", "label"]) mkdirSync(join(dir, d), { recursive: true });
    const a = new Uint8Array(4 * 4 * 4);
    a.fill(1, 0, 32);
    await writeNifti(join(dir, "label", "case_1.nii.gz"), vol(a, [4, 4, 4]), { dtype: "uint8" });
    await writeNifti(join(dir, "pred", "case_1", "case_1_seg.nii.gz"), vol(a, [4, 4, 4]), { dtype: "uint8" });
    const ok = await cli([
      "evaluate",
      "--pred",
      join(dir, "pred"),
      "--label",
      join(dir, "label"),
      "--json",
      "--metrics",
      "dice",
      "--out",
      join(dir, "o"),
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).cases[0].metrics.dice).toEqual({ "1": 1 });
    await writeNifti(join(dir, "label", "case_2.nii.gz"), vol(a, [4, 4, 4]), { dtype: "uint8" });
    const unpaired = await cli([
      "evaluate",
      "--pred",
      join(dir, "pred"),
      "--label",
      join(dir, "label"),
      "--out",
      join(dir, "o"),
    ]);
    expect(unpaired.code).toBe(1);
    expect(unpaired.stderr).toContain("cannot pair 1 of 2 labels with a prediction");
    expect(unpaired.stderr).toContain("case_2.nii.gz: no prediction");
    await writeNifti(join(dir, "pred", "case_2.nii.gz"), vol(a, [4, 4, 4], 5), { dtype: "uint8" });
    const grid = await cli([
      "evaluate",
      "--pred",
      join(dir, "pred"),
      "--label",
      join(dir, "label"),
      "--out",
      join(dir, "o"),
    ]);
    expect(grid.code).toBe(1);
    expect(grid.stderr).toContain("prediction and label are on different grids");
    expect(grid.stderr).toContain("origin 5, 0, 0");
  });
});
