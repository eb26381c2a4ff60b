/**
 * Per-backend setup the runner calls once after selecting a backend.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type GradientRegistration, registerGradients } from "./gradients.js";
import { installLeanBackprop } from "./lean-tape.js";
import { installWasmKernelFixes, wasmKernelFixNames } from "./wasm-kernels.js";
import { type WasmThreadsStatus, wasmThreadsStatus } from "./wasm-threads.js";
import { installWebgpuKernelFixes, webgpuKernelFixNames } from "./webgpu-kernels.js";

export interface BackendPreparation {
  /** the tfjs backend id prepared */
  backend: string;
  /** kernels voxelpipe replaced for it (empty when none) */
  kernelFixes: string[];
  /** tfjs-core gradients registered (once per process; see gradients.ts); absent for inference only */
  gradients?: GradientRegistration;
  /** wasm: the build and XNNPACK threads it runs with (see configureWasmThreads), when known */
  wasmThreads?: WasmThreadsStatus;
  /** backpropagation frees gradients and saved tensors as it goes (lean-tape.ts) */
  leanBackprop: boolean;
}

/**
 * Prepare a selected backend (default: the active one) for training/inference with voxelpipe's
 * engine: on "wasm" installs the user-land kernel fixes (Slice/SplitV/Unpack heap-view slicing,
 * XNNPACK BatchMatMul for transposed and batched products, rank ≥ 5 Transpose as rank-4 steps); on
 * "webgpu" the rank-5 fixes of webgpu-kernels.ts (broadcasting binary ops, Select, Tile, Pad,
 * MirrorPad, Reverse); then, unless `inferenceOnly`, registers tfjs-core's gradients (throws a
 * VoxelpipeError if they cannot be loaded) and the lean backprop. A browser bundle, which never
 * trains and carries no gradient configs, prepares with `{ inferenceOnly: true }`.
 * Idempotent; nothing to do on cpu and the tfjs-node backends but the gradients.
 */
export function prepareBackend(
  name: string = tf.getBackend(),
  opts: { inferenceOnly?: boolean } = {},
): BackendPreparation {
  const kernelFixes = name === "wasm" ? [...wasmKernelFixNames] : name === "webgpu" ? [...webgpuKernelFixNames] : [];
  if (name === "wasm") installWasmKernelFixes();
  if (name === "webgpu") installWebgpuKernelFixes();
  const wasmThreads = name === "wasm" ? wasmThreadsStatus() : undefined;
  const base = { backend: name, kernelFixes, ...(wasmThreads ? { wasmThreads } : {}) };
  if (opts.inferenceOnly) return { ...base, leanBackprop: false };
  return { ...base, gradients: registerGradients(), leanBackprop: installLeanBackprop() };
}
