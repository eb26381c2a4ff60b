import { totalmem } from "node:os";
import { Codes, engine, type Model, type ModelMemory, VoxelpipeError } from "@voxelpipe/core";

/** wasm32's heap maximum (tfjs-backend-wasm 4.22, `getHeapMax`): every tensor of a wasm backend lives in it */
export const WASM_HEAP_MAX = 4_294_901_760;
/** keep this share of a heap free: allocator fragmentation and buffers the estimate does not model */
const HEADROOM = 0.9;

const GB = 2 ** 30;
export const gb = (bytes: number) => `${(bytes / GB).toFixed(2)} GB`;

/** How a train step executes, decided from the memory estimate before anything is allocated. */
export interface ExecutionPlan {
  /** samples per forward/backward pass */
  microBatch: number;
  /** activations recomputed in the backward */
  checkpointing: boolean;
  /** worker threads each holding a model replica and a heap of its own (0: the step runs in this thread) */
  replicas: number;
  /** the estimate behind the plan, for the run log and env.json */
  memory: {
    limit_bytes: number | null;
    limit_source: string;
    /** webgpu: the largest buffer one binding may be (adapter limit); a pass's biggest tensor must fit */
    buffer_limit_bytes?: number;
    params_bytes: number;
    optimizer_bytes: number;
    per_sample_saved_bytes: number | null;
    per_sample_workspace_bytes: number | null;
    /** bytes the busiest heap needs at the plan's micro-batch (null: the model gives no estimate) */
    step_bytes: number | null;
    /** the same if every sample of the batch ran in one pass without checkpointing */
    whole_batch_bytes: number | null;
  };
}

export interface PlanInput {
  model: Model;
  backend: string;
  batch: number;
  /** model calls per sample in the step graph (SSL: two views) */
  modelCalls: number;
  threads: number;
  /** optimizer state per parameter, in parameter-sized slots (Adam: 2) */
  optimizerSlots: number;
  microBatch: "auto" | number;
  checkpointing: "auto" | boolean;
  /** why the objective cannot be split (a coupling loss), if so */
  coupled?: string;
  /** where the stage config is, for hints */
  where: (path: string) => string;
  /** webgpu: the adapter's buffer limit in bytes (default: read from the selected adapter) */
  bufferLimit?: number;
}

/**
 * The memory one heap may use on this backend, or null where there is no fixed limit we know.
 * webgpu: WebGPU does not tell how much memory the GPU has, but the adapter says how large one
 * buffer may be (`maxStorageBufferBindingSize`, `maxBufferSize`): every tensor is one buffer, so a
 * pass's largest tensor must fit (`bufferBytes`).
 */
export function backendLimit(backend: string): { bytes: number | null; source: string; bufferBytes?: number } {
  if (backend === "wasm") return { bytes: WASM_HEAP_MAX, source: "wasm32 heap maximum (per thread)" };
  if (backend === "cpu" || backend === "tensorflow")
    return { bytes: totalmem(), source: "system memory (os.totalmem)" };
  if (backend === "webgpu") {
    const a = engine.webgpuAdapter();
    const buffer = a ? Math.min(a.limits.maxStorageBufferBindingSize, a.limits.maxBufferSize) : undefined;
    return {
      bytes: null,
      source: a
        ? `WebGPU adapter ${a.vendor || "?"}/${a.architecture || "?"}: total GPU memory unknown, one buffer at most ${gb(buffer!)}`
        : "WebGPU: total GPU memory unknown",
      ...(buffer ? { bufferBytes: buffer } : {}),
    };
  }
  return { bytes: null, source: `no known limit for backend ${backend}` };
}

export function planExecution(o: PlanInput): ExecutionPlan {
  let params = 0;
  for (const v of o.model.params.values()) if (v.trainable) params += v.size * 4;
  const optimizer = o.optimizerSlots * params;
  const limit = backendLimit(o.backend);
  if (o.bufferLimit !== undefined) limit.bufferBytes = o.bufferLimit;
  // each model call of the step graph keeps its own activations
  const est = (ck: boolean): ModelMemory | undefined => {
    const e = o.model.memoryEstimate?.({ checkpointing: ck });
    if (!e) return undefined;
    const k = Math.max(1, o.modelCalls);
    return { saved: k * e.saved, workspace: e.workspace, fixed: k * (e.fixed ?? 0) };
  };
  const canCheckpoint = typeof o.model.setGradientCheckpointing === "function";
  // a heap running passes of m samples holds the weights, the gradients (+ their running sum when
  // a batch has several passes) and m samples' activations; the thread that owns the optimizer
  // also holds its state
  const heap = (m: number, mem: ModelMemory, passes: number, withOptimizer: boolean) =>
    params * (2 + (passes > 1 ? 1 : 0)) +
    (withOptimizer ? optimizer : 0) +
    (mem.fixed ?? 0) +
    m * (mem.saved + mem.workspace);
  const fits = (bytes: number) => limit.bytes === null || bytes <= HEADROOM * limit.bytes;
  // webgpu: the largest tensor of a pass of m samples, bounded by the per-sample workspace (the
  // biggest transient working set, so at least any one of its buffers), must fit one GPU buffer
  const fitsBuffer = (m: number, mem: ModelMemory) =>
    limit.bufferBytes === undefined || m * mem.workspace <= HEADROOM * limit.bufferBytes;

  checkCoupled(o);
  const b = o.batch;
  const maxPerPass = o.coupled ? b : typeof o.microBatch === "number" ? Math.min(o.microBatch, b) : b;
  // auto: at least one pass per thread, so every core has work
  const spread = o.coupled || typeof o.microBatch === "number" ? maxPerPass : Math.ceil(b / Math.max(1, o.threads));
  const modes: boolean[] =
    o.checkpointing === "auto" ? (canCheckpoint ? [false, true] : [false]) : [o.checkpointing && canCheckpoint];
  const memory = (ck: boolean, bytes: number | null) => {
    const e = est(ck);
    const whole = est(false);
    return {
      limit_bytes: limit.bytes,
      limit_source: limit.source,
      ...(limit.bufferBytes !== undefined ? { buffer_limit_bytes: limit.bufferBytes } : {}),
      params_bytes: params,
      optimizer_bytes: optimizer,
      per_sample_saved_bytes: e?.saved ?? null,
      per_sample_workspace_bytes: e?.workspace ?? null,
      step_bytes: bytes,
      whole_batch_bytes: whole ? heap(b, whole, 1, true) : null,
    };
  };
  if (!est(false) || (limit.bytes === null && limit.bufferBytes === undefined)) {
    // no estimate: run as configured (whole batch unless told otherwise), one pass per thread when allowed
    const m = typeof o.microBatch === "number" ? maxPerPass : o.coupled ? b : spread;
    const passes = Math.ceil(b / m);
    const ck = o.checkpointing === true && canCheckpoint;
    const replicas = o.threads > 1 && passes > 1 ? Math.min(o.threads, passes) : 0;
    return { microBatch: m, checkpointing: ck, replicas, memory: memory(ck, null) };
  }
  for (const ck of modes) {
    const mem = est(ck)!;
    for (let m = spread; m >= 1; m--) {
      if (m < maxPerPass && o.coupled) break;
      const passes = Math.ceil(b / m);
      const parallel = o.threads > 1 && passes > 1;
      // in this thread, or (parallel or too big for a heap that also holds the optimizer) in replicas
      if (!fitsBuffer(m, mem)) continue;
      if (!parallel && fits(heap(m, mem, passes, true)))
        return { microBatch: m, checkpointing: ck, replicas: 0, memory: memory(ck, heap(m, mem, passes, true)) };
      if (fits(heap(m, mem, passes, false)) && fits(params + optimizer + params)) {
        const replicas = Math.max(1, Math.min(o.threads, passes));
        return { microBatch: m, checkpointing: ck, replicas, memory: memory(ck, heap(m, mem, passes, false)) };
      }
    }
  }
  // the smallest pass there is: one sample, or the whole batch when the loss couples its samples
  const mem = est(canCheckpoint)!;
  throw outOfMemory(o, limit, mem, o.coupled ? b : 1, params, canCheckpoint, heap);
}

/** a loss that couples a batch's samples cannot be split into micro-batches */
function checkCoupled(o: PlanInput): void {
  if (o.coupled && typeof o.microBatch === "number" && o.microBatch < o.batch) {
    throw new VoxelpipeError({
      code: Codes.executionPlan,
      message: `micro_batch ${o.microBatch} < batch ${o.batch}, but ${o.coupled}: split into micro-batches its gradient would not be the batch's`,
      hint: `remove micro_batch (${o.where("micro_batch")}) or use a loss whose batch value is the mean of per-sample values (e.g. DiceLoss/DiceCELoss with batch: false and no class-weighted mean)`,
    });
  }
}

/** no plan fits: what the smallest pass would need, against the backend's limit */
function outOfMemory(
  o: PlanInput,
  limit: ReturnType<typeof backendLimit>,
  mem: ModelMemory,
  m: number,
  params: number,
  canCheckpoint: boolean,
  heap: (m: number, mem: ModelMemory, passes: number, withOptimizer: boolean) => number,
): VoxelpipeError {
  const b = o.batch;
  const need = heap(m, mem, Math.ceil(b / m), false);
  if (limit.bytes === null) {
    // webgpu: only the per-buffer limit is known, and even one sample's largest tensor exceeds it
    return new VoxelpipeError({
      code: Codes.outOfMemory,
      message: `${m === 1 ? "one training sample" : `a pass of the whole batch (${m} samples)`} has tensors of up to an estimated ${gb(m * mem.workspace)}, more than one GPU buffer may hold (${limit.source}; ${gb(HEADROOM * (limit.bufferBytes ?? 0))} usable)`,
      got: `batch ${b}${o.coupled ? ` (not splittable: ${o.coupled})` : ""}`,
      hint: `make the model or its input smaller (roi / img_size, feature_size) in ${o.where("model")}, or use --backend wasm or cpu`,
    });
  }
  return new VoxelpipeError({
    code: Codes.outOfMemory,
    message: `${m === 1 ? "one training sample" : `a pass of the whole batch (${m} samples)`} needs an estimated ${gb(need)} (${gb(params)} weights and as much for gradients, ${gb(m * (mem.saved + mem.workspace))} of activations${canCheckpoint ? " with checkpointing" : ""}), more than the ${limit.source} allows (${gb(HEADROOM * limit.bytes)} usable of ${gb(limit.bytes)})`,
    got: `batch ${b}${o.coupled ? ` (not splittable: ${o.coupled})` : ""}, ${o.threads} thread(s)`,
    hint: `make the model or its input smaller (roi / img_size, feature_size, hidden_size) in ${o.where("model")}${
      o.backend === "wasm" ? ", or use a backend without wasm's 4 GB heap (--backend tensorflow or cpu)" : ""
    }`,
  });
}
