import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
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
