/**
 * Engine layer: correct, differentiable 3-D ops for every tfjs backend (see docs/engine.md).
 * Signatures here are the contract the models use; implementations pick the fastest correct form
 * for the active backend.
 */

export {
  conv3dStride1,
  filterGradStride1,
  flipKernel,
  forwardStride1,
  type Pads3,
  type Stride1Form,
} from "./conv-stride1.js";
export { type GradientRegistration, registerGradients } from "./gradients.js";
export { gelu, instanceNorm, layerNorm, leakyRelu, linear } from "./nn.js";
export * from "./ops.js";
export { convTranspose3dPatch, pointwiseConv3d } from "./patch-conv.js";
export { type BackendPreparation, prepareBackend } from "./prepare.js";
export {
  installWasmKernelFixes,
  uninstallWasmKernelFixes,
  wasmKernelFixesInstalled,
  wasmKernelFixNames,
} from "./wasm-kernels.js";
export {
  configureWasmThreads,
  resolveWasmThreads,
  WASM_MAX_THREADS,
  type WasmThreads,
  type WasmThreadsOptions,
  type WasmThreadsStatus,
  wasmThreadsStatus,
} from "./wasm-threads.js";

// Gradients are registered by prepareBackend() / registerGradients(), not on import: loading tfjs's gradient
// bundle is a third of the CLI's start-up, and validate, list or --help never differentiate (see gradients.ts).

export {
  type GpuAdapterSummary,
  pickAdapter,
  summarizeAdapter,
  takeWebgpuErrors,
  webgpuAdapter,
} from "./gpu-adapter.js";
export { installLeanBackprop, uninstallLeanBackprop } from "./lean-tape.js";
export {
  collapseBroadcast,
  collapsePad,
  collapseReverse,
  collapseTile,
  installWebgpuKernelFixes,
  uninstallWebgpuKernelFixes,
  webgpuKernelFixNames,
} from "./webgpu-kernels.js";
