import * as tf from "@tensorflow/tfjs-core";
import { configureWasmThreads, type WasmThreads, wasmThreadsStatus } from "./engine/wasm-threads.js";
import { Codes, VoxelpipeError } from "./errors.js";
import type { Logger } from "./logger.js";

/**
 * Tensor backends, best first. `auto` tries each in this order and uses the first that loads;
 * tfjs-node(-gpu) are optional extras (their install downloads libtensorflow), wasm and cpu ship
 * with voxelpipe.
 */
export const backendNames = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;
export type BackendName = (typeof backendNames)[number];
export type BackendChoice = BackendName | "auto";

export interface SelectBackendOptions {
  /**
   * wasm only: XNNPACK threads, a count or "auto" (`os.availableParallelism()`, at most 8). More
   * than 1 loads tfjs-backend-wasm's threaded build (see engine/wasm-threads.ts), falling back to
   * the single-thread build with a logged reason when it cannot start. Default: tfjs's own loader
   * (1 thread in Node).
   */
  threads?: WasmThreads;
}

const loaders: Record<BackendName, (opts: SelectBackendOptions, logger?: Logger) => Promise<string>> = {
  // the node bindings register the "tensorflow" backend on import
  "tensorflow-gpu": async () => {
    await import(/* @vite-ignore */ "@tensorflow/tfjs-node-gpu" as string);
    return "tensorflow";
  },
  tensorflow: async () => {
    await import(/* @vite-ignore */ "@tensorflow/tfjs-node" as string);
    return "tensorflow";
  },
  wasm: async (opts, logger) => {
    await import("@tensorflow/tfjs-backend-wasm");
    if (opts.threads !== undefined) await configureWasmThreads(opts.threads, { logger });
    return "wasm";
  },
  cpu: async () => {
    await import("@tensorflow/tfjs-backend-cpu");
    return "cpu";
  },
};

export interface BackendSelection {
  name: BackendName;
  /** the tfjs backend id actually active */
  tfBackend: string;
  /** why each earlier candidate was skipped */
  skipped: { name: BackendName; reason: string }[];
  /** wasm with `threads` set: the threads in use, and why not more (fallback) */
  threads?: { requested: number; actual: number; fallback?: string };
}

function shortReason(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  if (/Cannot find (package|module)|ERR_MODULE_NOT_FOUND/.test(m)) return "not installed";
  return m.split("\n")[0].slice(0, 160);
}

/** Select and initialise a backend; logs the choice and why others were skipped. */
export async function selectBackend(
  choice: BackendChoice = "auto",
  logger?: Logger,
  options: SelectBackendOptions = {},
): Promise<BackendSelection> {
  const order: BackendName[] = choice === "auto" ? [...backendNames] : [choice];
  const skipped: BackendSelection["skipped"] = [];
  // PROD silences tfjs's "install tfjs-node" banner; we log the backend choice ourselves
  tf.env().set("PROD", true);
  for (const name of order) {
    try {
      const id = await loaders[name](options, logger);
      const ok = await tf.setBackend(id);
      if (!ok) throw new Error(`tf.setBackend("${id}") returned false`);
      await tf.ready();
      const sel: BackendSelection = { name, tfBackend: tf.getBackend(), skipped };
      const st = name === "wasm" && options.threads !== undefined ? wasmThreadsStatus() : undefined;
      if (st) sel.threads = { requested: st.requested, actual: st.threads, fallback: st.fallback };
      if (logger) {
        const why = skipped.map((s) => `${s.name}: ${s.reason}`).join("; ");
        logger.info(`backend: ${name}${why ? ` (skipped ${why})` : ""}`);
      }
      return sel;
    } catch (e) {
      skipped.push({ name, reason: shortReason(e) });
    }
  }
  throw new VoxelpipeError({
    code: Codes.backend,
    message: `no tensor backend could be loaded (${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")})`,
    expected: choice === "auto" ? "one of tensorflow-gpu, tensorflow, wasm, cpu" : choice,
    hint:
      choice === "tensorflow" || choice === "tensorflow-gpu"
        ? `install it with \`npm i @tensorflow/tfjs-node${choice === "tensorflow-gpu" ? "-gpu" : ""}@4.22.0\` (needs internet) or use --backend wasm`
        : "reinstall dependencies with `npm ci`",
  });
}
