import { Codes, type Model, tf, VoxelpipeError } from "@voxelpipe/core";
import { type MicroBatch, microBatches, sliceBatch } from "./micro-batch.js";
import { mixSeed, type StepGraph } from "./step-graph.js";

/** What one optimizer step's forward/backward produced: the batch's scalars and gradients. */
export interface StepOutcome {
  /** every scalar node of the step graph, for the whole batch */
  scalars: Record<string, number>;
  /** gradient of the objective for each trainable parameter, by name (the caller disposes them) */
  grads: Record<string, tf.Tensor>;
}

/** Runs the forward/backward of a batch: in this thread, or spread over model replicas in workers. */
export interface StepRunner {
  /** `seed`: this step's randomness (dropout); each pass derives its own from it and its first sample */
  step(batch: Record<string, tf.Tensor>, seed: number): Promise<StepOutcome>;
  /** the trainer changed the weights (optimizer step, restore): replicas must copy them */
  weightsChanged(): void;
  close(): Promise<void>;
}

export interface StepSpec {
  graph: StepGraph;
  objective: string;
  /** samples per pass */
  microBatch: number;
  reduction: "mean" | "sum";
}

/** the passes of a batch: one when it fits a pass (weight 1: the objective is used as it is) */
export function passesOf(batch: Record<string, tf.Tensor>, spec: StepSpec): MicroBatch[] {
  const n = Object.values(batch)[0]?.shape[0] ?? 1;
  return n <= spec.microBatch ? [{ start: 0, size: n, weight: 1 }] : microBatches(n, spec.microBatch, spec.reduction);
}

/**
 * One pass: the gradient of `weight × objective` on the pass's samples, and its scalars (weighted,
 * so that the passes' values add up to the batch's). Used by this thread and by every replica, so
 * a pass computes the same numbers wherever it runs.
 */
export function runPass(
  model: Model,
  spec: StepSpec,
  part: Record<string, tf.Tensor>,
  weight: number,
  seed: number,
): { scalars: Record<string, number>; grads: Map<string, tf.Tensor> } {
  const { kept, grads } = runPassKeep(model, spec, part, seed, weight);
  const scalars: Record<string, number> = {};
  for (const [n, t] of Object.entries(kept)) {
    scalars[n] = weight * t.dataSync()[0];
    t.dispose();
  }
  return { scalars, grads };
}

/**
 * runPass with the scalars read asynchronously: webgpu in Node has no synchronous read (dataSync),
 * so this thread's step runner reads them after the pass; the values are the same.
 */
export async function runPassAsync(
  model: Model,
  spec: StepSpec,
  part: Record<string, tf.Tensor>,
  weight: number,
  seed: number,
): Promise<{ scalars: Record<string, number>; grads: Map<string, tf.Tensor> }> {
  const { kept, grads } = runPassKeep(model, spec, part, seed, weight);
  const scalars: Record<string, number> = {};
  for (const [n, t] of Object.entries(kept)) {
    scalars[n] = weight * (await t.data())[0];
    t.dispose();
  }
  return { scalars, grads };
}

/** the pass itself; the graph's scalars are kept (as copies: the lean tape frees the originals) */
function runPassKeep(
  model: Model,
  spec: StepSpec,
  part: Record<string, tf.Tensor>,
  seed: number,
  weight = 1,
): { kept: Record<string, tf.Tensor>; grads: Map<string, tf.Tensor> } {
  const trainable = [...model.params].filter(([, v]) => v.trainable);
  const kept: Record<string, tf.Tensor> = {};
  const { value, grads } = tf.variableGrads(
    () => {
      const env = spec.graph.run(part, { model }, { training: true, seed });
      for (const n of spec.graph.scalarNames) {
        const t = env.get(n);
        if (t) kept[n] = tf.keep(tf.clone(t));
      }
      const obj = env.get(spec.objective) as tf.Scalar;
      return weight === 1 ? obj : (tf.mul(obj, weight) as tf.Scalar);
    },
    trainable.map(([, v]) => v),
  );
  value.dispose();
  return { kept, grads: new Map(trainable.map(([k, v]) => [k, grads[v.name]])) };
}

/** add b's scalars into a (in pass order: the same sums however the passes were spread) */
export function addScalars(a: Record<string, number>, b: Record<string, number>): void {
  for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
}

/** true for the ways tfjs-backend-wasm fails when its heap is exhausted */
export function isWasmOutOfMemory(e: unknown): boolean {
  const m = e instanceof Error ? e.message : String(e);
  return /memory access out of bounds|Aborted\(|Out of memory|Cannot enlarge memory|xnn_.* status 6|RangeError: Array buffer allocation failed/i.test(
    m,
  );
}

export function outOfMemoryError(where: string, detail: string, hint: string): VoxelpipeError {
  return new VoxelpipeError({
    code: Codes.outOfMemory,
    message: `the training step ran out of memory (${where})`,
    got: detail,
    hint,
  });
}

/** Every pass in this thread; gradients summed in pass order. */
export class LocalStepRunner implements StepRunner {
  constructor(
    private readonly model: Model,
    private readonly spec: StepSpec,
    private readonly oomHint: string,
  ) {}

  async step(batch: Record<string, tf.Tensor>, seed: number): Promise<StepOutcome> {
    const scalars: Record<string, number> = {};
    let acc: Map<string, tf.Tensor> | undefined;
    try {
      for (const mb of passesOf(batch, this.spec)) {
        const part = mb.weight === 1 && mb.start === 0 ? batch : sliceBatch(batch, mb);
        const r = await runPassAsync(this.model, this.spec, part, mb.weight, mixSeed(seed, mb.start));
        if (part !== batch) tf.dispose(Object.values(part));
        addScalars(scalars, r.scalars);
        if (!acc) acc = r.grads;
        else {
          for (const [k, g] of r.grads) {
            const prev = acc.get(k)!;
            acc.set(k, tf.add(prev, g));
            tf.dispose([prev, g]);
          }
        }
      }
    } catch (e) {
      if (acc) tf.dispose([...acc.values()]);
      if (isWasmOutOfMemory(e)) throw outOfMemoryError("wasm heap", (e as Error).message, this.oomHint);
      throw e;
    }
    return { scalars, grads: Object.fromEntries(acc ?? []) };
  }

  weightsChanged(): void {}

  async close(): Promise<void> {}
}
