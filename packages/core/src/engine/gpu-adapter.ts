/**
 * WebGPU adapter choice for the "webgpu" backend, in Node (Dawn, from the optional `webgpu`
 * package) and in browsers (`navigator.gpu`). Browser-safe: no top-level node: imports; the
 * `webgpu` package is imported dynamically, and only in Node.
 *
 * Why our own factory instead of tfjs-backend-webgpu's: its factory takes whatever adapter
 * `requestAdapter()` returns, and registers itself only if `navigator.gpu` existed when the
 * package was imported. We pick the adapter (hardware first; software -- SwiftShader, a fallback
 * adapter -- only when the caller allows it), say why others were skipped, keep its limits for
 * the memory plan, and register the backend with the device we made.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Codes, VoxelpipeError } from "../errors.js";

/** What a run records about the GPU adapter it computes on (env.json, the log). */
export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** a CPU implementation of WebGPU (SwiftShader, a fallback adapter): correct, not fast */
  software: boolean;
  /** the adapter limits that bound one tensor (bytes) */
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}

/** the structural parts of WebGPU's GPUAdapter we read (no @webgpu/types in core's API) */
interface AdapterLike {
  info?: Record<string, unknown>;
  isFallbackAdapter?: boolean;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(desc?: unknown): Promise<unknown>;
}
interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

export const isNode = (): boolean =>
  typeof process !== "undefined" &&
  typeof process.versions?.node === "string" &&
  typeof (globalThis as { window?: unknown }).window === "undefined";

let active: GpuAdapterSummary | undefined;

/** The adapter the webgpu backend runs on in this process (undefined before it is selected). */
export function webgpuAdapter(): GpuAdapterSummary | undefined {
  return active;
}

export function summarizeAdapter(adapter: AdapterLike): GpuAdapterSummary {
  const info = adapter.info ?? {};
  const s = (k: string) => (typeof info[k] === "string" ? (info[k] as string) : "");
  const vendor = s("vendor");
  const architecture = s("architecture");
  const description = s("description");
  const software =
    adapter.isFallbackAdapter === true ||
    info.isFallbackAdapter === true ||
    /swiftshader/i.test(architecture) ||
    /swiftshader|llvmpipe|lavapipe|warp|microsoft basic render/i.test(description) ||
    (vendor === "google" && /swiftshader/i.test(`${s("device")} ${description}`));
  return {
    vendor,
    architecture,
    device: s("device"),
    description,
    software,
    limits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    },
  };
}

export const describeAdapter = (a: GpuAdapterSummary): string =>
  [a.vendor || "unknown vendor", a.architecture, a.description || a.device].filter(Boolean).join(" / ");

/** navigator.gpu, creating it from Dawn (`webgpu` package) in Node. */
async function gpu(): Promise<GpuLike> {
  const g = globalThis as { navigator?: { gpu?: GpuLike } };
  if (g.navigator?.gpu) return g.navigator.gpu;
  if (!isNode()) throw new Error("this browser has no WebGPU (navigator.gpu is missing)");
  const spec = "webgpu"; // not a literal: bundlers must not pull Dawn's native addon into a browser build
  const dawn = (await import(/* @vite-ignore */ spec)) as {
    create(flags: string[]): GpuLike;
    globals: Record<string, unknown>;
  };
  // tfjs-backend-webgpu reads GPUBufferUsage, GPUMapMode, ... as globals, as in a browser
  Object.assign(globalThis, dawn.globals);
  const created = dawn.create([]);
  if (!g.navigator) Object.defineProperty(globalThis, "navigator", { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator as object, "gpu", { value: created, configurable: true, writable: true });
  return created;
}

/**
 * Which adapter to use: the first hardware one; a software one (SwiftShader, a fallback adapter)
 * only when `allowSoftware`. -1 when none qualifies. `skipped` says why each other one is not used.
 */
export function pickAdapter(
  adapters: GpuAdapterSummary[],
  allowSoftware: boolean,
): { pick: number; skipped: string[] } {
  let pick = adapters.findIndex((s) => !s.software);
  if (pick < 0 && allowSoftware && adapters.length > 0) pick = 0;
  const skipped: string[] = [];
  adapters.forEach((s, i) => {
    if (i === pick || adapters.slice(0, i).some((o) => describeAdapter(o) === describeAdapter(s))) return;
    skipped.push(
      `${describeAdapter(s)}: ${s.software ? (allowSoftware ? "software adapter, a hardware one is preferred" : "software adapter (used only with --backend webgpu)") : "second choice"}`,
    );
  });
  return { pick, skipped };
}

export interface AdapterChoice {
  adapter: GpuAdapterSummary;
  /** adapters seen and not used, with the reason */
  skipped: string[];
}

/**
 * Select an adapter and make "webgpu" the tfjs backend's device. `allowSoftware`: take a software
 * adapter when no hardware one is offered (the backend was named; `auto` does not). Throws an
 * Error whose message says why when there is no usable adapter. Idempotent per process.
 */
export async function initWebgpu(allowSoftware: boolean): Promise<AdapterChoice> {
  const existing = tf.findBackend("webgpu") as {
    device?: { limits?: Record<string, number> };
    adapterInfo?: { vendor?: string; architecture?: string };
  } | null;
  if (existing && !active && existing.device?.limits) {
    // an application initialised tfjs' own webgpu backend before us: use it as it is
    const info = { vendor: existing.adapterInfo?.vendor ?? "", architecture: existing.adapterInfo?.architecture ?? "" };
    active = summarizeAdapter({
      info,
      limits: existing.device.limits,
      features: { has: () => false },
      requestDevice: async () => undefined,
    });
  }
  if (existing && active) {
    if (active.software && !allowSoftware) throw new Error(softwareReason(active));
    return { adapter: active, skipped: [] };
  }
  const g = await gpu();
  // Dawn and browsers return one adapter per preference; ask for both to see what there is
  const seen: AdapterLike[] = [];
  for (const powerPreference of ["high-performance", "low-power"]) {
    const a = await g.requestAdapter({ powerPreference });
    if (a && !seen.includes(a)) seen.push(a);
  }
  if (seen.length === 0) {
    throw new Error("no WebGPU adapter (needs a GPU driver with Vulkan on Linux, Metal on macOS or D3D12 on Windows)");
  }
  const { pick, skipped } = pickAdapter(seen.map(summarizeAdapter), allowSoftware);
  const summaries = seen.map(summarizeAdapter);
  if (pick < 0) throw new Error(softwareReason(summaries[0]));
  const adapter = seen[pick];
  const device = await adapter.requestDevice({
    requiredFeatures: adapter.features.has("timestamp-query") ? ["timestamp-query"] : [],
    // the defaults are far below what 3-D volumes need (maxStorageBufferBindingSize: 128 MiB)
    requiredLimits: {
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: adapter.limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  watchErrors(device);
  const { WebGPUBackend } = (await import("@tensorflow/tfjs-backend-webgpu")) as unknown as {
    WebGPUBackend: new (device: unknown, info?: unknown) => tf.KernelBackend;
  };
  // the package registers its own factory when navigator.gpu existed at import; ours replaces it
  if (tf.findBackendFactory("webgpu")) tf.removeBackend("webgpu");
  const backend = new WebGPUBackend(device, adapter.info);
  guardSyncReads(backend);
  tf.registerBackend("webgpu", () => backend, 3);
  active = summaries[pick];
  return { adapter: active, skipped };
}

/**
 * tfjs-backend-webgpu's readSync (behind dataSync/arraySync) downloads through an OffscreenCanvas,
 * which Node does not have: WebGPU in Node reads asynchronously only (`await t.data()`, which also
 * caches the values, so a later dataSync of the same tensor works). Without a canvas, a read of
 * values not yet downloaded becomes a located diagnostic instead of a ReferenceError.
 */
function guardSyncReads(backend: tf.KernelBackend): void {
  if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== "undefined") return;
  const b = backend as unknown as {
    readSync(dataId: object): unknown;
    tensorMap: { get(id: object): { values?: unknown; dtype?: string } | undefined };
  };
  const readSync = b.readSync.bind(backend);
  b.readSync = (dataId: object) => {
    const d = b.tensorMap.get(dataId);
    if (d && (d.values != null || d.dtype === "string")) return readSync(dataId);
    throw new VoxelpipeError({
      code: Codes.gpuSyncRead,
      message:
        "a synchronous tensor read (dataSync/arraySync) on the webgpu backend: WebGPU in Node can only read " +
        "asynchronously",
      expected: "`await tensor.data()` before reading values on webgpu",
      hint: "this code path does not support --backend webgpu yet; use --backend wasm (same numbers) or report it",
    });
  };
}

const gpuErrors: string[] = [];

/**
 * WebGPU reports a shader that does not compile, or a pipeline that is invalid, as an
 * "uncaptured error" event -- the kernel then writes nothing and tfjs returns stale numbers
 * without throwing. Keep the messages so callers (tests, the trainer) can refuse such results.
 */
function watchErrors(device: unknown): void {
  const d = device as { addEventListener?: (t: string, f: (e: { error?: { message?: string } }) => void) => void };
  d.addEventListener?.("uncapturederror", (e) => {
    if (gpuErrors.length < 100) gpuErrors.push((e.error?.message ?? "unknown WebGPU error").split("\n")[0]);
  });
}

/** WebGPU errors reported since the last call (shader compile / validation failures), then cleared. */
export function takeWebgpuErrors(): string[] {
  return gpuErrors.splice(0, gpuErrors.length);
}

function softwareReason(s: GpuAdapterSummary): string {
  return `only a software adapter (${describeAdapter(s)}): used only when the webgpu backend is named (--backend webgpu)`;
}
