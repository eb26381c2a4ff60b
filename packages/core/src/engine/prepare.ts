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
  /** tfjs-core gradients registered (once per process; see gradients.ts) */
  gradients: GradientRegistration;
  /** wasm: the build and XNNPACK threads it runs with (see configureWasmThreads), when known */
  wasmThreads?: WasmThreadsStatus;
  /** backpropagation frees gradients and saved tensors as it goes (lean-tape.ts) */
  leanBackprop: boolean;
}

/**
 * Prepare a selected backend (default: the active one) for training/inference with voxelpipe's
 * engine: registers tfjs-core's gradients (throws a VoxelpipeError if they cannot be loaded); on
 * "wasm" installs the user-land kernel fixes (Slice/SplitV/Unpack heap-view slicing,
 * XNNPACK BatchMatMul for transposed and batched products, rank ≥ 5 Transpose as rank-4 steps); on
 * "webgpu" the rank-5 fixes of webgpu-kernels.ts (broadcasting binary ops, Select, Tile, Pad,
 * MirrorPad, Reverse).
 * Idempotent; nothing to do on cpu and the tfjs-node backends.
 */
export function prepareBackend(name: string = tf.getBackend()): BackendPreparation {
  // the webgpu fixes first: inference needs them even where gradients cannot be registered (a browser
  // bundle without tfjs' gradient configs throws below)
  if (name === "webgpu") installWebgpuKernelFixes();
  const gradients = registerGradients();
  const leanBackprop = installLeanBackprop();
  if (name === "wasm") {
    installWasmKernelFixes();
    const wasmThreads = wasmThreadsStatus();
    return {
      backend: name,
      kernelFixes: [...wasmKernelFixNames],
      gradients,
      leanBackprop,
      ...(wasmThreads ? { wasmThreads } : {}),
    };
  }
  if (name === "webgpu") {
    installWebgpuKernelFixes();
    return { backend: name, kernelFixes: [...webgpuKernelFixNames], gradients, leanBackprop };
  }
  return { backend: name, kernelFixes: [], gradients, leanBackprop };
}
