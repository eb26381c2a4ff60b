import * as tf from "@tensorflow/tfjs-core";
import { describeAdapter, type GpuAdapterSummary, initWebgpu, isNode } from "./engine/gpu-adapter.js";
import type { WasmThreads } from "./engine/wasm-threads.js";
import { Codes, VoxelpipeError } from "./errors.js";
import type { Logger } from "./logger.js";

export type { GpuAdapterSummary } from "./engine/gpu-adapter.js";

/**
 * Tensor backends. `auto` tries, in Node: tensorflow-gpu → tensorflow → webgpu (hardware adapter
 * only) → wasm → cpu; in a browser: webgpu (any adapter the browser gives) → webgl → wasm → cpu.
 * tfjs-node(-gpu) are optional extras (their install downloads libtensorflow); webgpu runs on
 * Dawn (the optional `webgpu` package) in Node and on `navigator.gpu` in browsers; webgl is
 * browser-only; wasm and cpu ship with voxelpipe.
 *
 * This module is bundled into the browser app too: no top-level node: imports, and Node-only
 * modules (tfjs-node, Dawn, wasm threads) are imported dynamically through non-literal specifiers.
 */
export const backendNames = ["tensorflow-gpu", "tensorflow", "webgpu", "webgl", "wasm", "cpu"] as const;
export type BackendName = (typeof backendNames)[number];
export type BackendChoice = BackendName | "auto";

/** `text` as a backend choice, or VP180 naming where it came from (a CLI flag, a config path). */
export function parseBackendChoice(text: string, path?: string): BackendChoice {
  if (text === "auto" || (backendNames as readonly string[]).includes(text)) return text as BackendChoice;
  throw new VoxelpipeError({
    code: Codes.backend,
    message: `unknown backend "${text}"`,
    ...(path ? { path } : {}),
    expected: `auto or one of ${backendNames.join(", ")}`,
    got: text,
  });
}

/** The order `auto` tries, for this environment. */
export function autoBackendOrder(node: boolean = isNode()): BackendName[] {
  return node ? ["tensorflow-gpu", "tensorflow", "webgpu", "wasm", "cpu"] : ["webgpu", "webgl", "wasm", "cpu"];
}

export interface SelectBackendOptions {
  /**
   * wasm only: XNNPACK threads, a count or "auto" (`os.availableParallelism()`, at most 8). More
   * than 1 loads tfjs-backend-wasm's threaded build (see engine/wasm-threads.ts), falling back to
   * the single-thread build with a logged reason when it cannot start. Default: tfjs's own loader
   * (1 thread in Node).
   */
  threads?: WasmThreads;
}

interface LoadContext {
  opts: SelectBackendOptions;
  logger?: Logger;
  /** the backend was named (not tried by `auto`) */
  named: boolean;
  /** filled by the webgpu loader */
  adapter?: GpuAdapterSummary;
  adapterSkipped?: string[];
}

// Node-only modules: a non-literal specifier keeps bundlers (vite) from resolving them for a browser
const dynamicImport = (spec: string): Promise<unknown> => import(/* @vite-ignore */ spec);
const wasmThreadsModule = "./engine/wasm-threads.js";
type WasmThreadsModule = typeof import("./engine/wasm-threads.js");

function nodeOnly(what: string): void {
  if (!isNode()) throw new Error(`${what} runs in Node only, not in a browser`);
}

const loaders: Record<BackendName, (ctx: LoadContext) => Promise<string>> = {
  // the node bindings register the "tensorflow" backend on import
  "tensorflow-gpu": async () => {
    nodeOnly("tfjs-node-gpu");
    await dynamicImport("@tensorflow/tfjs-node-gpu");
    return "tensorflow";
  },
  tensorflow: async () => {
    nodeOnly("tfjs-node");
    await dynamicImport("@tensorflow/tfjs-node");
    return "tensorflow";
  },
  webgpu: async (ctx) => {
    // auto in Node skips software adapters (SwiftShader is ~wasm speed at best); a browser's
    // choice is the browser's, so any adapter it gives is taken there
    const choice = await initWebgpu(ctx.named || !isNode());
    ctx.adapter = choice.adapter;
    ctx.adapterSkipped = choice.skipped;
    return "webgpu";
  },
  webgl: async () => {
    if (isNode()) throw new Error("browser only");
    // an app that bundles tfjs-backend-webgl has registered it by importing it
    if (!tf.findBackendFactory("webgl")) await dynamicImport("@tensorflow/tfjs-backend-webgl");
    return "webgl";
  },
  wasm: async (ctx) => {
    await import("@tensorflow/tfjs-backend-wasm");
    if (ctx.opts.threads !== undefined) {
      nodeOnly("wasm threads");
      const wt = (await dynamicImport(wasmThreadsModule)) as WasmThreadsModule;
      await wt.configureWasmThreads(ctx.opts.threads, { logger: ctx.logger });
    }
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
  /** webgpu: the adapter computing (vendor, architecture, description, limits) */
  adapter?: GpuAdapterSummary;
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
  // a caller's plain string (a library user without types) is checked like a CLI flag
  parseBackendChoice(String(choice));
  const order: BackendName[] = choice === "auto" ? autoBackendOrder() : [choice];
  const skipped: BackendSelection["skipped"] = [];
  // PROD silences tfjs's "install tfjs-node" banner; we log the backend choice ourselves
  tf.env().set("PROD", true);
  for (const name of order) {
    const ctx: LoadContext = { opts: options, logger, named: choice !== "auto" };
    try {
      const id = await loaders[name](ctx);
      const ok = await tf.setBackend(id);
      if (!ok) throw new Error(`tf.setBackend("${id}") returned false`);
      await tf.ready();
      const sel: BackendSelection = { name, tfBackend: tf.getBackend(), skipped };
      if (name === "wasm" && options.threads !== undefined) {
        const wt = (await dynamicImport(wasmThreadsModule)) as WasmThreadsModule;
        const st = wt.wasmThreadsStatus();
        if (st) sel.threads = { requested: st.requested, actual: st.threads, fallback: st.fallback };
      }
      if (ctx.adapter) sel.adapter = ctx.adapter;
      if (logger) {
        const why = skipped.map((s) => `${s.name}: ${s.reason}`).join("; ");
        logger.info(`backend: ${name}${why ? ` (skipped ${why})` : ""}`);
        if (ctx.adapter) {
          const a = ctx.adapter;
          const others = ctx.adapterSkipped?.length ? `; skipped adapters: ${ctx.adapterSkipped.join("; ")}` : "";
          logger.info(
            `webgpu adapter: ${describeAdapter(a)}${a.software ? " (software: correct, not fast)" : ""}, ` +
              `max buffer ${(a.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB, ` +
              `max storage binding ${(a.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB${others}`,
          );
        }
      }
      return sel;
    } catch (e) {
      skipped.push({ name, reason: shortReason(e) });
    }
  }
  if (choice === "webgpu") {
    throw new VoxelpipeError({
      code: Codes.gpuAdapter,
      message: `the webgpu backend could not start: ${skipped[0]?.reason ?? "unknown reason"}`,
      expected: "a WebGPU adapter (GPU driver with Vulkan on Linux, Metal on macOS, D3D12 on Windows)",
      hint: isNode()
        ? "install the GPU's driver (Linux: its Vulkan ICD, e.g. mesa-vulkan-drivers or the NVIDIA driver); the " +
          "optional `webgpu` package must be installed (`npm i webgpu@0.6.2`). To check on a CPU, Debian's chromium " +
          "package has SwiftShader: VK_ADD_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json " +
          "XDG_RUNTIME_DIR=/tmp voxelpipe ... --backend webgpu. Or use --backend wasm"
        : "use a browser with WebGPU enabled, or the webgl/wasm backends",
    });
  }
  throw new VoxelpipeError({
    code: Codes.backend,
    message: `no tensor backend could be loaded (${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")})`,
    expected: choice === "auto" ? `one of ${autoBackendOrder().join(", ")}` : choice,
    hint:
      choice === "tensorflow" || choice === "tensorflow-gpu"
        ? `install it with \`npm i @tensorflow/tfjs-node${choice === "tensorflow-gpu" ? "-gpu" : ""}@4.22.0\` (needs internet) or use --backend wasm`
        : choice === "webgl" && isNode()
          ? "webgl runs in browsers only (the site of `voxelpipe export web`); in Node use --backend webgpu or wasm"
          : "reinstall dependencies with `npm ci`",
  });
}
