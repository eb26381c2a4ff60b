import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cli, FIXTURES, REPO, tmp } from "./helpers.js";

function runDirOf(runs: string, pipeline: string, stage: string): string {
  const root = join(runs, pipeline, stage);
  const dirs = readdirSync(root).sort();
  return join(root, dirs[dirs.length - 1]);
}

describe("voxelpipe run", () => {
  it("fits the example pipeline and writes its run directory", async () => {
    const runs = tmp();
    const r = await cli(["run", "pipelines/example-regression.yaml", "--runs-dir", runs, "--backend", "cpu"]);
    expect(r.stderr).toContain("backend: cpu");
    expect(r.code).toBe(0);
    const dir = runDirOf(runs, "example-regression", "fit");
    expect(r.stdout).toContain(`fit: run directory ${dir}`);
    for (const f of [
      "pipeline.resolved.yaml",
      "env.json",
      "metrics.jsonl",
      "outputs.json",
      "checkpoints/best.safetensors",
      "checkpoints/last.safetensors",
    ]) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const resolved = parse(readFileSync(join(dir, "pipeline.resolved.yaml"), "utf8"));
    expect(resolved.stages.fit.model.in_features).toBe(4); // interpolated
    const env = JSON.parse(readFileSync(join(dir, "env.json"), "utf8"));
    expect(env).toMatchObject({ seed: 7, backend: { name: "cpu" }, pipeline: "example-regression" });
    expect(env.plugins).toContainEqual({
      name: "@voxelpipe-example/plugin",
      version: "0.1.0",
      namespace: "example",
      source: "../plugins/example",
    });
    expect(env.packages["@tensorflow/tfjs-core"]).toBe("4.22.0");
    const lines = readFileSync(join(dir, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const steps = lines.filter((l) => "loss" in l);
    expect(steps).toHaveLength(32); // 4 epochs × 256/32
    const vals = lines.filter((l) => "val_mse" in l).map((l) => l.val_mse);
    expect(vals).toHaveLength(4);
    expect(vals[3]).toBeLessThan(vals[0]); // it learns
    // loss = mse + 0.5 * huber is what was minimised
    for (const s of steps) expect(s.loss).toBeCloseTo(s.mse + 0.5 * s.huber, 5);
  });

  it("the same seed gives a byte-identical metrics.jsonl; another seed does not", async () => {
    const runs = tmp();
    const args = [
      "run",
      "pipelines/example-regression.yaml",
      "--runs-dir",
      runs,
      "--backend",
      "cpu",
      "--set",
      "stages.fit.epochs=2",
    ];
    await cli(args);
    const a = readFileSync(join(runDirOf(runs, "example-regression", "fit"), "metrics.jsonl"));
    await cli(args);
    const b = readFileSync(join(runDirOf(runs, "example-regression", "fit"), "metrics.jsonl"));
    expect(readdirSync(join(runs, "example-regression", "fit"))).toHaveLength(2);
    expect(b.equals(a)).toBe(true);
    await cli([...args, "--set", "seed=8"]);
    const c = readFileSync(join(runDirOf(runs, "example-regression", "fit"), "metrics.jsonl"));
    expect(c.equals(a)).toBe(false);
  });

  it("two plugins registering the same name are told apart by namespace", async () => {
    const runs = tmp();
    const file = join(FIXTURES, "pipelines", "two-plugins.yaml");
    const ok = await cli(["run", file, "--runs-dir", runs, "--backend", "cpu"]);
    expect(ok.code).toBe(0);
    const steps = readFileSync(join(runDirOf(runs, "two-plugins", "fit"), "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((l) => "ex" in l);
    // example/HuberLoss (delta 1) and other/HuberLoss (mean |d|) differ: both ran
    expect(steps[0].ex).not.toBeCloseTo(steps[0].ot, 6);
    const amb = await cli(["validate", file, "--set", "stages.fit.step.ot.call.type=HuberLoss"]);
    expect(amb.code).toBe(1);
    expect(amb.stderr).toContain('loss name "HuberLoss" is ambiguous');
    expect(amb.stderr).toContain(
      '"example/HuberLoss" (plugin @voxelpipe-example/plugin) or "other/HuberLoss" (plugin @acme/other-plugin)',
    );
    // aliasing a plugin's namespace
    const aliased = await cli([
      "validate",
      file,
      "--set",
      "plugins.1={from: ../plugins/other, as: acme}",
      "--set",
      "stages.fit.step.ot.call.type=acme/HuberLoss",
    ]);
    expect(aliased.stderr).toBe("");
    expect(aliased.code).toBe(0);
  });

  it("npx voxelpipe is the bin of @voxelpipe/runner", () => {
    const out = execFileSync(
      join(REPO, "node_modules", ".bin", "voxelpipe"),
      ["validate", "pipelines/example-regression.yaml"],
      {
        cwd: REPO,
        encoding: "utf8",
      },
    );
    expect(out).toContain("ok (1 stage: fit)");
    let code = 0;
    try {
      execFileSync(
        join(REPO, "node_modules", ".bin", "voxelpipe"),
        ["validate", join(FIXTURES, "invalid", "stage-cycle.yaml")],
        { stdio: "pipe" },
      );
    } catch (e) {
      code = (e as { status: number }).status;
    }
    expect(code).toBe(1);
  });
});
