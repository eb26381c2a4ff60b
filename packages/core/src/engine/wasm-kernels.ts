// Over 300 lines by design: all wasm kernel fixes live in one file: the engine keeps one place per backend
// (docs/engine.md), and the fixes share the heap helpers and one install/uninstall list.
/**
 * User-land replacements for slow tfjs-backend-wasm 4.22 kernels (see docs/engine.md).
 *
 * tfjs looks kernels up in a global registry on every call, so re-registering a config for
 * backendName "wasm" replaces the kernel without forking the backend. The replacements only use
 * what the wasm backend exposes publicly at run time: its tensor map (`dataIdMap`), heap views
 * (`typedArrayFromHeap`), `makeOutput`, and the exported C functions (`cwrap("BatchMatMul")`,
 * `registerTensor`/`disposeData`).
 *
 * - Slice: the stock kernel copies the WHOLE input out of the wasm heap (`readSync`) on every call
 *   and takes a per-element path for non-contiguous rank-5 slices. Ours copies only the slice,
 *   straight from heap view to heap view, in contiguous runs. SplitV (the gradient of concat) and
 *   Unpack call the stock slice function directly, so they are re-registered too.
 * - Transpose: the C kernel has fast loops up to rank 4 only; rank ≥ 5 permutations (after
 *   dropping size-1 dims) take a per-element generic path. Ours does them as rank-4 steps.
 * - BatchMatMul: the C kernel uses XNNPACK only for batch 1 without transposes, else a scalar
 *   loop (1-3 GFLOP/s) -- and every matMul gradient uses a transpose. Ours transposes explicitly
 *   (wasm Transpose kernel), folds a broadcast weight batch into rows, and runs each remaining
 *   batch through the XNNPACK path on zero-copy "view" tensors registered at an offset into the
 *   operand's heap memory.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  broadcast_util,
  type KernelConfig,
  type KernelFunc,
  slice_util,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { Codes, VoxelpipeError } from "../errors.js";
import { channelSums } from "./fused-norm.js";

/** The parts of tfjs-backend-wasm's BackendWasm (4.22) the fixes use; checked at install time. */
interface WasmModuleLike {
  cwrap(name: string, ret: null, args: string[]): (...a: unknown[]) => void;
  tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
}
interface WasmBackendLike {
  wasm: WasmModuleLike;
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): boolean;
  incRef(dataId: object): void;
}
type KernelArgs = { inputs: Record<string, TensorInfo>; attrs: Record<string, unknown>; backend: WasmBackendLike };

/** Kernel configs as they were before install, to fall back on (strings, int matMul) and to uninstall. */
const originals = new Map<string, KernelConfig>();
const ours = new Map<string, KernelConfig>();

function original(name: string): KernelFunc {
  const cfg = originals.get(name) ?? tf.getKernel(name, "wasm");
  if (!cfg) throw new Error(`wasm kernel ${name} is not registered`);
  return cfg.kernelFunc;
}

// ---------------------------------------------------------------------------------------------
// Slice / SplitV / Unpack

/** Copy `size` elements starting at begin from x (shape) into out, run by contiguous run. */
function stridedCopy(
  src: Float32Array | Int32Array | Uint8Array,
  shape: number[],
  begin: number[],
  size: number[],
  dst: Float32Array | Int32Array | Uint8Array,
): void {
  const rank = shape.length;
  const strides = util.computeStrides(shape); // rank-1 entries
  const stride = (d: number) => (d < rank - 1 ? strides[d] : 1);
  // innermost dimension that is not taken whole: everything inside it is one contiguous run
  let d = rank - 1;
  while (d > 0 && size[d] === shape[d] && begin[d] === 0) d--;
  const run = size[d] * stride(d);
  let base = 0;
  for (let i = 0; i < rank; i++) base += begin[i] * stride(i);
  const outer = util.sizeFromShape(size.slice(0, d));
  const idx = new Array<number>(d).fill(0);
  let off = base;
  let o = 0;
  for (let n = 0; n < outer; n++) {
    if (run >= 32) dst.set(src.subarray(off, off + run), o);
    else for (let j = 0; j < run; j++) dst[o + j] = src[off + j];
    o += run;
    // odometer over dims [0, d)
    for (let k = d - 1; k >= 0; k--) {
      idx[k]++;
      off += stride(k);
      if (idx[k] < size[k]) break;
      off -= size[k] * stride(k);
      idx[k] = 0;
    }
  }
}

function slice(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  const { backend } = args;
  if (x.dtype === "string") return original(tf.Slice)(args as never) as TensorInfo;
  const [begin, size] = slice_util.parseSliceParams(
    x as unknown as tf.Tensor,
    args.attrs.begin as number | number[],
    args.attrs.size as number | number[] | undefined,
  );
  const out = backend.makeOutput(size, x.dtype);
  if (util.sizeFromShape(size) === 0) return out;
  // views taken after makeOutput: a malloc may grow (and detach) the heap buffer
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  stridedCopy(src, x.shape, begin, size, dst);
  return out;
}

function splitV(args: KernelArgs): TensorInfo[] {
  const { x } = args.inputs;
  const axis = util.parseAxisParam(args.attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(
    x as unknown as tf.Tensor,
    args.attrs.numOrSizeSplits as number | number[],
    axis,
  );
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const sz = [...x.shape];
    sz[axis] = s;
    const res = slice({ ...args, attrs: { begin: [...begin], size: sz } });
    begin[axis] += s;
    return res;
  });
}

function unpack(args: KernelArgs): TensorInfo[] {
  const value = args.inputs.value;
  let axis = args.attrs.axis as number;
  if (axis < 0) axis += value.shape.length;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const begin = new Array<number>(value.shape.length).fill(0);
  const size = [...value.shape];
  size[axis] = 1;
  const outs: TensorInfo[] = [];
  for (let i = 0; i < value.shape[axis]; i++) {
    begin[axis] = i;
    const r = slice({ ...args, inputs: { x: value }, attrs: { begin: [...begin], size } });
    outs.push({ dataId: r.dataId, dtype: r.dtype, shape: outShape });
  }
  return outs;
}

// ---------------------------------------------------------------------------------------------
// Transpose

/**
 * Drops size-1 dims and merges runs of axes that stay adjacent and in order, e.g. [2,3,4,5] with
 * perm [0,2,3,1] → shape [2,3,20], perm [0,2,1]. Returns the reduced shape and perm.
 */
function canonicalPerm(shape: number[], perm: number[]): [number[], number[]] {
  const keep = perm.filter((a) => shape[a] !== 1);
  // groups of consecutive input axes, in output order
  const groups: number[][] = [];
  for (const a of keep) {
    const g = groups.at(-1);
    if (g && g.at(-1)! + 1 === a) g.push(a);
    else groups.push([a]);
  }
  const byInput = [...groups].sort((g, h) => g[0] - h[0]);
  const newShape = byInput.map((g) => g.reduce((acc, a) => acc * shape[a], 1));
  const newPerm = groups.map((g) => byInput.indexOf(g));
  return [newShape, newPerm];
}

/**
 * The C kernel loops efficiently for rank ≤ 4 (after dropping size-1 and leading fixed dims) and
 * falls back to a per-element generic loop for rank ≥ 5 (10-50× slower). Higher-rank permutations
 * are done as a sequence of "move one axis" steps, each a rank-4 [pre, mid, axis, post] →
 * [pre, axis, mid, post] transpose.
 */
function transpose(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  const { backend } = args;
  const perm = args.attrs.perm as number[];
  const stock = original(tf.Transpose);
  const [shape, p] = canonicalPerm(x.shape, perm);
  if (p.length <= 4 || x.dtype === "string") return stock(args as never) as TensorInfo;
  let cur = p.map((_, i) => i); // input axes in their current order
  let curShape = [...shape];
  let t: TensorInfo = { dataId: x.dataId, dtype: x.dtype, shape };
  let owned = false;
  for (let pos = 0; pos < p.length; pos++) {
    const i = cur.indexOf(p[pos]);
    if (i === pos) continue;
    const prod = (a: number[]) => a.reduce((q, v) => q * v, 1);
    const view = {
      dataId: t.dataId,
      dtype: t.dtype,
      shape: [prod(curShape.slice(0, pos)), prod(curShape.slice(pos, i)), curShape[i], prod(curShape.slice(i + 1))],
    };
    const next = stock({ inputs: { x: view }, backend: backend as never, attrs: { perm: [0, 2, 1, 3] } }) as TensorInfo;
    if (owned) backend.disposeData(t.dataId);
    t = next;
    owned = true;
    cur = [...cur.slice(0, pos), cur[i], ...cur.slice(pos, i), ...cur.slice(i + 1)];
    curShape = [...curShape.slice(0, pos), curShape[i], ...curShape.slice(pos, i), ...curShape.slice(i + 1)];
  }
  return { dataId: t.dataId, dtype: t.dtype, shape: perm.map((a) => x.shape[a]) };
}

// ---------------------------------------------------------------------------------------------
// BatchMatMul

type MatMulFn = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  transposeA: boolean,
  transposeB: boolean,
  outId: number,
) => void;
const cwrapped = new WeakMap<WasmModuleLike, MatMulFn>();

function wasmMatMul(backend: WasmBackendLike): MatMulFn {
  let fn = cwrapped.get(backend.wasm);
  if (!fn) {
    const args = ["number", "array", "number", "number", "array", "number", "number", "number", "number"];
    fn = backend.wasm.cwrap(tf.BatchMatMul, null, args) as unknown as MatMulFn;
    cwrapped.set(backend.wasm, fn);
  }
  return fn;
}

const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);

/**
 * Registers a tensor in the C tensor map that aliases `count` float32 elements of `base` starting
 * at element `offset`: no copy. Must be released with `backend.wasm.tfjs.disposeData(id)` (NOT
 * backend.disposeData, which would free the aliased memory).
 */
function view(backend: WasmBackendLike, base: TensorInfo, offset: number, count: number): number {
  const info = backend.dataIdMap.get(base.dataId);
  if (!info) throw new Error("view of a tensor unknown to the wasm backend");
  const id = backend.dataIdNextNumber++;
  backend.wasm.tfjs.registerTensor(id, count, info.memoryOffset + offset * 4);
  return id;
}

/**
 * The [k, n] each weight buffer was first multiplied as, keyed by its dataId (shared by reshapes;
 * the entry goes when the data is disposed and the dataId collected).
 */
const weightShapes = new WeakMap<object, string>();

/**
 * The C id of b itself when it is safe to let XNNPACK cache its packed-weights operator on it
 * (the stock behaviour; saves re-packing a weight matrix on every forward), else null. XNNPACK's
 * cache is keyed by tensor id only: the same buffer multiplied as a different [k, n] (e.g. through
 * a reshape) would hit a stale operator and give wrong results, as the stock kernel does; then a
 * fresh view id is used instead.
 */
function weightsId(backend: WasmBackendLike, b: TensorInfo, k: number, n: number): number | null {
  const sig = `${k},${n}`;
  const prev = weightShapes.get(b.dataId);
  if (prev === undefined) weightShapes.set(b.dataId, sig);
  else if (prev !== sig) return null;
  return backend.dataIdMap.get(b.dataId)?.id ?? null;
}

function batchMatMul(args: KernelArgs): TensorInfo {
  const { a, b } = args.inputs;
  const { backend } = args;
  const transposeA = args.attrs.transposeA as boolean;
  const transposeB = args.attrs.transposeB as boolean;
  if (a.dtype !== "float32" || b.dtype !== "float32") return original(tf.BatchMatMul)(args as never) as TensorInfo;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const kA = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kB = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (kA !== kB) {
    throw new Error(
      `Error in matMul: inner shapes (${kA}) and (${kB}) of Tensors with shapes ${a.shape} and ${b.shape} ` +
        `and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const k = kA;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outerOut = broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batchA = util.sizeFromShape(outerA);
  const batchB = util.sizeFromShape(outerB);
  const batchOut = util.sizeFromShape(outerOut);
  const out = backend.makeOutput([...outerOut, m, n], "float32");
  if (batchOut * m * n === 0) return out;
  if (k === 0) {
    backend.typedArrayFromHeap(out).fill(0); // malloc'd memory is not zeroed
    return out;
  }

  // Materialise transposes so every product is a plain [m,k]@[k,n] (the only XNNPACK case).
  const transpose2d = original(tf.Transpose);
  const temps: TensorInfo[] = [];
  const asRows = (t: TensorInfo, batch: number, r: number, c: number, tr: boolean): TensorInfo => {
    if (!tr) return t;
    const x3 = { dataId: t.dataId, dtype: t.dtype, shape: [batch, c, r] };
    const y = transpose2d({ inputs: { x: x3 }, backend: backend as never, attrs: { perm: [0, 2, 1] } }) as TensorInfo;
    temps.push(y);
    return y;
  };
  const aN = asRows(a, batchA, m, k, transposeA); // [batchA, m, k]
  const bN = asRows(b, batchB, k, n, transposeB); // [batchB, k, n]
  const mm = wasmMatMul(backend);
  const run = (aOff: number, rows: number, bOff: number, outOff: number) => {
    const ia = view(backend, aN, aOff, rows * k);
    const ib = bOff === 0 && bN === b ? weightsId(backend, b, k, n) : null;
    const ibv = ib ?? view(backend, bN, bOff, k * n);
    const io = view(backend, out, outOff, rows * n);
    mm(ia, shapeBytes([1, rows, k]), 3, ibv, shapeBytes([1, k, n]), 3, false, false, io);
    // disposeData on a view id also deletes the XNNPACK operator cached on it
    backend.wasm.tfjs.disposeData(ia);
    if (ib === null) backend.wasm.tfjs.disposeData(ibv);
    backend.wasm.tfjs.disposeData(io);
  };
  try {
    if (batchB === 1) {
      // one weight matrix for every batch (then batchOut = batchA): fold the batch into rows, a
      // single XNNPACK call
      run(0, batchA * m, 0, 0);
    } else {
      const ia = broadcastIndex(outerOut, outerA);
      const ib = broadcastIndex(outerOut, outerB);
      for (let i = 0; i < batchOut; i++) run(ia(i) * m * k, m, ib(i) * k * n, i * m * n);
    }
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
  return out;
}

/** Maps a flat batch index of the broadcast outer shape to the flat index in an operand's outer shape. */
function broadcastIndex(outShape: number[], shape: number[]): (i: number) => number {
  const r = outShape.length;
  const s = [...new Array<number>(r - shape.length).fill(1), ...shape];
  if (s.every((v, i) => v === outShape[i])) return (i) => i;
  const strides = new Array<number>(r).fill(0);
  let acc = 1;
  for (let d = r - 1; d >= 0; d--) {
    strides[d] = s[d] === 1 ? 0 : acc;
    acc *= s[d];
  }
  return (i) => {
    let rem = i;
    let idx = 0;
    for (let d = r - 1; d >= 0; d--) {
      const c = rem % outShape[d];
      rem = (rem - c) / outShape[d];
      idx += c * strides[d];
    }
    return idx;
  };
}

// ---------------------------------------------------------------------------------------------
// Sum / Mean

/**
 * Merges adjacent axes that are both reduced or both kept and drops size-1 axes: e.g. [2,48,48,48,14]
 * over axes 0..3 → groups [221184 (reduced), 14 (kept)].
 */
function reductionGroups(shape: number[], axes: number[]): { size: number; reduced: boolean }[] {
  const groups: { size: number; reduced: boolean }[] = [];
  shape.forEach((n, i) => {
    if (n === 1) return;
    const reduced = axes.includes(i);
    const g = groups.at(-1);
    if (g && g.reduced === reduced) g.size *= n;
    else groups.push({ size: n, reduced });
  });
  return groups;
}

/**
 * Σ over the reduced groups of src, accumulated in float64 (out.length = product of kept groups).
 * The last group is the contiguous inner loop: kept → out[o + k] += src[off + k]; reduced → a
 * contiguous run summed into out[o].
 */
function sumGroups(src: Float32Array, groups: { size: number; reduced: boolean }[], out: Float64Array): void {
  const n = groups.length;
  if (n === 0) {
    out[0] += src[0];
    return;
  }
  const last = groups[n - 1];
  const inner = last.size;
  if (!last.reduced && groups[n - 2].reduced && (n === 2 || (n === 3 && !groups[0].reduced))) {
    // [R, K] → [K] and [K1, R, K2] → [K1, K2] (bias and loss gradients): 8 channels at a time in locals
    const blocks = n === 3 ? groups[0].size : 1;
    const run = groups[n - 2].size * inner;
    for (let j = 0; j < blocks; j++) {
      channelSums(src, null, j * run, (j + 1) * run, inner, null, 0, out.subarray(j * inner, (j + 1) * inner), null);
    }
    return;
  }
  // output strides of the outer groups (0 for reduced ones)
  const outStride = new Array<number>(n).fill(0);
  let acc = last.reduced ? 1 : inner;
  for (let d = n - 2; d >= 0; d--) {
    if (!groups[d].reduced) {
      outStride[d] = acc;
      acc *= groups[d].size;
    }
  }
  const outer = src.length / inner;
  const idx = new Array<number>(n).fill(0);
  let o = 0;
  for (let r = 0, off = 0; r < outer; r++, off += inner) {
    if (last.reduced) {
      let s = 0;
      for (let k = 0; k < inner; k++) s += src[off + k];
      out[o] += s;
    } else {
      for (let k = 0; k < inner; k++) out[o + k] += src[off + k];
    }
    // odometer over the outer groups
    for (let d = n - 2; d >= 0; d--) {
      idx[d]++;
      o += outStride[d];
      if (idx[d] < groups[d].size) break;
      o -= groups[d].size * outStride[d];
      idx[d] = 0;
    }
  }
}

/**
 * Sum and Mean of float32 tensors. The stock kernels reduce only inner axes: any other reduction first
 * goes through the backend's own transpose (rank 5: the per-element generic loop). When the reduced axes
 * are the innermost ones (after merging) the stock C kernel is used as is; otherwise one pass over the
 * input, in memory order, accumulating in float64.
 */
function reduce(kind: "Sum" | "Mean", args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  const { backend } = args;
  const stock = () => original(kind === "Sum" ? tf.Sum : tf.Mean)(args as never) as TensorInfo;
  if (x.dtype !== "float32") return stock();
  const axes = util.parseAxisParam(args.attrs.axis as number | number[], x.shape);
  const groups = reductionGroups(x.shape, axes);
  const innerOnly = groups.length <= 1 || (groups.length === 2 && groups[1].reduced);
  if (innerOnly || util.sizeFromShape(x.shape) === 0) return stock();
  const [outShape, reduceShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
  const shape = args.attrs.keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
  const out = backend.makeOutput(shape, "float32");
  const acc = new Float64Array(util.sizeFromShape(outShape));
  sumGroups(backend.typedArrayFromHeap(x) as Float32Array, groups, acc);
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  if (kind === "Mean") {
    const count = util.sizeFromShape(reduceShape);
    for (let i = 0; i < acc.length; i++) dst[i] = acc[i] / count;
  } else dst.set(acc);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Concat

/**
 * The stock kernel copies each input row with `subarray` + `set` (two allocations per row: slow when
 * rows are short, e.g. a channel concat of [B,D,H,W,16] tensors). Ours copies runs of ≥ 32 elements
 * with `set` and shorter runs element by element, input by input.
 */
function concat(args: KernelArgs): TensorInfo {
  const inputs = args.inputs as unknown as TensorInfo[];
  const { backend } = args;
  const dtype = inputs[0].dtype;
  if (dtype === "string" || dtype === "complex64") return original(tf.Concat)(args as never) as TensorInfo;
  const axis = util.parseAxisParam(args.attrs.axis as number, inputs[0].shape)[0];
  tf.backend_util.assertParamsConsistent(
    inputs.map((t) => t.shape),
    axis,
  );
  const outShape = tf.backend_util.computeOutShape(
    inputs.map((t) => t.shape),
    axis,
  );
  const out = backend.makeOutput(outShape, dtype);
  const parts = inputs.filter((t) => util.sizeFromShape(t.shape) > 0);
  if (util.sizeFromShape(outShape) === 0 || parts.length === 0) return out;
  const outer = util.sizeFromShape(outShape.slice(0, axis));
  const rowOut = util.sizeFromShape(outShape.slice(axis));
  const dst = backend.typedArrayFromHeap(out);
  let col = 0;
  for (const t of parts) {
    const src = backend.typedArrayFromHeap(t);
    const run = util.sizeFromShape(t.shape.slice(axis));
    if (outer === 1) dst.set(src, col);
    else if (run >= 32) {
      for (let r = 0; r < outer; r++) dst.set(src.subarray(r * run, (r + 1) * run), r * rowOut + col);
    } else {
      for (let r = 0, s = 0, o = col; r < outer; r++, o += rowOut) for (let j = 0; j < run; j++) dst[o + j] = src[s++];
    }
    col += run;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Identity

/**
 * The stock wasm Identity COPIES its input (malloc + memcpy), and tfjs runs Identity for every
 * `clone`, i.e. for every tensor a kernel or tf.customGrad saves for the backward pass
 * (saveTensorsForBackwardMode keeps a clone). On wasm each saved activation was a second full-size
 * buffer. Tensors are immutable, so ours shares the buffer (refcount + 1), like the cpu backend's
 * Identity and wasm's own Reshape.
 */
function identity(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === "string") return original(tf.Identity)(args as never) as TensorInfo;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

// ---------------------------------------------------------------------------------------------
// install / uninstall

const fixes: [string, KernelFunc][] = [
  [tf.Slice, slice as unknown as KernelFunc],
  [tf.SplitV, splitV as unknown as KernelFunc],
  [tf.Unpack, unpack as unknown as KernelFunc],
  [tf.BatchMatMul, batchMatMul as unknown as KernelFunc],
  [tf.Transpose, transpose as unknown as KernelFunc],
  [tf.Sum, ((a: KernelArgs) => reduce("Sum", a)) as unknown as KernelFunc],
  [tf.Mean, ((a: KernelArgs) => reduce("Mean", a)) as unknown as KernelFunc],
  [tf.Concat, concat as unknown as KernelFunc],
  [tf.Identity, identity as unknown as KernelFunc],
];

/** Names of the wasm kernels that installWasmKernelFixes replaces. */
export const wasmKernelFixNames: readonly string[] = fixes.map(([n]) => n);

/** Whether the voxelpipe wasm kernels are currently registered. */
export function wasmKernelFixesInstalled(): boolean {
  return fixes.every(([name]) => {
    const cur = tf.getKernel(name, "wasm");
    return cur !== undefined && cur === ours.get(name);
  });
}

/**
 * Re-registers Slice, SplitV, Unpack, BatchMatMul, Transpose, Sum, Mean, Concat and Identity for the wasm backend with the faster
 * user-land kernels above. Idempotent; returns true if anything was (re)installed. Needs
 * `@tensorflow/tfjs-backend-wasm` imported (its kernels registered); works before or after
 * `tf.setBackend("wasm")`.
 */
export function installWasmKernelFixes(): boolean {
  if (!tf.getKernel(tf.BatchMatMul, "wasm")) {
    throw new VoxelpipeError({
      code: Codes.backend,
      message: "cannot install the wasm kernel fixes: the wasm backend's kernels are not registered",
      expected: "@tensorflow/tfjs-backend-wasm imported before installWasmKernelFixes()",
      got: `no BatchMatMul kernel for backend "wasm" (active backend: ${tf.getBackend() ?? "none"})`,
      hint: 'import "@tensorflow/tfjs-backend-wasm" (or call selectBackend("wasm")) first',
    });
  }
  checkBackendShape();
  let changed = false;
  for (const [name, kernelFunc] of fixes) {
    const cur = tf.getKernel(name, "wasm");
    let cfg = ours.get(name);
    if (cur && cfg && cur === cfg) continue;
    if (cur) {
      originals.set(name, cur);
      tf.unregisterKernel(name, "wasm"); // avoids registerKernel's "already registered" warning
    }
    if (!cfg) {
      cfg = { kernelName: name, backendName: "wasm", kernelFunc };
      ours.set(name, cfg);
    }
    tf.registerKernel(cfg);
    changed = true;
  }
  return changed;
}

/** Restores the stock wasm kernels (for benchmarks and tests). Idempotent. */
export function uninstallWasmKernelFixes(): void {
  for (const [name] of fixes) {
    const cur = tf.getKernel(name, "wasm");
    const orig = originals.get(name);
    if (!orig || cur !== ours.get(name)) continue;
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel(orig);
  }
}

/** Fails early, with a clear message, if a future tfjs-backend-wasm changed the internals we use. */
function checkBackendShape(): void {
  // engine().registry holds initialised backends only (findBackend would start initialising one)
  const be: unknown = tf.engine().registry["wasm"];
  if (!be) return; // not initialised yet: checked again on the next install call
  const w = be as Partial<WasmBackendLike>;
  const ok =
    typeof w.makeOutput === "function" &&
    typeof w.typedArrayFromHeap === "function" &&
    typeof w.dataIdNextNumber === "number" &&
    typeof w.incRef === "function" &&
    typeof w.dataIdMap?.get === "function" &&
    typeof w.wasm?.cwrap === "function" &&
    typeof w.wasm?.tfjs?.registerTensor === "function" &&
    typeof w.wasm?.tfjs?.disposeData === "function";
  if (!ok) {
    throw new VoxelpipeError({
      code: Codes.backend,
      message: "the wasm backend does not expose the internals voxelpipe's kernel fixes rely on",
      expected: "@tensorflow/tfjs-backend-wasm 4.22 (BackendWasm with wasm.cwrap, dataIdMap, makeOutput)",
      got: `a wasm backend without them (tfjs-core ${tf.version_core})`,
      hint: "pin @tensorflow/tfjs-backend-wasm to 4.22.0, or run without the fixes (slower, still correct)",
    });
  }
}
