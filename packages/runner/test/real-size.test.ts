import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, REPO, tmp } from "./helpers.js";

/**
 * The seed's BTCV fine-tuning pipeline at its real network size (UNETR 96³, hidden 768, 12 layers,
 * feature 16, 14 classes: 92.8 M parameters) trains through the same code path a user runs: the
 * pipeline file itself, on a BTCV-shaped synthetic dataset (resampled to 1.5×1.5×2 mm, 96³ crops).
 * CI-sized: one optimizer step of 2 crops (the seed takes 4), no validation. The step does not fit
 * one wasm heap as a whole batch; the plan makes it fit (replicas + checkpointing).
 */
describe("BTCV UNETR at the seed's size", () => {
  it("plans, trains a step within memory, and writes its checkpoint", async () => {
    const data = tmp();
    const runs = tmp();
    let r = await cli(["synth", "--out", data, "--cases", "3", "--size", "48", "--val", "0.34"]);
    expect(r.code, r.stderr).toBe(0);
    r = await cli([
      "run",
      join(REPO, "pipelines", "unetr-btcv-finetune.yaml"),
      "--runs-dir",
      runs,
      "--backend",
      "wasm",
      "--threads",
      "2",
      "--set",
      `vars.btcv_root=${data}`,
      "--set",
      `vars.btcv_datalist=${join(data, "dataset.json")}`,
      "--set",
      "stages.finetune.model.init=null",
      "--set",
      "stages.finetune.iterations=1",
      "--set",
      "stages.finetune.transforms.train.5.num_samples=2",
      "--set",
      "stages.finetune.validate=null",
      "--set",
      "stages.finetune.loader.num_workers=0",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const root = join(runs, "unetr-btcv-finetune", "finetune");
    const dir = join(root, readdirSync(root)[0]);
    const env = JSON.parse(readFileSync(join(dir, "env.json"), "utf8"));
    // the whole batch would need more than a wasm heap; the plan splits it and recomputes activations
    expect(env.execution).toMatchObject({ samples_per_batch: 2, micro_batch: 1, checkpointing: true, replicas: 2 });
    expect(env.execution.memory.whole_batch_bytes).toBeGreaterThan(env.execution.memory.limit_bytes);
    expect(env.execution.memory.step_bytes).toBeLessThan(0.9 * env.execution.memory.limit_bytes);
    expect(env.execution.memory.params_bytes).toBe(92_784_046 * 4);
    const lines = readFileSync(join(dir, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    // DiceCE of 14 classes at random init: ≈ 1 (Dice) + ln 14 (CE)
    expect(lines[0].loss).toBeGreaterThan(2.5);
    expect(lines[0].loss).toBeLessThan(4.5);
    expect(r.stderr).toMatch(/2 samples per batch in passes of 1, activations recomputed .* 2 model replica/);
    // the checkpoint the title promises: written atomically, at least the weights' size
    const last = join(dir, "checkpoints", "last.safetensors");
    expect(existsSync(last)).toBe(true);
    expect(readFileSync(last).length).toBeGreaterThan(92_784_046 * 4);
  }, 900_000);
});
