import { totalmem } from "node:os";
import { Codes, type Model, type ModelMemory, VoxelpipeError } from "@voxelpipe/core";

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
}

/** the memory one heap may use on this backend, or null where there is no fixed limit we know */
export function backendLimit(backend: string): { bytes: number | null; source: string } {
  if (backend === "wasm") return { bytes: WASM_HEAP_MAX, source: "wasm32 heap maximum (per thread)" };
  if (backend === "cpu" || backend === "tensorflow")
    return { bytes: totalmem(), source: "system memory (os.totalmem)" };
  return { bytes: null, source: `no known limit for backend ${backend}` };
}

export function planExecution(o: PlanInput): ExecutionPlan {
  let params = 0;
  for (const v of o.model.params.values()) if (v.trainable) params += v.size * 4;
  const optimizer = o.optimizerSlots * params;
  const limit = backendLimit(o.backend);
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

  if (o.coupled && typeof o.microBatch === "number" && o.microBatch < o.batch) {
    throw new VoxelpipeError({
      code: Codes.executionPlan,
      message: `micro_batch ${o.microBatch} < batch ${o.batch}, but ${o.coupled}: split into micro-batches its gradient would not be the batch's`,
      hint: `remove micro_batch (${o.where("micro_batch")}) or use a loss whose batch value is the mean of per-sample values (e.g. DiceLoss/DiceCELoss with batch: false and no class-weighted mean)`,
    });
  }
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
      params_bytes: params,
      optimizer_bytes: optimizer,
      per_sample_saved_bytes: e?.saved ?? null,
      per_sample_workspace_bytes: e?.workspace ?? null,
      step_bytes: bytes,
      whole_batch_bytes: whole ? heap(b, whole, 1, true) : null,
    };
  };
  if (!est(false) || limit.bytes === null) {
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
  const m = o.coupled ? b : 1;
  const need = heap(m, mem, Math.ceil(b / m), false);
  throw new VoxelpipeError({
    code: Codes.outOfMemory,
    message: `${m === 1 ? "one training sample" : `a pass of the whole batch (${m} samples)`} needs an estimated ${gb(need)} (${gb(params)} weights and as much for gradients, ${gb(m * (mem.saved + mem.workspace))} of activations${canCheckpoint ? " with checkpointing" : ""}), more than the ${limit.source} allows (${gb(HEADROOM * limit.bytes)} usable of ${gb(limit.bytes)})`,
    got: `batch ${b}${o.coupled ? ` (not splittable: ${o.coupled})` : ""}, ${o.threads} thread(s)`,
    hint: `make the model or its input smaller (roi / img_size, feature_size, hidden_size) in ${o.where("model")}${
      o.backend === "wasm" ? ", or use a backend without wasm's 4 GB heap (--backend tensorflow or cpu)" : ""
    }`,
  });
}
