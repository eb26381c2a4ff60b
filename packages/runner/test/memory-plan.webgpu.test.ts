/**
 * The execution plan on webgpu: no heap limit (WebGPU does not expose the GPU's memory), but one
 * tensor must fit one GPU buffer (the adapter's maxStorageBufferBindingSize), so the micro-batch
 * shrinks until a pass's largest tensor does, or the run stops with VP260 before training.
 * Pure planning (the adapter limit is given), no GPU needed.
 */
import { isVoxelpipeError, type Model, type ModelMemory, type tf } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { backendLimit, planExecution } from "../src/train/memory-plan.js";

const GB = 2 ** 30;

function fakeModel(paramBytes: number, perSample: (ck: boolean) => ModelMemory): Model {
  const v = { size: paramBytes / 4, trainable: true } as unknown as tf.Variable;
  return {
    params: new Map([["w", v]]),
    apply: (x: tf.Tensor) => x,
    dispose: () => {},
    setGradientCheckpointing() {},
    memoryEstimate: ({ checkpointing }) => perSample(checkpointing),
  };
}

const base = {
  backend: "webgpu",
  optimizerSlots: 2,
  microBatch: "auto" as const,
  checkpointing: "auto" as const,
  modelCalls: 1,
  threads: 1,
  where: (p: string) => `stages.fit.${p}`,
};

describe("execution plan on webgpu (adapter buffer limit)", () => {
  // the BTCV UNETR's estimate at 96³ (as in memory-plan.test.ts): 0.29 GB workspace per sample
  const btcv = fakeModel(371_136_184, (ck) =>
    ck ? { saved: 568_000_512, workspace: 1_345_849_344 } : { saved: 2.9 * GB, workspace: 0.29 * GB, fixed: 0.33 * GB },
  );

  it("a 1 GiB buffer (SwiftShader's limit) takes 3 of the 4 crops per pass, without checkpointing", () => {
    const p = planExecution({ ...base, model: btcv, batch: 4, bufferLimit: GB });
    expect(p).toMatchObject({ microBatch: 3, checkpointing: false, replicas: 0 });
    expect(p.memory.buffer_limit_bytes).toBe(GB);
    expect(p.memory.limit_bytes).toBeNull();
  });

  it("a 4 GiB buffer runs the whole batch in one pass", () => {
    expect(planExecution({ ...base, model: btcv, batch: 4, bufferLimit: 4 * GB })).toMatchObject({ microBatch: 4 });
  });

  it("a sample whose tensors exceed one buffer is VP260 before training, naming the limit", () => {
    const huge = fakeModel(0.01 * GB, () => ({ saved: 8 * GB, workspace: 2 * GB }));
    let err: unknown;
    try {
      planExecution({ ...base, model: huge, batch: 2, checkpointing: false, bufferLimit: GB });
    } catch (e) {
      err = e;
    }
    expect(isVoxelpipeError(err)).toBe(true);
    expect((err as Error).message).toMatch(/more than one GPU buffer may hold/);
    expect(JSON.stringify(err)).toContain("VP260");
  });

  it("without a selected adapter the limit says so (no buffer bound)", () => {
    expect(backendLimit("webgpu")).toEqual({ bytes: null, source: "WebGPU: total GPU memory unknown" });
  });
});
