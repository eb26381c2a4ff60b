/**
 * User-land fixes for tfjs-backend-webgpu 4.22 kernels that fail on the rank-5 tensors of 3-D
 * networks (see docs/engine.md, "WebGPU"). Like wasm-kernels.ts: tfjs looks kernels up in a global
 * registry on every call, so re-registering a config for backendName "webgpu" replaces a kernel
 * without forking the backend. Each fix reshapes its operands to an equivalent problem of rank
 * ≤ 4 (free on webgpu: Reshape shares the buffer) and calls the stock kernel on that.
 *
 * - Binary elementwise ops (Add, Mul, ...): when one operand is rank ≤ 1 and the other rank > 1
 *   with a last dim < 128 (a bias or per-channel scale), the stock program takes a shared-memory
 *   path whose WGSL indexes the coords as an array; for rank 5 the coords are a struct `vec5`, so
 *   the shader does not compile ("cannot index type 'vec5'") and -- WebGPU reports it as an
 *   uncaptured error, not an exception -- the kernel leaves its output unwritten. Ours merges
 *   adjacent dims with the same broadcast pattern (a bias over [B, D, H, W, C] becomes
 *   [B·D·H·W, C] + [1, C]), so the program runs at rank ≤ 4.
 * - Select (tf.where): the stock program throws "Where for rank 5 is not yet supported". The
 *   engine's ops broadcast all three operands to one shape first, so ours runs it flattened.
 * - Tile (tf.broadcastTo, the gradient of broadcasting ops): rank ≥ 5 falls back to a CPU loop
 *   with a synchronous GPU read. Ours merges each untiled dim into the dim before it.
 * - PadV2 (tf.pad; the conv forms pad every input): the stock WGSL indexes the coords as an
 *   array, so rank 5 does not compile (silently unwritten output, as above). Ours merges each
 *   unpadded dim into the dim before it (whose pads scale by its size): [B, D, H, W, C] with
 *   spatial pads becomes [B, D, H, W·C].
 * - Reverse (tf.reverse; the conv forms' input gradient flips the kernel): the stock kernel
 *   reshapes to rank 4 and fails for rank 5 ("Size(162) must match the product of shape
 *   3,3,2,3"). Ours merges adjacent dims that are both flipped or both kept.
 * - MirrorPad (sliding window "reflect"): same WGSL problem. Reflection does not survive merging a
 *   padded dim, so ours pads one axis at a time, each as [outer, n, inner] (rank 3).
 */

import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import * as tf from "@tensorflow/tfjs-core";

interface WebgpuBackendLike {
  disposeData(dataId: object): boolean;
}
type KernelArgs = { inputs: Record<string, TensorInfo>; attrs: Record<string, unknown>; backend: WebgpuBackendLike };

/** Binary kernels built on tfjs-backend-webgpu's BinaryOpProgram (the shared-memory path). */
export const webgpuBinaryKernels = [
  "Add",
  "Sub",
  "Multiply",
  "RealDiv",
  "Maximum",
  "Minimum",
  "Pow",
  "SquaredDifference",
  "FloorDiv",
  "Mod",
  "Atan2",
  "Prelu",
  "Equal",
  "NotEqual",
  "Greater",
  "GreaterEqual",
  "Less",
  "LessEqual",
  "LogicalAnd",
  "LogicalOr",
] as const;

export const webgpuKernelFixNames: readonly string[] = [
  ...webgpuBinaryKernels,
  "Select",
  "Tile",
  "PadV2",
  "MirrorPad",
  "Reverse",
];

const originals = new Map<string, KernelConfig>();

function original(name: string): KernelFunc {
  const cfg = originals.get(name) ?? tf.getKernel(name, "webgpu");
  if (!cfg) throw new Error(`webgpu kernel ${name} is not registered`);
  return cfg.kernelFunc;
}

/** Reshape through the backend's own kernel: shares the buffer (a new reference to be disposed). */
function reshape(x: TensorInfo, shape: number[], backend: WebgpuBackendLike): TensorInfo {
  return original("Reshape")({ inputs: { x }, attrs: { shape }, backend } as never) as TensorInfo;
}

/**
 * Equivalent lower-rank shapes for a broadcasting binary op: dims of size 1 in the output are
 * dropped and adjacent dims where each operand is either full or broadcast alike are merged.
 * Exported for tests.
 */
export function collapseBroadcast(a: number[], b: number[]): { a: number[]; b: number[]; out: number[] } {
  const r = Math.max(a.length, b.length);
  const A = [...Array(r - a.length).fill(1), ...a];
  const B = [...Array(r - b.length).fill(1), ...b];
  const ra: number[] = [];
  const rb: number[] = [];
  const ro: number[] = [];
  let last = -1;
  for (let i = 0; i < r; i++) {
    const o = Math.max(A[i], B[i]);
    if (o === 1) continue;
    const pattern = (A[i] === o ? 1 : 0) + (B[i] === o ? 2 : 0);
    if (pattern === last) {
      const k = ro.length - 1;
      ra[k] *= A[i];
      rb[k] *= B[i];
      ro[k] *= o;
    } else {
      ra.push(A[i]);
      rb.push(B[i]);
      ro.push(o);
      last = pattern;
    }
  }
  if (ro.length === 0) return { a: [1], b: [1], out: [1] };
  return { a: ra, b: rb, out: ro };
}

function binaryFix(name: string): KernelFunc {
  return (args) => {
    const { inputs, backend } = args as unknown as KernelArgs;
    const names = Object.keys(inputs);
    const [x, y] = names.map((k) => inputs[k]);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(x.shape, y.shape);
    if (outShape.length < 5) return original(name)(args);
    const c = collapseBroadcast(x.shape, y.shape);
    const xr = reshape(x, c.a, backend);
    const yr = reshape(y, c.b, backend);
    const out = original(name)({ ...args, inputs: { [names[0]]: xr, [names[1]]: yr } } as never) as TensorInfo;
    const res = reshape(out, outShape, backend);
    for (const t of [xr, yr, out]) backend.disposeData(t.dataId);
    return res;
  };
}

const selectFix: KernelFunc = (args) => {
  const { inputs, backend } = args as unknown as KernelArgs;
  const { condition, t, e } = inputs;
  if (t.shape.length < 5) return original("Select")(args);
  const n = tf.util.sizeFromShape(t.shape);
  // tf.where broadcasts all three to one shape; a rank-1 condition picks whole rows (old API)
  const flatShape = condition.shape.length === t.shape.length ? [n] : [t.shape[0], n / t.shape[0]];
  const cr = reshape(condition, condition.shape.length === t.shape.length ? [n] : [t.shape[0]], backend);
  const tr = reshape(t, flatShape, backend);
  const er = reshape(e, flatShape, backend);
  const out = original("Select")({ ...args, inputs: { condition: cr, t: tr, e: er } } as never) as TensorInfo;
  const res = reshape(out, t.shape, backend);
  for (const x of [cr, tr, er, out]) backend.disposeData(x.dataId);
  return res;
};

/** Tile shapes of lower rank: a dim that is not repeated merges into the one before it. */
export function collapseTile(shape: number[], reps: number[]): { shape: number[]; reps: number[] } {
  const s: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1 && reps[i] === 1) continue;
    if (s.length > 0 && reps[i] === 1) s[s.length - 1] *= shape[i];
    else {
      s.push(shape[i]);
      r.push(reps[i]);
    }
  }
  return s.length ? { shape: s, reps: r } : { shape: [1], reps: [1] };
}

const tileFix: KernelFunc = (args) => {
  const { inputs, attrs, backend } = args as unknown as KernelArgs;
  const { x } = inputs;
  const reps = attrs.reps as number[];
  if (x.shape.length < 5 || x.dtype === "string") return original("Tile")(args);
  const c = collapseTile(x.shape, reps);
  if (c.shape.length >= 5) return original("Tile")(args); // the stock CPU path: correct, slow
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const xr = reshape(x, c.shape, backend);
  const out = original("Tile")({ ...args, inputs: { x: xr }, attrs: { reps: c.reps } } as never) as TensorInfo;
  const res = reshape(out, outShape, backend);
  for (const t of [xr, out]) backend.disposeData(t.dataId);
  return res;
};

/** Constant-pad shapes of lower rank: an unpadded dim merges into the dim before it. */
export function collapsePad(
  shape: number[],
  paddings: [number, number][],
): { shape: number[]; paddings: [number, number][] } {
  const s: number[] = [];
  const p: [number, number][] = [];
  for (let i = 0; i < shape.length; i++) {
    const [b, a] = paddings[i];
    if (s.length > 0 && b === 0 && a === 0) {
      const k = s.length - 1;
      s[k] *= shape[i];
      p[k] = [p[k][0] * shape[i], p[k][1] * shape[i]];
    } else {
      s.push(shape[i]);
      p.push([b, a]);
    }
  }
  return { shape: s, paddings: p };
}

const padFix: KernelFunc = (args) => {
  const { inputs, attrs, backend } = args as unknown as KernelArgs;
  const { x } = inputs;
  const paddings = attrs.paddings as [number, number][];
  if (x.shape.length < 5) return original("PadV2")(args);
  const c = collapsePad(x.shape, paddings);
  if (c.shape.length >= 5) throw new Error(`webgpu Pad: rank ${c.shape.length} after merging unpadded dims`);
  const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const xr = reshape(x, c.shape, backend);
  const out = original("PadV2")({ ...args, inputs: { x: xr }, attrs: { ...attrs, paddings: c.paddings } } as never);
  const res = reshape(out as TensorInfo, outShape, backend);
  for (const t of [xr, out as TensorInfo]) backend.disposeData(t.dataId);
  return res;
};

const mirrorPadFix: KernelFunc = (args) => {
  const { inputs, attrs, backend } = args as unknown as KernelArgs;
  const { x } = inputs;
  const paddings = attrs.paddings as [number, number][];
  if (x.shape.length < 5) return original("MirrorPad")(args);
  let cur = x;
  let shape = [...x.shape];
  let owned = false;
  for (let i = 0; i < shape.length; i++) {
    const [b, a] = paddings[i];
    if (b === 0 && a === 0) continue;
    const outer = tf.util.sizeFromShape(shape.slice(0, i));
    const inner = tf.util.sizeFromShape(shape.slice(i + 1));
    const r = reshape(cur, [outer, shape[i], inner], backend);
    const o = original("MirrorPad")({
      ...args,
      inputs: { x: r },
      attrs: {
        ...attrs,
        paddings: [
          [0, 0],
          [b, a],
          [0, 0],
        ],
      },
    } as never) as TensorInfo;
    backend.disposeData(r.dataId);
    if (owned) backend.disposeData(cur.dataId);
    cur = o;
    owned = true;
    shape = [...shape];
    shape[i] += b + a;
  }
  const res = reshape(cur, shape, backend);
  if (owned) backend.disposeData(cur.dataId);
  return res;
};

/** Reverse shapes of lower rank: adjacent dims that are both flipped (or both kept) merge. */
export function collapseReverse(shape: number[], axes: number[]): { shape: number[]; axes: number[] } {
  const s: number[] = [];
  const flipped: boolean[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const f = axes.includes(i);
    if (s.length > 0 && flipped[flipped.length - 1] === f) s[s.length - 1] *= shape[i];
    else {
      s.push(shape[i]);
      flipped.push(f);
    }
  }
  if (s.length === 0) return { shape: [1], axes: [] };
  return { shape: s, axes: flipped.flatMap((f, i) => (f ? [i] : [])) };
}

const reverseFix: KernelFunc = (args) => {
  const { inputs, attrs, backend } = args as unknown as KernelArgs;
  const { x } = inputs;
  if (x.shape.length < 5) return original("Reverse")(args);
  const dims = attrs.dims as number | number[];
  const axes = tf.util.parseAxisParam(dims, x.shape);
  const c = collapseReverse(x.shape, axes);
  if (c.shape.length > 4) throw new Error(`webgpu Reverse: rank ${c.shape.length} after merging dims`);
  const xr = reshape(x, c.shape, backend);
  const out = original("Reverse")({ ...args, inputs: { x: xr }, attrs: { dims: c.axes } } as never) as TensorInfo;
  const res = reshape(out, x.shape, backend);
  for (const t of [xr, out]) backend.disposeData(t.dataId);
  return res;
};

function fixFor(name: string): KernelFunc {
  if (name === "Reverse") return reverseFix;
  if (name === "Select") return selectFix;
  if (name === "Tile") return tileFix;
  if (name === "PadV2") return padFix;
  if (name === "MirrorPad") return mirrorPadFix;
  return binaryFix(name);
}

let installed = false;

/** Install the webgpu kernel fixes (idempotent). Needs tfjs-backend-webgpu's kernels registered. */
export function installWebgpuKernelFixes(): void {
  if (installed) return;
  for (const name of webgpuKernelFixNames) {
    const cfg = tf.getKernel(name, "webgpu");
    if (!cfg) continue;
    originals.set(name, cfg);
    tf.unregisterKernel(name, "webgpu");
    tf.registerKernel({ ...cfg, kernelFunc: fixFor(name) });
  }
  if (!originals.has("Reshape")) {
    const r = tf.getKernel("Reshape", "webgpu");
    if (r) originals.set("Reshape", r);
  }
  installed = true;
}

/** Restore the stock kernels (tests compare against them). */
export function uninstallWebgpuKernelFixes(): void {
  if (!installed) return;
  for (const [name, cfg] of originals) {
    if (name === "Reshape") continue;
    tf.unregisterKernel(name, "webgpu");
    tf.registerKernel(cfg);
  }
  originals.clear();
  installed = false;
}
