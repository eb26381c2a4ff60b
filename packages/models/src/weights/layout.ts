import type { SafeArray, SafeTensor } from "@voxelpipe/core";
import type { ParamLayout } from "../params/param-store.js";

/** Permute an N-d C-order array: out axis i = in axis perm[i] (numpy.transpose semantics). */
export function permuteArray<T extends SafeArray>(data: T, shape: readonly number[], perm: readonly number[]): T {
  const r = shape.length;
  if (perm.length !== r) throw new Error(`permutation [${perm}] does not match rank ${r}`);
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(r);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const strideOfOut = perm.map((p) => inStrides[p]);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const idx = new Array<number>(r).fill(0);
  const last = r - 1;
  const lastN = outShape[last] ?? 1;
  const lastStride = strideOfOut[last] ?? 0;
  let o = 0;
  if (data.length === 0) return out;
  // walk the output in C order; the innermost axis is a strided copy
  for (;;) {
    let base = 0;
    for (let i = 0; i < last; i++) base += idx[i] * strideOfOut[i];
    for (let j = 0; j < lastN; j++)
      (out as unknown as number[])[o++] = (data as unknown as number[])[base + j * lastStride];
    let ax = last - 1;
    while (ax >= 0) {
      idx[ax]++;
      if (idx[ax] < outShape[ax]) break;
      idx[ax] = 0;
      ax--;
    }
    if (ax < 0) break;
  }
  return out;
}

/**
 * PyTorch → ours (monai-semantics §3.6): Conv3d [O,I,k0,k1,k2] → [k0,k1,k2,I,O] and
 * ConvTranspose3d [I,O,k0,k1,k2] → [k0,k1,k2,O,I] are both the permutation (2,3,4,1,0);
 * Linear [out,in] → [in,out]; everything else unchanged.
 */
const FROM_TORCH: Record<ParamLayout, number[] | null> = {
  conv: [2, 3, 4, 1, 0],
  convTranspose: [2, 3, 4, 1, 0],
  linear: [1, 0],
  plain: null,
};

function inverse(p: number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => {
    inv[v] = i;
  });
  return inv;
}

function convert(t: SafeTensor, perm: number[] | null, key: string, direction: string): SafeTensor {
  if (!perm) return t;
  if (t.shape.length !== perm.length) {
    throw new Error(`${key}: expected a rank-${perm.length} tensor for ${direction}, got shape [${t.shape}]`);
  }
  return { dtype: t.dtype, shape: perm.map((p) => t.shape[p]), data: permuteArray(t.data, t.shape, perm) };
}

export function fromTorchLayout(t: SafeTensor, layout: ParamLayout, key = "tensor"): SafeTensor {
  return convert(t, FROM_TORCH[layout], key, `a PyTorch ${layout} weight`);
}

export function toTorchLayout(t: SafeTensor, layout: ParamLayout, key = "tensor"): SafeTensor {
  const p = FROM_TORCH[layout];
  return convert(t, p && inverse(p), key, `our ${layout} layout`);
}

/** the shape a PyTorch tensor of `layout` will have in our layout (for shape checks before converting) */
export function fromTorchShape(shape: readonly number[], layout: ParamLayout): number[] {
  const p = FROM_TORCH[layout];
  return p && p.length === shape.length ? p.map((i) => shape[i]) : [...shape];
}
