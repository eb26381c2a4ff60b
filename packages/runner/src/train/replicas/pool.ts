import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Codes, type Logger, type Model, tf, VoxelpipeError } from "@voxelpipe/core";
import { mixSeed } from "../step-graph.js";
import {
  addScalars,
  outOfMemoryError,
  passesOf,
  type StepOutcome,
  type StepRunner,
  type StepSpec,
} from "../step-runner.js";
import type { FromReplica, Packed, ReplicaSource, ToReplica } from "./protocol.js";

/** The compiled worker script. Tests run the sources (.ts), whose workers use the built dist/ file. */
function workerFile(): string {
  const here = import.meta.url;
  const url = here.endsWith(".ts")
    ? new URL("../../../dist/train/replicas/worker.js", here)
    : new URL("./worker.js", here);
  return fileURLToPath(url);
}

/** a message without the fields send() fills in */
type Outgoing = ToReplica extends infer T ? (T extends unknown ? Omit<T, "id" | "version"> : never) : never;

interface Pending {
  resolve: (m: FromReplica) => void;
  reject: (e: Error) => void;
}

interface Replica {
  worker: Worker;
  pending: Map<number, Pending>;
  busy: number;
  dead?: Error;
}

/**
 * Copies of a model on worker threads, each with its own tfjs backend (on wasm: its own heap). The
 * model stays authoritative in this thread: when its weights change they are written to a shared
 * buffer that replicas copy from before their next message. Replicas run training passes (the
 * trainer's data parallelism, ReplicaStepRunner) and predictions (sliding windows spread over
 * threads, in training validation and the infer stage).
 */
export class ModelReplicas {
  private replicas: Replica[] = [];
  private nextId = 1;
  private version = 0;
  private dirty = true;
  private readonly weights: Float32Array;
  private readonly layout: ReplicaSource["layout"];
  private readonly trainable: { name: string; size: number; shape: number[] }[];

  private constructor(
    private readonly model: Model,
    private readonly oomHint: string,
  ) {
    this.layout = [...model.params].map(([name, v]) => ({ name, size: v.size, trainable: v.trainable }));
    this.trainable = [...model.params]
      .filter(([, v]) => v.trainable)
      .map(([name, v]) => ({ name, size: v.size, shape: v.shape }));
    const total = this.layout.reduce((a, l) => a + l.size, 0);
    this.weights = new Float32Array(new SharedArrayBuffer(total * 4));
  }

  static async start(o: {
    model: Model;
    count: number;
    source: Omit<ReplicaSource, "layout" | "weights">;
    logger: Logger;
    oomHint: string;
  }): Promise<ModelReplicas> {
    const r = new ModelReplicas(o.model, o.oomHint);
    const src: ReplicaSource = { ...o.source, layout: r.layout, weights: r.weights.buffer as SharedArrayBuffer };
    const file = workerFile();
    const ready = Array.from({ length: o.count }, (_, i) => r.spawn(file, src, o.logger.child(`replica ${i}`)));
    try {
      await Promise.all(ready);
    } catch (e) {
      await r.close();
      throw e;
    }
    return r;
  }

  private spawn(file: string, src: ReplicaSource, logger: Logger): Promise<void> {
    const worker = new Worker(file, { workerData: src });
    const rep: Replica = { worker, pending: new Map(), busy: 0 };
    this.replicas.push(rep);
    return new Promise<void>((resolveReady, rejectReady) => {
      const fail = (e: Error) => {
        rep.dead = e;
        rejectReady(e);
        for (const p of rep.pending.values()) p.reject(e);
        rep.pending.clear();
      };
      worker.on("message", (m: FromReplica) => {
        if (m.type === "log") logger[m.level](m.line);
        else if (m.type === "ready") resolveReady();
        else if (m.type === "init-error") fail(new VoxelpipeError(m.diagnostics));
        else {
          const p = rep.pending.get(m.id);
          rep.pending.delete(m.id);
          rep.busy--;
          if (!p) return;
          if (m.type === "error")
            p.reject(
              m.outOfMemory
                ? outOfMemoryError("wasm heap of a model replica", m.diagnostics[0]?.message ?? "", this.oomHint)
                : new VoxelpipeError(m.diagnostics),
            );
          else p.resolve(m);
        }
      });
      worker.on("error", (e) => fail(outOfMemoryOr(e, this.oomHint)));
      worker.on("exit", (code) => {
        if (code !== 0 || rep.pending.size) fail(replicaFailed(`exited with code ${code}`, this.oomHint));
      });
    });
  }

  /** send a message to the least busy live replica */
  private send(msg: Outgoing, transfer: ArrayBuffer[]): Promise<FromReplica> {
    const live = this.replicas.filter((r) => !r.dead);
    if (!live.length) return Promise.reject(this.replicas[0]?.dead ?? new Error("no model replica is running"));
    const rep = live.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    rep.busy++;
    return new Promise((resolve, reject) => {
      rep.pending.set(id, { resolve, reject });
      rep.worker.postMessage({ ...msg, id, version: this.version }, transfer);
    });
  }

  weightsChanged(): void {
    this.dirty = true;
  }

  /** write the model's current weights to the shared buffer (replicas copy them before their next message) */
  private publishWeights(): void {
    if (!this.dirty) return;
    let off = 0;
    for (const { name, size } of this.layout) {
      this.weights.set(this.model.params.get(name)!.dataSync() as Float32Array, off);
      off += size;
    }
    this.version++;
    this.dirty = false;
  }

  /** one training pass on a replica: gradients of the trainable parameters (layout order) and scalars */
  async pass(
    part: Record<string, Packed>,
    weight: number,
    seed: number,
  ): Promise<{ scalars: Record<string, number>; grads: Float32Array }> {
    this.publishWeights();
    const transfer = Object.values(part).map((p) => p.data.buffer as ArrayBuffer);
    const m = (await this.send({ type: "pass", part, weight, seed }, transfer)) as Extract<
      FromReplica,
      { type: "pass-done" }
    >;
    return { scalars: m.scalars, grads: m.grads };
  }

  /** the trainable parameters in the order of a pass's gradient buffer */
  get trainableLayout(): readonly { name: string; size: number; shape: number[] }[] {
    return this.trainable;
  }

  /** the model's prediction on a batch of windows, computed by a replica (sliding windows spread over threads) */
  async predict(x: tf.Tensor): Promise<tf.Tensor> {
    this.publishWeights();
    const data = (x.dataSync() as Float32Array).slice();
    const m = (await this.send({ type: "predict", x: { shape: x.shape, data } }, [data.buffer])) as Extract<
      FromReplica,
      { type: "predict-done" }
    >;
    return tf.tensor(m.y.data, m.y.shape, "float32");
  }

  get size(): number {
    return this.replicas.length;
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.worker.terminate()));
    this.replicas = [];
  }
}

/**
 * Data parallelism: the passes (micro-batches) of a batch go to the replicas; their gradients come
 * back and are summed here in pass order — so the result does not depend on how many replicas ran
 * them. The optimizer stays in this thread.
 */
export class ReplicaStepRunner implements StepRunner {
  constructor(
    readonly replicas: ModelReplicas,
    private readonly spec: StepSpec,
  ) {}

  weightsChanged(): void {
    this.replicas.weightsChanged();
  }

  async step(batch: Record<string, tf.Tensor>, seed: number): Promise<StepOutcome> {
    const passes = passesOf(batch, this.spec);
    const whole = Object.entries(batch).map(([k, t]) => [k, t.dataSync() as Float32Array, t.shape] as const);
    const results = passes.map((mb) => {
      const part: Record<string, Packed> = {};
      for (const [k, data, shape] of whole) {
        const per = data.length / shape[0];
        part[k] = { shape: [mb.size, ...shape.slice(1)], data: data.slice(mb.start * per, (mb.start + mb.size) * per) };
      }
      return this.replicas.pass(part, mb.weight, mixSeed(seed, mb.start));
    });
    // sum in pass order, whatever order the replicas finish in
    const scalars: Record<string, number> = {};
    let acc: Float32Array | undefined;
    let failure: unknown;
    for (const r of results) {
      try {
        const m = await r;
        if (failure) continue;
        addScalars(scalars, m.scalars);
        if (!acc) acc = m.grads;
        else for (let i = 0; i < acc.length; i++) acc[i] += m.grads[i];
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure) throw failure;
    const grads: Record<string, tf.Tensor> = {};
    let off = 0;
    for (const { name, size, shape } of this.replicas.trainableLayout) {
      grads[name] = tf.tensor(acc!.subarray(off, off + size), shape, "float32");
      off += size;
    }
    return { scalars, grads };
  }

  async close(): Promise<void> {
    await this.replicas.close();
  }
}

/** a replica thread that crashed: out of memory when it looks like it, else a runtime diagnostic (never exit 70) */
function outOfMemoryOr(e: Error, hint: string): Error {
  return /memory|Aborted/i.test(e.message)
    ? outOfMemoryError("model replica", e.message, hint)
    : replicaFailed(e.message, hint);
}

function replicaFailed(what: string, hint: string): VoxelpipeError {
  return new VoxelpipeError({
    code: Codes.runtime,
    message: `a model replica (worker thread) failed: ${what}`,
    hint: `with --threads 1 the step runs in this thread when it fits there, and its error shows directly; ${hint}`,
  });
}
