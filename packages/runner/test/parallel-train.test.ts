import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readSafetensors } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { cli, FIXTURES, tmp } from "./helpers.js";

const PIPELINE = join(FIXTURES, "pipelines", "tiny-parallel.yaml");

function runDir(runs: string): string {
  const root = join(runs, "tiny-parallel", "finetune");
  return join(root, readdirSync(root).sort().pop()!);
}

async function train(threads: number, extra: string[] = []) {
  const runs = tmp();
  const r = await cli([
    "run",
    PIPELINE,
    "--runs-dir",
    runs,
    "--backend",
    "wasm",
    "--threads",
    String(threads),
    ...extra,
  ]);
  expect(r.code, r.stderr).toBe(0);
  const dir = runDir(runs);
  const env = JSON.parse(readFileSync(join(dir, "env.json"), "utf8"));
  return {
    stderr: r.stderr,
    dir,
    env,
    metrics: readFileSync(join(dir, "metrics.jsonl"), "utf8"),
    weights: readSafetensors(join(dir, "checkpoints", "last.safetensors")).tensors,
  };
}

/** a tensor's own bytes (its data may be a view into the whole file) */
const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const losses = (metrics: string) =>
  metrics
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((r) => typeof r.loss === "number")
    .map((r) => r.loss as number);

describe("train steps as micro-batches, in this thread or on model replicas", () => {
  it("two replicas give a bit-identical run to one thread; whole batches agree to float round-off", async () => {
    // dropout on: each pass seeds its masks, so they do not depend on the replica that runs it
    const dropout = ["--set", "stages.finetune.model.dropout_rate=0.2"];
    const one = await train(1, dropout);
    const two = await train(2, dropout);
    // the plan is in the log and env.json
    expect(one.env.execution).toMatchObject({ threads: 1, micro_batch: 1, replicas: 0, samples_per_batch: 4 });
    expect(two.env.execution).toMatchObject({ threads: 2, micro_batch: 1, replicas: 2 });
    expect(two.stderr).toMatch(/4 samples per batch in passes of 1, 2 model replica\(s\) on worker threads/);
    expect(one.env.execution.memory.per_sample_saved_bytes).toBeGreaterThan(0);
    // passes summed in the same order: the same bytes, validation (sliding windows over replicas) included
    expect(two.metrics).toBe(one.metrics);
    expect(two.metrics).toMatch(/"val_dice"/);
    for (const [k, t] of one.weights) expect(Buffer.compare(bytes(two.weights.get(k)!.data), bytes(t.data)), k).toBe(0);

    // the same batches as one pass of 4: the gradient is the same sum, rounded differently. Plain
    // SGD, so weights move by lr × gradient (Adam's first steps are ±lr for gradients near 0,
    // whatever their round-off)
    const sgd = ["--set", "stages.finetune.optimizer={type: SGD, lr: 0.05}"];
    const passes = await train(1, sgd);
    const whole = await train(1, [...sgd, "--set", "stages.finetune.micro_batch=4"]);
    expect(whole.env.execution).toMatchObject({ micro_batch: 4, replicas: 0 });
    const [a, b] = [losses(passes.metrics), losses(whole.metrics)];
    expect(a).toHaveLength(3);
    // measured: ≤ 2e-7 relative
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]) / Math.abs(b[i])).toBeLessThan(1e-6);
    let worst = 0;
    for (const [k, t] of whole.weights) {
      if (k.startsWith("optimizer/")) continue;
      const u = passes.weights.get(k)!.data as Float32Array;
      const v = t.data as Float32Array;
      for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(u[i] - v[i]));
    }
    // measured: 2.8e-6 after 3 steps (weights move by ~1e-2); a wrong sum or weighting moves them by ~1e-3
    expect(worst).toBeLessThan(2e-5);
  }, 240_000);

  it("a loss that couples the samples refuses micro-batches with a located diagnostic", async () => {
    const runs = tmp();
    const r = await cli([
      "run",
      PIPELINE,
      "--runs-dir",
      runs,
      "--backend",
      "wasm",
      "--set",
      "stages.finetune.step.loss.call.batch=true",
    ]);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(70);
    expect(r.stderr).toMatch(/VP261/);
    expect(r.stderr).toMatch(/micro_batch 1 < batch 4, but loss "loss" couples the samples/);
  }, 120_000);

  it("validate catches an objective that is not a step node, at its location", async () => {
    const r = await cli(["validate", PIPELINE, "--set", "stages.finetune.objective=los"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/VP170/);
    expect(r.stderr).toMatch(/objective "los" is not a node of the step graph/);
    expect(r.stderr).toMatch(/one of: logits, loss/);
  });
});
