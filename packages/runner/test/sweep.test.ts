import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseGridOption, parseSeeds, variants } from "../src/sweep/grid.js";
import { cli, REPO, tmp } from "./helpers.js";

const BIN = join(REPO, "packages", "runner", "bin", "voxelpipe.js");
// slow enough per variant that the kill lands between variants
const ARGS = [
  "sweep",
  "pipelines/example-regression.yaml",
  "--grid",
  "stages.fit.optimizer.lr=1e-3,3e-3",
  "--seeds",
  "0..1",
  "--metric",
  "fit.best",
  "--backend",
  "cpu",
  "--set",
  "stages.fit.data.train=1024",
  "--set",
  "stages.fit.model.hidden=[64, 64]",
];

function finishedVariants(sweepRoot: string): string[] {
  if (!existsSync(sweepRoot)) return [];
  const sweep = readdirSync(sweepRoot).find((d) => d.startsWith("sweep-"));
  if (!sweep) return [];
  const dir = join(sweepRoot, sweep);
  return readdirSync(dir).filter((v) => {
    const fit = join(dir, v, "example-regression", "fit");
    return existsSync(fit) && readdirSync(fit).some((r) => existsSync(join(fit, r, "outputs.json")));
  });
}

describe("voxelpipe sweep", () => {
  it("parses grids (YAML values, none, brackets) and seeds", () => {
    expect(parseGridOption("a.b=1e-3,3e-3").values).toEqual([0.001, 0.003]);
    expect(parseGridOption("m.init=@stages.pretrain.outputs.best,none").values).toEqual([
      "@stages.pretrain.outputs.best",
      null,
    ]);
    expect(parseGridOption("x=[1, 2],{k: v},DiceLoss").values).toEqual([[1, 2], { k: "v" }, "DiceLoss"]);
    expect(parseSeeds("0..2")).toEqual([0, 1, 2]);
    expect(parseSeeds("4,7")).toEqual([4, 7]);
    const v = variants({ grid: [parseGridOption("a=1,2"), parseGridOption("b=x,y")], seeds: [0, 1], metrics: [] });
    expect(v).toHaveLength(8);
    expect(v[0].overrides).toEqual(["a=1", 'b="x"', "seed=0"]);
    expect(new Set(v.map((x) => x.id)).size).toBe(8);
  });

  it("2 values × 2 seeds: killed midway, re-run resumes without redoing finished variants; mean ± std table", async () => {
    const runs = tmp();
    const root = join(runs, "example-regression");
    const child = spawn(process.execPath, [BIN, ...ARGS, "--runs-dir", runs], { cwd: REPO, stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on("exit", (_c, sig) => res(sig)));
    let sig: NodeJS.Signals | null = null;
    for (;;) {
      if (finishedVariants(root).length >= 2) {
        child.kill("SIGKILL");
        sig = await exited;
        break;
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(sig, "the sweep finished before it could be killed").toBe("SIGKILL");
    const done = finishedVariants(root);
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(done.length).toBeLessThan(4);
    const sweepDir = join(root, readdirSync(root).find((d) => d.startsWith("sweep-"))!);
    const stamp = (v: string) => statSync(join(sweepDir, v, "example-regression", "fit")).mtimeMs;
    const before = Object.fromEntries(done.map((v) => [v, stamp(v)]));

    const r = await cli([...ARGS, "--runs-dir", runs]);
    expect(r.code, r.stderr).toBe(0);
    for (const v of done) {
      expect(r.stderr).toContain(`${v}: finished earlier, skipped`);
      expect(stamp(v)).toBe(before[v]);
    }
    expect(r.stdout).toContain(`(${4 - done.length} run, ${done.length} already finished)`);
    expect(finishedVariants(root)).toHaveLength(4);
    const summary = JSON.parse(readFileSync(join(sweepDir, "summary.json"), "utf8"));
    expect(summary.rows.map((x: { variant: string }) => x.variant)).toEqual(["lr=0.001", "lr=0.003"]);
    for (const row of summary.rows) {
      const m = row.metrics["fit.best"];
      expect(m.n).toBe(2);
      const [a, b] = m.values;
      expect(m.mean).toBeCloseTo((a + b) / 2, 12);
      expect(m.std).toBeCloseTo(Math.abs(a - b) / Math.SQRT2, 12);
    }
    expect(readFileSync(join(sweepDir, "summary.md"), "utf8")).toMatch(/\| lr=0\.001 \| \d\.\d{4} ± \d\.\d{4} \| 2 \|/);
    expect(readFileSync(join(sweepDir, "summary.csv"), "utf8").split("\n")[0]).toBe(
      "variant,stages.fit.optimizer.lr,fit.best_mean,fit.best_std,fit.best_n",
    );
  });

  it("a re-run after editing the pipeline runs the changed variants again (new numbers); unchanged ones stay skipped", async () => {
    const dir = tmp();
    const runs = join(dir, "runs");
    const plugin = join(REPO, "plugins", "example");
    const file = join(dir, "edited.yaml");
    // each variant takes its lr from a var, so editing one var changes one variant only
    const pipeline = (lrB: number) => `version: 1
name: edited
seed: 3
plugins: [${plugin}]
vars: { lr_a: 1.0e-3, lr_b: ${lrB} }
stages:
  fit:
    kind: train
    data: { type: SyntheticRegression, features: 3, train: 64, val: 32 }
    model: { type: MLP, in_features: 3, hidden: [8] }
    batch_size: 32
    epochs: 2
    step:
      pred: { call: model, in: x }
      loss: { call: { type: MSELoss }, in: [pred, y] }
    optimizer: { type: Adam, lr: 1.0e-3 }
    validate: { every: 1, metric: loss, select_best: min }
`;
    writeFileSync(file, pipeline(3e-3));
    const args = [
      "sweep",
      file,
      "--grid",
      "stages.fit.optimizer.lr=${vars.lr_a},${vars.lr_b}",
      "--metric",
      "fit.best",
      "--backend",
      "cpu",
      "--allow-plugin",
      plugin,
      "--runs-dir",
      runs,
    ];
    const summary = () => {
      const root = join(runs, "edited");
      const sweep = readdirSync(root).find((d) => d.startsWith("sweep-"))!;
      const j = JSON.parse(readFileSync(join(root, sweep, "summary.json"), "utf8"));
      return j.rows.map((r: { metrics: Record<string, { mean: number }> }) => r.metrics["fit.best"].mean) as number[];
    };
    const first = await cli(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("(2 run, 0 already finished)");
    const [a0, b0] = summary();
    expect(Number.isFinite(a0) && Number.isFinite(b0)).toBe(true);

    const same = await cli(args);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain("(0 run, 2 already finished)");
    expect(summary()).toEqual([a0, b0]);

    writeFileSync(file, pipeline(3e-2));
    const edited = await cli(args);
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toContain("(1 run, 1 already finished)");
    expect(edited.stderr).toMatch(/v00-lr=_vars\.lr_a_-seed3: finished earlier, skipped/);
    expect(edited.stderr).toContain("stages.fit.optimizer.lr: 0.003 → 0.03");
    const [a1, b1] = summary();
    expect(a1).toBe(a0);
    expect(b1).not.toBe(b0);
    // the changed variant got a new run directory; the old one is kept
    const sweep = readdirSync(join(runs, "edited")).find((d) => d.startsWith("sweep-"))!;
    const variant = readdirSync(join(runs, "edited", sweep)).find((v) => v.startsWith("v01"))!;
    expect(readdirSync(join(runs, "edited", sweep, variant, "edited", "fit"))).toHaveLength(2);

    const again = await cli(args);
    expect(again.stdout).toContain("(0 run, 2 already finished)");
    expect(summary()).toEqual([a1, b1]);
  });

  it("validates every variant before running any", async () => {
    const runs = tmp();
    const r = await cli([
      "sweep",
      "pipelines/example-regression.yaml",
      "--grid",
      "stages.fit.optimizer.type=Adam,Adamm",
      "--metric",
      "fit.best",
      "--runs-dir",
      runs,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/variant v01-type=Adamm-seed7: unknown optimizer "Adamm"/);
    expect(existsSync(join(runs, "example-regression"))).toBe(false);
  });
});
