/**
 * The engine's public 3-D conv ops (the contract the networks build on). Each call picks the
 * fastest form that is correct, forward and backward, on the active backend; see docs/engine.md.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Codes, VoxelpipeError } from "../errors.js";
import { conv3dStride1, type Pads3, type Stride1Form } from "./conv-stride1.js";
import { convTranspose3dPatch, patchConv3d as patchConv3dImpl, pointwiseConv3d } from "./patch-conv.js";

// the fused instance norm (+ LeakyReLU) ops, re-exported with the conv ops (engine namespace)
export {
  instanceNormActBackward,
  instanceNormActForward,
  instanceNormFused,
  instanceNormLeakyRelu,
} from "./fused-norm.js";

export type Triple = [number, number, number];

/**
 * How conv3d computes a stride-1 conv. "auto" (default): the fastest correct form for the active
 * backend. "native": tf.conv3d as is (its input gradient is WRONG on wasm). "conv2d" / "taps": the
 * composite forms of conv-stride1.ts (forward, input and filter gradient right everywhere).
 */
export type ConvImpl = "auto" | "native" | Stride1Form;

export interface Conv3dOptions {
  strides?: number | Triple;
  padding?: "same" | "valid";
  impl?: ConvImpl;
}

/**
 * Which stride-1 form "auto" uses on a backend: the composite conv2d form where tfjs' own conv3d
 * is wrong or slow (wasm); tfjs' conv3d elsewhere (correct on cpu and the tfjs-node backends).
 */
export function autoConvForm(backend: string = tf.getBackend()): "native" | Stride1Form {
  return backend === "wasm" ? "conv2d" : "native";
}

function bad(message: string, expected: string, got: string, hint?: string): never {
  throw new VoxelpipeError({ code: Codes.invalidValue, message, expected, got, hint });
}

function checkRank5(op: string, x: tf.Tensor, w: tf.Tensor): void {
  if (x.rank !== 5) bad(`${op}: input must be rank 5`, "[B, S0, S1, S2, C] (channel-last)", `shape [${x.shape}]`);
  if (w.rank !== 5) bad(`${op}: kernel must be rank 5`, "[k0, k1, k2, Cin, Cout]", `shape [${w.shape}]`);
}

function checkConvChannels(op: string, x: tf.Tensor, w: tf.Tensor): void {
  if (x.shape[4] !== w.shape[3]) {
    bad(
      `${op}: input channels do not match the kernel`,
      `x.shape[4] = w.shape[3] (kernel [kd, kh, kw, Cin, Cout] = [${w.shape}])`,
      `x [${x.shape}]`,
      "PyTorch Conv3d weights [O, I, k0, k1, k2] must be permuted (2, 3, 4, 1, 0)",
    );
  }
}

/** TF/PyTorch "same" padding for stride 1: k-1 in total, the extra one after. */
function samePads(k: Triple): Pads3 {
  return k.map((ki) => [Math.floor((ki - 1) / 2), ki - 1 - Math.floor((ki - 1) / 2)]) as Pads3;
}

/**
 * conv3d (cross-correlation), channel-last. x: [B, D, H, W, Ci]; w: [kd, kh, kw, Ci, Co]; padding
 * "same" or "valid"; stride a number or triple. Differentiable on every backend:
 * - stride 1 (k1, k3, any k): 1×1×1 → one matMul; else conv3dStride1 (composite forms, custom
 *   gradient) on wasm, tf.conv3d elsewhere; `impl` forces a form;
 * - stride = kernel (patch embedding): patchConv3d (one matMul);
 * - other strides: tf.conv3d (refused on wasm while gradients are recorded: its input gradient is
 *   wrong there).
 */
export function conv3d(x: tf.Tensor5D, w: tf.Tensor5D, opts: Conv3dOptions = {}): tf.Tensor5D {
  checkRank5("conv3d", x, w);
  checkConvChannels("conv3d", x, w);
  const s0 = opts.strides ?? 1;
  const s: Triple = typeof s0 === "number" ? [s0, s0, s0] : s0;
  const padding = opts.padding ?? "same";
  const impl = opts.impl ?? "auto";
  const k: Triple = [w.shape[0], w.shape[1], w.shape[2]];
  if (impl === "native") return tf.conv3d(x, w, s, padding);

  if (s.every((v) => v === 1)) {
    if (padding === "valid" && k.some((ki, i) => ki > x.shape[i + 1])) {
      bad("conv3d: kernel larger than the input with padding 'valid'", `kernel ≤ [${x.shape.slice(1, 4)}]`, `[${k}]`);
    }
    if (impl === "auto" && k.every((v) => v === 1)) return pointwiseConv3d(x, w);
    const form = impl === "auto" ? autoConvForm() : impl;
    if (form === "native") return tf.conv3d(x, w, s, padding);
    const pads: Pads3 =
      padding === "valid"
        ? [
            [0, 0],
            [0, 0],
            [0, 0],
          ]
        : samePads(k);
    return conv3dStride1(x, w, pads, form);
  }

  const divisible = k.every((ki, i) => x.shape[i + 1] % ki === 0);
  if (s.every((v, i) => v === k[i]) && (padding === "valid" || divisible)) return patchConv3dImpl(x, w);

  if (tf.getBackend() === "wasm" && tf.engine().state.gradientDepth > 0) {
    bad(
      "conv3d: this stride/kernel cannot be trained on the wasm backend",
      "stride 1, or stride = kernel size (patch embedding)",
      `kernel [${k}], strides [${s}], padding ${padding}`,
      "tfjs-backend-wasm's conv3d input gradient (Conv3DBackpropInputV2) is wrong; use stride 1 + pooling, " +
        "or the cpu backend",
    );
  }
  return tf.conv3d(x, w, s, padding);
}

/**
 * Transposed conv with kernel = stride = 2, channel-last. x: [B, D, H, W, Ci]; w: [2, 2, 2, Co, Ci]
 * (tfjs conv3dTranspose layout). Output [B, 2D, 2H, 2W, Co]. Exact and trainable: one matMul
 * [M, Ci] @ [Ci, 8·Co] followed by depth-to-space.
 */
export function convTranspose3dK2S2(x: tf.Tensor5D, w: tf.Tensor5D): tf.Tensor5D {
  checkRank5("convTranspose3dK2S2", x, w);
  if (w.shape[0] !== 2 || w.shape[1] !== 2 || w.shape[2] !== 2) {
    bad("convTranspose3dK2S2: kernel must be 2×2×2", "w [2, 2, 2, Cout, Cin]", `w [${w.shape}]`);
  }
  return convTranspose3d(x, w);
}

/**
 * Transposed conv with kernel = stride = w.shape[0..2] (UNETR: 2, ViTAutoEnc: 4), no padding,
 * channel-last. x: [B, D, H, W, Ci]; w: [k0, k1, k2, Co, Ci] → [B, k0·D, k1·H, k2·W, Co].
 */
export function convTranspose3d(x: tf.Tensor5D, w: tf.Tensor5D): tf.Tensor5D {
  checkRank5("convTranspose3d", x, w);
  if (x.shape[4] !== w.shape[4]) {
    bad(
      "convTranspose3d: input channels do not match the kernel",
      `x.shape[4] = w.shape[4] (kernel [k0, k1, k2, Cout, Cin] = [${w.shape}])`,
      `x [${x.shape}]`,
      "PyTorch ConvTranspose3d weights [I, O, k0, k1, k2] must be permuted (2, 3, 4, 1, 0)",
    );
  }
  return convTranspose3dPatch(x, w);
}

/**
 * Conv3d with kernel = stride = w.shape[0..2], no padding (the ViT patch embedding), channel-last:
 * x [B, D, H, W, Ci], w [p0, p1, p2, Ci, Co] → [B, ⌊D/p0⌋, ⌊H/p1⌋, ⌊W/p2⌋, Co]. One matMul.
 */
export function patchConv3d(x: tf.Tensor5D, w: tf.Tensor5D): tf.Tensor5D {
  checkRank5("patchConv3d", x, w);
  checkConvChannels("patchConv3d", x, w);
  if (w.shape.slice(0, 3).some((p, i) => p > x.shape[i + 1])) {
    bad("patchConv3d: patch larger than the input", `patch ≤ [${x.shape.slice(1, 4)}]`, `[${w.shape.slice(0, 3)}]`);
  }
  return patchConv3dImpl(x, w);
}
