/**
 * Worker threads running a transform chain. Each worker rebuilds the chain from its ChainSource;
 * tasks go to the least busy worker; results come back with their buffers transferred. A worker
 * keeps the process alive only while it has work (an abandoned pool never blocks exit), and a
 * worker that fails or exits fails its pending tasks instead of leaving them waiting forever.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Codes, type Logger, VoxelpipeError } from "@voxelpipe/core";
import type { ChainSource } from "./chain-source.js";
import type { FromWorker, Task, TaskResult } from "./protocol.js";
import { transferables } from "./sample-codec.js";

/** The compiled worker script. Tests run the sources (.ts), whose workers use the built dist/ file. */
export function workerFile(): string {
  const here = import.meta.url;
  const url = here.endsWith(".ts") ? new URL("../../dist/data/worker.js", here) : new URL("./worker.js", here);
  return fileURLToPath(url);
}

interface Pending {
  resolve: (r: TaskResult) => void;
  reject: (e: Error) => void;
  ti?: number;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  alive: boolean;
}

export type TaskInput = Omit<Task, "type" | "id">;

/** Thrown for a task whose transform failed in a worker; `ti` is the failing transform's position. */
export class WorkerTaskError extends VoxelpipeError {
  constructor(
    diagnostics: ConstructorParameters<typeof VoxelpipeError>[0],
    readonly ti?: number,
  ) {
    super(diagnostics);
  }
}

export class WorkerPool {
  private slots: Slot[] = [];
  private nextId = 1;
  private inFlight = 0;
  private started?: Promise<void>;
  private closed = false;
  /** the most tasks that were in flight at once */
  maxInFlight = 0;

  constructor(
    private readonly src: ChainSource,
    readonly size: number,
    /** the main thread's chain length: a worker that builds another length is a bug, not a data problem */
    private readonly expectLength: number,
    private readonly logger?: Logger,
  ) {}

  /** live workers */
  get live(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  /** start the workers (once) and wait until each has built its chain */
  start(): Promise<void> {
    this.started ??= this.spawn();
    return this.started;
  }

  private async spawn(): Promise<void> {
    const file = workerFile();
    if (!existsSync(file)) {
      throw new VoxelpipeError({
        code: Codes.runtime,
        message: `the data-loading worker script ${file} does not exist`,
        hint: "build the runner first (npx tsc -p packages/runner), or set loader.num_workers: 0",
      });
    }
    const ready = Array.from({ length: this.size }, () => {
      const worker = new Worker(file, { workerData: this.src });
      const slot: Slot = { worker, pending: new Map(), alive: true };
      this.slots.push(slot);
      return new Promise<void>((resolve, reject) => {
        worker.on("message", (m: FromWorker) => {
          if (m.type === "ready") {
            if (m.length !== this.expectLength) {
              reject(
                new VoxelpipeError({
                  code: Codes.runtime,
                  message: `a loader worker built ${m.length} transforms for ${this.src.list}, the stage has ${this.expectLength}`,
                  hint: "the chain must be rebuilt from the same config; report this as a bug",
                }),
              );
            } else resolve();
            worker.unref();
          } else if (m.type === "init-error") {
            reject(new VoxelpipeError(m.diagnostics));
          } else this.onMessage(slot, m);
        });
        worker.on("error", (e) => {
          reject(e);
          this.fail(slot, e);
        });
        worker.on("exit", (code) => {
          const e = new VoxelpipeError({
            code: Codes.runtime,
            message: `a data-loading worker exited (code ${code}) with work pending`,
          });
          reject(e);
          this.fail(slot, e);
        });
      });
    });
    try {
      await Promise.all(ready);
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (m.type === "log") {
      this.logger?.[m.level](m.line);
      return;
    }
    if (m.type !== "done" && m.type !== "error") return;
    const p = slot.pending.get(m.id);
    if (!p) return;
    slot.pending.delete(m.id);
    this.inFlight--;
    if (slot.pending.size === 0) slot.worker.unref();
    if (m.type === "done") p.resolve({ samples: m.samples, prefix: m.prefix });
    else p.reject(new WorkerTaskError(m.diagnostics, m.ti));
  }

  private fail(slot: Slot, e: Error): void {
    slot.alive = false;
    for (const p of slot.pending.values()) {
      this.inFlight--;
      p.reject(e);
    }
    slot.pending.clear();
  }

  /**
   * Run a task on the least busy worker. With `transfer`, the buffers of `items` move to the
   * worker (the caller must own them: a fresh copy); otherwise they are copied.
   */
  async run(input: TaskInput, transfer: boolean): Promise<TaskResult> {
    await this.start();
    const slot = this.slots
      .filter((s) => s.alive)
      .reduce<Slot | undefined>((a, s) => (!a || s.pending.size < a.pending.size ? s : a), undefined);
    if (!slot || this.closed) {
      throw new VoxelpipeError({ code: Codes.runtime, message: "the data-loading workers have stopped" });
    }
    const id = this.nextId++;
    const task: Task = { type: "task", id, ...input };
    return new Promise<TaskResult>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      slot.worker.ref();
      try {
        slot.worker.postMessage(task, transfer ? transferables(task.items) : []);
      } catch {
        slot.worker.postMessage(task); // an untransferable buffer: copy instead
      }
    });
  }

  /** terminate every worker; pending tasks fail */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots;
    this.slots = [];
    for (const s of slots) {
      s.worker.removeAllListeners("exit");
      this.fail(s, new VoxelpipeError({ code: Codes.runtime, message: "the data loader was closed" }));
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
