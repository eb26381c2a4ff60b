/**
 * A data-loading worker thread. It rebuilds the transform chain from its ChainSource (config as
 * data, plugins loaded by path) and runs tasks: a range of the chain on the items it is sent.
 * Results go back with their buffers transferred; failures as diagnostics naming the subject,
 * the transform's config path and the sample.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createLogger, RngStreams, type Transform } from "@voxelpipe/core";
import { ChainError, runRange } from "@voxelpipe/transforms";
import { componentRegistries } from "../builtins/components.js";
import { buildChain, type ChainSource, chainPath } from "./chain-source.js";
import { type FromWorker, type Task, toDiagnostics } from "./protocol.js";
import { cloneSamples, transferables } from "./sample-codec.js";

const port = parentPort;
if (!port) throw new Error("data/worker.js runs as a worker thread of the voxelpipe loader");
const src = workerData as ChainSource;

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  try {
    port!.postMessage(msg, transfer);
  } catch {
    port!.postMessage(msg); // an untransferable buffer (e.g. Node's Buffer pool): copy instead
  }
}

const logger = createLogger({ level: "debug", write: (level, line) => post({ type: "log", level, line }) });

let chain: Transform[] = [];
try {
  chain = await buildChain(src, componentRegistries(), logger);
  post({ type: "ready", length: chain.length });
} catch (e) {
  // the loader terminates this worker when it reads this
  post({ type: "init-error", diagnostics: toDiagnostics(e) });
}
const rng = new RngStreams(src.rngSeed);

port.on("message", (t: Task) => {
  const item = { index: t.index, epoch: t.epoch, subject: t.subject, pathOf: (i: number) => chainPath(src, i) };
  try {
    let items = t.items;
    let from = t.from;
    let prefix: typeof items | undefined;
    if (t.prefixEnd !== undefined) {
      items = runRange(items, chain, from, t.prefixEnd, rng, item);
      prefix = cloneSamples(items);
      from = t.prefixEnd;
    }
    const samples = runRange(items, chain, from, chain.length, rng, item);
    const msg: FromWorker = { type: "done", id: t.id, samples, prefix };
    post(msg, transferables([samples, prefix]));
  } catch (e) {
    post({ type: "error", id: t.id, diagnostics: toDiagnostics(e), ti: e instanceof ChainError ? e.ti : undefined });
  }
});
