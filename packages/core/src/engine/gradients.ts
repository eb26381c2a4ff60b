/**
 * Gradients. tfjs-core's Node bundle registers none, and its per-file ES modules (where the gradient
 * configs live) cannot be loaded by Node (extension-less imports). The @tensorflow/tfjs node bundle
 * registers them all against the same tfjs-core instance, so loading it, once, makes
 * `tf.grad` / `variableGrads` work in every package. It is loaded when a backend is prepared, not when
 * this module is imported: it costs a third of the CLI's start-up, and `validate`, `list` or `--help`
 * never differentiate. On top of those, voxelpipe registers its own replacements (see batchMatMulGrad).
 */
import * as tf from "@tensorflow/tfjs-core";
import { Codes, VoxelpipeError } from "../errors.js";

export interface GradientRegistration {
  /** gradient configs voxelpipe registered (its replacements) */
  registered: string[];
  /** kernels with tfjs's own gradient */
  existing: string[];
  /** kernels the engine needs that have no gradient (always empty unless tfjs changed) */
  skipped: { file: string; reason: string }[];
}

type T = tf.Tensor;

/**
 * BatchMatMul gradient that also handles broadcast batch dims (tfjs-core 4.22's returns the
 * broadcast shape, e.g. [2,4,5] for a [4,5] weight in x[2,3,4]·w[4,5], and backprop then throws
 * "gradient of input 'b' has shape '2,4,5', which does not match"). Same products as tfjs-core,
 * then summed over the broadcast dims.
 */
const batchMatMulGrad: tf.GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ["a", "b"],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const d = dy as T;
    const fit = (g: T, like: T): T => {
      if (g.shape.length === like.shape.length && g.shape.every((v, i) => v === like.shape[i])) return g;
      const axes = tf.broadcast_util.getReductionAxes(like.shape, g.shape);
      return tf.reshape(axes.length ? tf.sum(g, axes) : g, like.shape);
    };
    const mm = (x: T, y: T, tx: boolean, ty: boolean) => tf.matMul(x, y, tx, ty);
    if (!transposeA && !transposeB)
      return { a: () => fit(mm(d, b, false, true), a), b: () => fit(mm(a, d, true, false), b) };
    if (!transposeA && transposeB)
      return { a: () => fit(mm(d, b, false, false), a), b: () => fit(mm(d, a, true, false), b) };
    if (transposeA && !transposeB)
      return { a: () => fit(mm(b, d, false, true), a), b: () => fit(mm(a, d, false, false), b) };
    return { a: () => fit(mm(b, d, true, true), a), b: () => fit(mm(d, a, true, true), b) };
  },
};

/** Gradients voxelpipe registers in place of tfjs-core's. */
const overrides: tf.GradConfig[] = [batchMatMulGrad];

/** kernels the networks and losses differentiate through */
const needed = [
  tf.Sum,
  tf.Add,
  tf.Multiply,
  tf.BatchMatMul,
  tf.Erf,
  tf.Softmax,
  tf.PadV2,
  tf.Slice,
  tf.Concat,
  tf.LeakyRelu,
  tf.Conv2D,
];

let result: GradientRegistration | null = null;

/**
 * Load tfjs's gradient configs through Node's `require` (the bundle is CommonJS and resolves the same
 * tfjs-core instance as our imports). `process.getBuiltinModule` keeps this module free of a static
 * `node:` import, so browser bundles can include it; there (inference only) nothing is loaded and
 * training would stop on the check below.
 */
function loadTfjsGradients(): void {
  if (tf.getGradient(tf.Add)) return;
  const nodeModule = globalThis.process?.getBuiltinModule?.("node:module") as typeof import("node:module") | undefined;
  nodeModule?.createRequire(import.meta.url)("@tensorflow/tfjs");
}

/** Register voxelpipe's gradient replacements and check tfjs's are there. Idempotent. */
export function registerGradients(): GradientRegistration {
  if (result) return result;
  loadTfjsGradients();
  const missing = needed.filter((k) => !tf.getGradient(k));
  if (missing.length) {
    throw new VoxelpipeError({
      code: Codes.backend,
      message: `tfjs has no gradient for ${missing.join(", ")}: training would fail`,
      expected: "@tensorflow/tfjs 4.22 registering tfjs-core's gradients",
      hint: "reinstall dependencies with `npm ci`",
    });
  }
  for (const cfg of overrides) {
    if (tf.getGradient(cfg.kernelName)) tf.unregisterGradient(cfg.kernelName);
    tf.registerGradient(cfg);
  }
  const existing = (Object.values(tf) as unknown[]).filter(
    (v): v is string => typeof v === "string" && v.length > 0 && !!tf.getGradient(v),
  );
  result = { registered: overrides.map((o) => o.kernelName), existing: [...new Set(existing)], skipped: [] };
  return result;
}
