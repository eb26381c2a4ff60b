import { isVoxelpipeError, type Model, type ModelMemory, type tf } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { backendLimit, planExecution, WASM_HEAP_MAX } from "../src/train/memory-plan.js";

const GB = 2 ** 30;

/** a model of `paramBytes` whose samples need `perSample(ckpt)` bytes (no tensors beyond one variable) */
function fakeModel(paramBytes: number, perSample: (ck: boolean) => ModelMemory): Model & { ckpt?: boolean } {
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
  backend: "wasm",
  optimizerSlots: 2,
  microBatch: "auto" as const,
  checkpointing: "auto" as const,
  modelCalls: 1,
  where: (p: string) => `stages.fit.${p}`,
};
// the BTCV UNETR's own estimate at 96³ (env.json of a real run): weights 371,136,184 B; per sample
// 2.9 GB kept + 0.29 GB workspace + 0.33 GB fixed plain, 0.568 GB + 1.346 GB with checkpointing
const btcv = fakeModel(371_136_184, (ck) =>
  ck ? { saved: 568_000_512, workspace: 1_345_849_344 } : { saved: 2.9 * GB, workspace: 0.29 * GB, fixed: 0.33 * GB },
);

describe("execution plan from the memory estimate", () => {
  it("the seed's batch (4 crops) on 2 threads: passes of 1, checkpointing, 2 replicas", () => {
    const p = planExecution({ ...base, model: btcv, batch: 4, threads: 2 });
    expect(p).toMatchObject({ microBatch: 1, checkpointing: true, replicas: 2 });
    expect(p.memory.step_bytes!).toBeLessThan(0.9 * WASM_HEAP_MAX);
    expect(p.memory.whole_batch_bytes!).toBeGreaterThan(WASM_HEAP_MAX);
  });

  it("one thread: passes of 1 with checkpointing, in this thread", () => {
    const p = planExecution({ ...base, model: btcv, batch: 4, threads: 1 });
    // ≈ 3.5 GiB with the optimizer state and the running gradient sum: still one heap, this thread
    expect(p).toMatchObject({ microBatch: 1, checkpointing: true, replicas: 0 });
  });

  it("a small model keeps whole batches in this thread and checkpointing off", () => {
    const small = fakeModel(0.01 * GB, () => ({ saved: 0.05 * GB, workspace: 0.005 * GB }));
    expect(planExecution({ ...base, model: small, batch: 2, threads: 1 })).toMatchObject({
      microBatch: 2,
      checkpointing: false,
      replicas: 0,
    });
    // two threads: one pass per replica
    expect(planExecution({ ...base, model: small, batch: 2, threads: 2 })).toMatchObject({
      microBatch: 1,
      replicas: 2,
    });
  });

  it("a coupled loss runs whole; a sample that cannot fit stops before training with VP260", () => {
    const vit = fakeModel(0.33 * GB, (ck) =>
      ck ? { saved: 0.06 * GB, workspace: 0.04 * GB } : { saved: 0.9 * GB, workspace: 0.1 * GB },
    );
    const p = planExecution({
      ...base,
      model: vit,
      batch: 8,
      threads: 2,
      modelCalls: 2,
      coupled: 'loss "cl" couples the samples',
    });
    expect(p).toMatchObject({ microBatch: 8, checkpointing: true, replicas: 0 });
    const huge = fakeModel(0.4 * GB, () => ({ saved: 3 * GB, workspace: 1 * GB }));
    let err: unknown;
    try {
      planExecution({ ...base, model: huge, batch: 4, threads: 2 });
    } catch (e) {
      err = e;
    }
    expect(isVoxelpipeError(err)).toBe(true);
    const d = (err as { diagnostics: { code: string; message: string; hint?: string }[] }).diagnostics[0];
    expect(d.code).toBe("VP260");
    expect(d.message).toBe(
      "one training sample needs an estimated 5.20 GB (0.40 GB weights and as much for gradients, 4.00 GB of activations with checkpointing), more than the wasm32 heap maximum (per thread) allows (3.60 GB usable of 4.00 GB)",
    );
    expect(d.hint).toMatch(/stages\.fit\.model/);
  });
});

/**
 * On webgpu: no heap limit (WebGPU does not expose the GPU's memory), but one tensor must fit one GPU buffer (the
 * adapter's maxStorageBufferBindingSize), so the micro-batch shrinks until a pass's largest tensor does, or the run
 * stops with VP260 before training. Pure planning (the adapter limit is given), no GPU needed.
 */
const gpu = { ...base, backend: "webgpu", threads: 1 };
describe("execution plan on webgpu (adapter buffer limit)", () => {
  it("a 1 GiB buffer (SwiftShader's limit) takes 3 of the 4 crops per pass, without checkpointing", () => {
    const p = planExecution({ ...gpu, model: btcv, batch: 4, bufferLimit: GB });
    expect(p).toMatchObject({ microBatch: 3, checkpointing: false, replicas: 0 });
    expect(p.memory.buffer_limit_bytes).toBe(GB);
    expect(p.memory.limit_bytes).toBeNull();
  });

  it("a 4 GiB buffer runs the whole batch in one pass", () => {
    expect(planExecution({ ...gpu, model: btcv, batch: 4, bufferLimit: 4 * GB })).toMatchObject({ microBatch: 4 });
  });

  it("a sample whose tensors exceed one buffer is VP260 before training, naming the limit", () => {
    const huge = fakeModel(0.01 * GB, () => ({ saved: 8 * GB, workspace: 2 * GB }));
    let err: unknown;
    try {
      planExecution({ ...gpu, model: huge, batch: 2, checkpointing: false, bufferLimit: GB });
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
