/**
 * A model replica: a worker thread with its own tfjs backend (on wasm: its own 4 GB heap and
 * XNNPACK threads), the model and step graph rebuilt from config, and the trainer's weights copied
 * from a shared buffer whenever their version changes. It runs passes (forward + backward of one
 * micro-batch) and predictions; failures go back as diagnostics, a heap exhaustion flagged as such.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createLogger, engine, selectBackend, tf } from "@voxelpipe/core";
import { componentRegistries } from "../../builtins/components.js";
import { toDiagnostics } from "../../data/protocol.js";
import { isWasmOutOfMemory, runPass } from "../step-runner.js";
import type { FromReplica, Packed, ReplicaSource, ToReplica } from "./protocol.js";
import { buildReplica } from "./source.js";

const port = parentPort;
if (!port) throw new Error("train/replicas/worker.js runs as a worker thread of the trainer");
const src = workerData as ReplicaSource;
const post = (msg: FromReplica, transfer: ArrayBuffer[] = []) => port!.postMessage(msg, transfer);
const logger = createLogger({ level: "debug", write: (level, line) => post({ type: "log", level, line }) });

const unpack = (p: Packed) => tf.tensor(p.data, p.shape, "float32");

let version = -1;
function syncWeights(model: { params: Map<string, tf.Variable> }, want: number): void {
  if (want === version) return;
  const all = new Float32Array(src.weights);
  let off = 0;
  for (const { name, size } of src.layout) {
    const v = model.params.get(name)!;
    // a copy: the trainer rewrites the shared buffer while this replica is idle
    tf.tidy(() => v.assign(tf.tensor(all.slice(off, off + size), v.shape, "float32")));
    off += size;
  }
  version = want;
}

try {
  const sel = await selectBackend(src.backend as never, logger, { threads: src.backendThreads });
  engine.prepareBackend(sel.tfBackend);
  const { model, graph } = await buildReplica(src, componentRegistries(), logger);
  const spec = graph && src.step ? { graph, ...src.step } : undefined;
  const trainable = src.layout.filter((l) => l.trainable);
  const gradSize = trainable.reduce((a, l) => a + l.size, 0);
  port.on("message", (m: ToReplica) => {
    try {
      syncWeights(model as never, m.version);
      if (m.type === "pass") {
        if (!spec) throw new Error("this model replica was started for prediction only");
        const part = Object.fromEntries(Object.entries(m.part).map(([k, p]) => [k, unpack(p)]));
        const { scalars, grads } = runPass(model, spec, part, m.weight, m.seed);
        tf.dispose(Object.values(part));
        const out = new Float32Array(gradSize);
        let off = 0;
        for (const { name, size } of trainable) {
          const g = grads.get(name)!;
          out.set(g.dataSync() as Float32Array, off);
          g.dispose();
          off += size;
        }
        post({ type: "pass-done", id: m.id, scalars, grads: out }, [out.buffer]);
      } else {
        const x = unpack(m.x);
        const y = tf.tidy(() => model.apply(x, { training: false }));
        x.dispose();
        const data = y.dataSync() as Float32Array;
        const shape = y.shape;
        y.dispose();
        post({ type: "predict-done", id: m.id, y: { shape, data } }, [data.buffer as ArrayBuffer]);
      }
    } catch (e) {
      post({ type: "error", id: m.id, diagnostics: toDiagnostics(e), outOfMemory: isWasmOutOfMemory(e) });
    }
  });
  post({ type: "ready" });
} catch (e) {
  post({ type: "init-error", diagnostics: toDiagnostics(e) });
}
