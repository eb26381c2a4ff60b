// Over 300 lines by design: one loader for the threaded wasm build: the Emscripten module config, the worker
// bootstrap and the backend registration depend on each other (explained below).
/**
 * Multi-threaded tfjs-backend-wasm in Node (XNNPACK's Conv2D, MatMul, … on several cores).
 *
 * tfjs-backend-wasm 4.22 never loads its threaded build in Node: `WASM_HAS_MULTITHREAD_SUPPORT` is
 * false when `IS_NODE`, and forcing it fails because its loader gives Emscripten Blob URLs for the
 * pthread worker and the main script, which `worker_threads` rejects (`ERR_WORKER_PATH`). The
 * threaded build itself supports Node. So this module instantiates it with its own Emscripten
 * module config and registers the result as the "wasm" backend (a `BackendWasm`, the class tfjs
 * exports, so every wasm kernel — and voxelpipe's kernel fixes — run on it unchanged):
 *
 * - `mainScriptUrlOrBlob` = the real path of `wasm-out/tfjs-backend-wasm-threaded-simd.js`; each
 *   pthread worker loads it with `require` (ordinary module loading, no eval of library text).
 * - `locateFile("….worker.js")` = a `data:` URL holding {@link PTHREAD_WORKER}, voxelpipe's own port
 *   of the package's Emscripten worker script (which the package ships only as a string, for Blob
 *   URLs, and which `eval`s the main script; ours `require`s it).
 * - `instantiateWasm`: instantiates the precompiled binary with `emscripten_num_logical_cores`
 *   reporting 2·threads: the C side caps the pool at `num_logical_cores / 2` ("hyper-threads"), which
 *   is 1 on a 2-core machine whatever `setThreadsCount` asks for.
 *
 * After the backend exists, the pthread workers XNNPACK keeps (threads − 1; the calling thread is
 * the last one) are `unref`'d so they never keep the process alive, and the 8 − (threads − 1)
 * workers Emscripten pre-spawned but nobody uses are terminated (≈ 55 MB RSS). Any failure falls
 * back to tfjs's own single-thread SIMD build, with the reason logged and reported.
 *
 * The heap is a shared WebAssembly.Memory (SharedArrayBuffer) with the same maximum as the
 * single-thread build: 65536 pages, `getHeapMax()` = 4,294,901,760 bytes.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import type { Logger } from "../logger.js";
import {
  installWasmKernelFixes,
  uninstallWasmKernelFixes,
  wasmKernelFixesInstalled,
  wasmKernelFixNames,
} from "./wasm-kernels.js";

/** Threads for the wasm backend: a count (1 = tfjs's single-thread build) or "auto" (all cores). */
export type WasmThreads = number | "auto";

/** tfjs-backend-wasm 4.22 pre-spawns 8 pthread workers and caps its XNNPACK pool at 8 threads. */
export const WASM_MAX_THREADS = 8;

export interface WasmThreadsOptions {
  /** where the threaded build is (default: resolved from @tensorflow/tfjs-backend-wasm) */
  paths?: { js?: string; wasm?: string };
  /** logs the fallback reason (warn) and the thread count (info) */
  logger?: Logger;
  /** give up on the threaded build after this long (ms, default 60 000) */
  timeoutMs?: number;
}

export interface WasmThreadsStatus {
  /** threads asked for (after resolving "auto" and capping at WASM_MAX_THREADS) */
  requested: number;
  /** threads XNNPACK actually uses (`getThreadsCount()`) */
  threads: number;
  build: "threaded-simd" | "simd";
  /** why the threaded build is not used (absent when it is, or when 1 thread was asked for) */
  fallback?: string;
}

/** "auto" → `os.availableParallelism()`; capped to [1, WASM_MAX_THREADS]. */
export function resolveWasmThreads(threads: WasmThreads): number {
  const n = threads === "auto" ? os.availableParallelism() : Math.floor(threads);
  if (!Number.isFinite(n)) throw new RangeError(`wasm threads must be a number or "auto", got ${threads}`);
  return Math.min(Math.max(n, 1), WASM_MAX_THREADS);
}

/**
 * The pthread worker: Emscripten 3.1's worker.js protocol (load / run / cancel /
 * processProxyingQueue), loading the main script with `require` instead of `importScripts` (eval).
 * Plain JS run as an ES module from a data: URL (builtins only), so it works the same from
 * compiled code and from vitest's TypeScript sources.
 */
const PTHREAD_WORKER = `
import { parentPort } from "node:worker_threads";
import { createRequire } from "node:module";
let Module = {};
const post = (msg, transfer) => parentPort.postMessage(msg, transfer);
// the main script, running as a pthread, reads these globals (ENVIRONMENT_IS_WORKER, startWorker)
Object.assign(globalThis, {
  self: globalThis,
  location: { href: "" },
  importScripts() { throw new Error("voxelpipe's pthread worker loads the main script with require"); },
  postMessage: post,
  startWorker(instance) { Module = instance; post({ cmd: "loaded" }); },
});
Module.instantiateWasm = (info, receiveInstance) => {
  const instance = new WebAssembly.Instance(Module.wasmModule, info);
  receiveInstance(instance);
  Module.wasmModule = null;
  return instance.exports;
};
let initializedJS = false;
let pendingQueues = [];
parentPort.on("message", (d) => {
  try {
    if (d.cmd === "load") {
      Module.wasmModule = d.wasmModule;
      for (const h of d.handlers) Module[h] = (...args) => post({ cmd: "callHandler", handler: h, args });
      Module.wasmMemory = d.wasmMemory;
      Module.buffer = d.wasmMemory.buffer;
      Module.ENVIRONMENT_IS_PTHREAD = true;
      createRequire(d.urlOrBlob)(d.urlOrBlob)(Module);
    } else if (d.cmd === "run") {
      Module.__emscripten_thread_init(d.pthread_ptr, 0, 0, 1);
      Module.establishStackSpace();
      Module.PThread.receiveObjectTransfer(d);
      Module.PThread.threadInitTLS();
      if (!initializedJS) {
        for (const q of pendingQueues) Module.executeNotifiedProxyingQueue(q);
        pendingQueues = [];
        initializedJS = true;
      }
      try {
        Module.invokeEntryPoint(d.start_routine, d.arg);
      } catch (ex) {
        if (ex !== "unwind") {
          if (!(ex instanceof Module.ExitStatus)) throw ex;
          if (!Module.keepRuntimeAlive()) Module.__emscripten_thread_exit(ex.status);
        }
      }
    } else if (d.cmd === "cancel") {
      if (Module._pthread_self()) Module.__emscripten_thread_exit(-1);
    } else if (d.cmd === "processProxyingQueue") {
      if (initializedJS) Module.executeNotifiedProxyingQueue(d.queue);
      else pendingQueues.push(d.queue);
    } else if (d.cmd) {
      console.error("voxelpipe wasm pthread: unknown command " + d.cmd);
    }
  } catch (ex) {
    if (Module.__emscripten_thread_crashed) Module.__emscripten_thread_crashed();
    throw ex;
  }
});
`;

/** The parts of Emscripten's module object (threaded build) used here. */
interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: unknown[]) => unknown;
  PThread: {
    runningWorkers: { unref(): void }[];
    unusedWorkers: { terminate(): unknown }[];
    terminateAllThreads(): void;
  };
  tfjs?: Record<string, unknown>;
}

type WasmPkg = typeof import("@tensorflow/tfjs-backend-wasm");

/** The WebAssembly JS API calls used here (this package's TS lib has no WebAssembly types). */
type WasmCompiled = { readonly __compiledWasm: unique symbol };
type WasmInstance = { readonly __wasmInstance: unique symbol };
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<WasmCompiled>;
  instantiate(module: WasmCompiled, imports: object): Promise<WasmInstance>;
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
type Factory = () => tf.KernelBackend | Promise<tf.KernelBackend>;

// made on first use, not at import: the browser app bundles this module (via engine/index.ts) and has no createRequire
let required: NodeJS.Require | undefined;
const nodeRequire = (): NodeJS.Require => (required ??= createRequire(import.meta.url));
const WASM_PRIORITY = 2; // tfjs-backend-wasm's own

let stockFactory: Factory | undefined;
const ourFactories = new WeakSet<Factory>();
let lastStatus: WasmThreadsStatus | undefined;
let configured: string | undefined; // threads and paths of the registered factory

/** What the last initialised "wasm" backend registered here runs with (undefined before). */
export function wasmThreadsStatus(): WasmThreadsStatus | undefined {
  return lastStatus;
}

/**
 * Makes the "wasm" backend use `threads` threads: registers a factory that loads the threaded SIMD
 * build (falling back to tfjs's single-thread build, reason logged, when it cannot start), or
 * tfjs's own factory for 1 thread. Takes effect at the next `tf.setBackend("wasm")`. If a wasm
 * backend with another thread count is already initialised it is removed first (its tensors are
 * lost), so call this before creating wasm tensors. Returns whether anything changed.
 */
export async function configureWasmThreads(threads: WasmThreads, opts: WasmThreadsOptions = {}): Promise<boolean> {
  const n = resolveWasmThreads(threads);
  const wasmPkg: WasmPkg = await import("@tensorflow/tfjs-backend-wasm");
  const current = tf.findBackendFactory("wasm") as Factory | null;
  if (current && !ourFactories.has(current)) stockFactory = current;
  if (!stockFactory) throw new Error("@tensorflow/tfjs-backend-wasm registered no wasm backend");
  const key = JSON.stringify([n, opts.paths ?? null]);
  if (current && ourFactories.has(current) && configured === key) return false;
  const stock = stockFactory;
  const factory: Factory = async () => {
    let be: tf.KernelBackend;
    if (n === 1) {
      wasmPkg.setThreadsCount(-1);
      be = await stock();
      lastStatus = { requested: 1, threads: wasmPkg.getThreadsCount(), build: "simd" };
    } else {
      try {
        be = await createThreadedBackend(wasmPkg, n, opts);
        lastStatus = { requested: n, threads: wasmPkg.getThreadsCount(), build: "threaded-simd" };
        opts.logger?.info(`wasm: ${lastStatus.threads} threads (threaded SIMD build)`);
      } catch (e) {
        const reason = (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 200);
        opts.logger?.warn(`wasm: threaded build unavailable (${reason}); using the single-thread build`);
        wasmPkg.setThreadsCount(-1);
        be = await stock();
        lastStatus = { requested: n, threads: wasmPkg.getThreadsCount(), build: "simd", fallback: reason };
      }
    }
    setUpReplacedStockKernels(be);
    return be;
  };
  ourFactories.add(factory);
  if (current) tf.removeBackend("wasm"); // disposes an initialised one (terminating its workers)
  tf.registerBackend("wasm", factory, WASM_PRIORITY);
  configured = key;
  return true;
}

/**
 * tfjs binds each stock wasm kernel to a backend instance in the kernel's `setupFunc` (it caches
 * `backend.wasm.cwrap(…)`), which `tf.setBackend` runs for the kernels registered at that moment.
 * While voxelpipe's kernel fixes are installed, the stock configs they replace are not registered,
 * so a new wasm backend would leave them — still called by the fixes for the cases they hand back —
 * bound to the old, disposed module (`Aborted()` in the stock Sum on the next call). Set them up on
 * the new backend here; the fixes stay installed.
 */
function setUpReplacedStockKernels(backend: tf.KernelBackend): void {
  if (!wasmKernelFixesInstalled()) return;
  uninstallWasmKernelFixes();
  try {
    for (const name of wasmKernelFixNames) tf.getKernel(name, "wasm")?.setupFunc?.(backend);
  } finally {
    installWasmKernelFixes();
  }
}

function preflight(): void {
  if (typeof SharedArrayBuffer !== "function") throw new Error("SharedArrayBuffer is not available");
  // a module with a shared memory and an atomic op (tfjs' own threads check)
  const probe = [
    0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0,
    26, 11,
  ];
  if (!WebAssembly.validate(new Uint8Array(probe)))
    throw new Error("this WebAssembly engine has no threads (atomics, shared memory)");
}

async function createThreadedBackend(wasmPkg: WasmPkg, n: number, opts: WasmThreadsOptions): Promise<tf.KernelBackend> {
  preflight();
  const jsPath =
    opts.paths?.js ??
    nodeRequire().resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js");
  const wasmPath =
    opts.paths?.wasm ??
    nodeRequire().resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm");
  // compiled before any worker exists: a missing or unusable binary fails here, with nothing to clean up
  const compiled = await WebAssembly.compile(readFileSync(wasmPath));
  const moduleFactory = nodeRequire()(jsPath) as (cfg: object) => Promise<ThreadedModule>;
  const workerUrl = new URL(`data:text/javascript,${encodeURIComponent(PTHREAD_WORKER)}`);
  // rejected by a failed instantiation, an Emscripten abort or the time limit
  let abort: (e: Error) => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    abort = reject;
    const ms = opts.timeoutMs ?? 60_000;
    timer = setTimeout(() => reject(new Error(`pthread workers did not start within ${ms} ms`)), ms);
  });
  // Emscripten adds its own fields (PThread, …) to this object: it is the module being built
  const cfg: Record<string, unknown> = {
    mainScriptUrlOrBlob: jsPath,
    locateFile: (p: string, prefix: string) =>
      p.endsWith(".worker.js") ? workerUrl : p.endsWith(".wasm") ? wasmPath : prefix + p,
    instantiateWasm(info: { env: Record<string, unknown> }, receive: (i: WasmInstance, m: WasmCompiled) => void) {
      const env = { ...info.env, emscripten_num_logical_cores: () => 2 * n };
      WebAssembly.instantiate(compiled, { ...info, env }).then(
        (instance) => receive(instance, compiled),
        (e: unknown) => abort(e instanceof Error ? e : new Error(String(e))),
      );
      return {};
    },
    onAbort: (what: unknown) => abort(new Error(`wasm module aborted: ${String(what)}`)),
  };
  let module: ThreadedModule;
  try {
    module = await Promise.race([moduleFactory(cfg), failed]);
  } catch (e) {
    (cfg.PThread as ThreadedModule["PThread"] | undefined)?.terminateAllThreads();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  // the same bridge tfjs-backend-wasm's init() attaches
  module.tfjs = {
    init: module.cwrap("init", null, []),
    initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
    getThreadsCount: module.cwrap("get_threads_count", "number", []),
    registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
    disposeData: module.cwrap("dispose_data", null, ["number"]),
    dispose: module.cwrap("dispose", null, []),
  };
  wasmPkg.setThreadsCount(n);
  let backend: tf.KernelBackend;
  try {
    // its constructor creates XNNPACK's pool: pthread_create → the workers' "run"
    backend = new wasmPkg.BackendWasm(module as never);
  } catch (e) {
    module.PThread.terminateAllThreads();
    throw e;
  }
  // running pthreads are ref'd by Emscripten: they would keep the process alive forever
  for (const w of module.PThread.runningWorkers) w.unref();
  for (const w of module.PThread.unusedWorkers) w.terminate();
  module.PThread.unusedWorkers = [];
  return backend;
}
