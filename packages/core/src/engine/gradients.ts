/**
 * Registers tfjs-core's gradient functions, which `@tensorflow/tfjs-core` alone does NOT do in
 * Node: its bundles (tf-core.node.js, which `import "@tensorflow/tfjs-core"` loads) contain no
 * gradient configs; they live only in `dist/gradients/*_grad.js` + `dist/register_all_gradients.js`,
 * ES modules with extension-less imports that only a bundler (or the `@tensorflow/tfjs` union
 * package, not a dependency here) can load. Without them every `tf.grad`/`minimize` fails with
 * "gradient function not found for Sum".
 *
 * We load those files from the installed tfjs-core at run time (no copy in this repo, so they
 * always match the installed version) and evaluate each with its imports bound to tfjs-core's
 * public API (kernel names, ops, util namespaces); the handful of internal backprop ops they use
 * are re-created below from `engine().runKernel` exactly as tfjs-core defines them. A gradient
 * whose imports cannot be bound is skipped and listed in the result. BatchMatMul gets a
 * broadcast-aware gradient instead of tfjs-core's (see batchMatMulGrad).
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { Codes, VoxelpipeError } from "../errors.js";

export interface GradientRegistration {
  /** gradient configs registered by this call */
  registered: string[];
  /** kernels that already had a gradient (kept as is) */
  existing: string[];
  /** gradient files that could not be loaded, with the reason */
  skipped: { file: string; reason: string }[];
}

type Mod = Record<string, unknown>;
type T = tf.Tensor;
type Attrs = Record<string, unknown>;
const run = (name: string, inputs: Record<string, T>, attrs: Attrs) =>
  tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as never) as T;

/** tfjs-core internal backprop ops imported by the gradient files (same kernel calls as tfjs-core 4.22). */
const internalOps: Mod = {
  conv2DBackpropInput: (
    xShape: number[],
    dy: T,
    filter: T,
    strides: unknown,
    pad: unknown,
    dataFormat = "NHWC",
    dimRoundingMode?: unknown,
  ) => run(tf.Conv2DBackpropInput, { dy, filter }, { strides, pad, dataFormat, dimRoundingMode, inputShape: xShape }),
  conv2DBackpropFilter: (
    x: T,
    dy: T,
    filterShape: number[],
    strides: unknown,
    pad: unknown,
    dataFormat = "NHWC",
    dimRoundingMode?: unknown,
  ) => run(tf.Conv2DBackpropFilter, { x, dy }, { strides, pad, dataFormat, dimRoundingMode, filterShape }),
  conv3DBackpropInput: (xShape: number[], dy: T, filter: T, strides: unknown, pad: unknown) =>
    run(tf.Conv3DBackpropInputV2, { dy, filter }, { pad, strides, inputShape: xShape }),
  conv3DBackpropFilter: (x: T, dy: T, filterShape: number[], strides: unknown, pad: unknown) =>
    run(tf.Conv3DBackpropFilterV2, { x, dy }, { strides, pad, filterShape }),
  maxPoolGrad: (
    dy: T,
    input: T,
    output: T,
    filterSize: unknown,
    strides: unknown,
    pad: unknown,
    dimRoundingMode?: unknown,
  ) => run(tf.MaxPoolGrad, { dy, input, output }, { filterSize, strides, pad, dimRoundingMode }),
  avgPoolGrad: (dy: T, input: T, filterSize: unknown, strides: unknown, pad: unknown) =>
    run(tf.AvgPoolGrad, { dy, input }, { filterSize, strides, pad }),
  maxPool3dGrad: (
    dy: T,
    input: T,
    output: T,
    filterSize: unknown,
    strides: unknown,
    pad: unknown,
    dimRoundingMode?: unknown,
  ) => run(tf.MaxPool3DGrad, { dy, input, output }, { filterSize, strides, pad, dimRoundingMode }),
  avgPool3dGrad: (dy: T, input: T, filterSize: unknown, strides: unknown, pad: unknown, dimRoundingMode?: unknown) =>
    run(tf.AvgPool3DGrad, { dy, input }, { filterSize, strides, pad, dimRoundingMode }),
  depthwiseConv2dNativeBackpropInput: (
    xShape: number[],
    dy: T,
    filter: T,
    strides: unknown,
    pad: unknown,
    dilations = [1, 1],
    dimRoundingMode?: unknown,
  ) =>
    run(
      tf.DepthwiseConv2dNativeBackpropInput,
      { dy, filter },
      { strides, pad, dimRoundingMode, dilations, inputShape: xShape },
    ),
  depthwiseConv2dNativeBackpropFilter: (
    x: T,
    dy: T,
    filterShape: number[],
    strides: unknown,
    pad: unknown,
    dilations = [1, 1],
    dimRoundingMode?: unknown,
  ) =>
    run(tf.DepthwiseConv2dNativeBackpropFilter, { x, dy }, { strides, pad, dimRoundingMode, dilations, filterShape }),
  localResponseNormalizationBackprop: (x: T, y: T, dy: T, depthRadius = 5, bias = 1, alpha = 1, beta = 0.5) =>
    run(tf.LRNGrad, { x, y, dy }, { depthRadius, bias, alpha, beta }),
};

class MissingImport extends Error {}

let opsNamespace: Mod | null = null;

/** The public namespace each internal module path of tfjs-core/dist maps to. */
function namespaceFor(spec: string): Mod {
  const t = tf as unknown as Mod;
  if (spec === "../engine") return { ENGINE: tf.engine() };
  if (spec === "../util") return tf.util as unknown as Mod;
  if (spec === "../ops/broadcast_util") return tf.broadcast_util as unknown as Mod;
  if (spec === "../ops/slice_util") return tf.slice_util as unknown as Mod;
  if (/^\.\.\/ops\/(axis|conv|selu)_util$/.test(spec)) return tf.backend_util as unknown as Mod;
  if (spec === "../kernel_names" || spec === "../base" || spec.startsWith("../ops/")) {
    opsNamespace ??= { ...internalOps, ...t };
    return opsNamespace;
  }
  throw new MissingImport(`unknown module ${spec}`);
}

/** Turns one ES module of dist/gradients into a function of an import resolver returning its exports. */
function compile(src: string): (imp: (spec: string, names: string[] | null) => Mod) => Mod {
  const exported: string[] = [];
  let body = src
    .replace(/\/\/# sourceMappingURL=.*$/gm, "")
    .replace(/^import\s+'[^']+';/gm, "")
    .replace(
      /^import\s+\*\s+as\s+(\w+)\s+from\s+'([^']+)';/gm,
      (_m, ns, spec) => `const ${ns} = __imp(${JSON.stringify(spec)}, null);`,
    )
    .replace(/^import\s+\{([^}]*)\}\s+from\s+'([^']+)';/gm, (_m, list: string, spec) => {
      const pairs = list
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => s.split(/\s+as\s+/));
      const names = pairs.map(([n]) => n);
      const binds = pairs.map(([n, a]) => (a ? `${n}: ${a}` : n)).join(", ");
      return `const { ${binds} } = __imp(${JSON.stringify(spec)}, ${JSON.stringify(names)});`;
    })
    .replace(/^export\s+(const|function)\s+(\w+)/gm, (_m, kind, name) => {
      exported.push(name);
      return `${kind} ${name}`;
    });
  if (/^\s*(import|export)\s/m.test(body)) throw new MissingImport("unsupported import/export form");
  body += `\nreturn { ${exported.join(", ")} };`;
  const fn = new Function("__imp", `"use strict";\n${body}`) as (imp: unknown) => Mod;
  return (imp) => fn(imp);
}

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

/** Gradients voxelpipe registers in place of tfjs-core's (always, even when one is registered). */
const overrides: tf.GradConfig[] = [batchMatMulGrad];

let result: GradientRegistration | null = null;

/**
 * Registers every tfjs-core gradient that is not registered yet. Idempotent (the work is done
 * once per process). Runs when the engine module is imported; call it again to get the report or
 * an error explaining why gradients are unavailable.
 */
export function registerGradients(): GradientRegistration {
  if (result) return result;
  const require = createRequire(import.meta.url);
  let dir: string;
  let files: string[];
  try {
    dir = join(dirname(require.resolve("@tensorflow/tfjs-core/package.json")), "dist", "gradients");
    files = readdirSync(dir).filter((f) => f.endsWith(".js"));
  } catch (e) {
    throw new VoxelpipeError({
      code: Codes.backend,
      message: "cannot load tfjs-core's gradient functions: training would fail",
      expected: "@tensorflow/tfjs-core/dist/gradients/*.js (tfjs-core 4.22)",
      got: e instanceof Error ? e.message.split("\n")[0] : String(e),
      hint: "reinstall dependencies with `npm ci`",
    });
  }
  const modules = new Map<string, Mod>();
  const loading = new Set<string>();
  const load = (file: string): Mod => {
    const done = modules.get(file);
    if (done) return done;
    if (loading.has(file)) throw new MissingImport(`import cycle at ${file}`);
    loading.add(file);
    const imp = (spec: string, names: string[] | null): Mod => {
      const ns = spec.startsWith("./") ? load(`${spec.slice(2)}.js`) : namespaceFor(spec);
      for (const n of names ?? []) if (!(n in ns)) throw new MissingImport(`${n} from ${spec}`);
      return ns;
    };
    const mod = compile(readFileSync(join(dir, file), "utf8"))(imp);
    loading.delete(file);
    modules.set(file, mod);
    return mod;
  };
  const reg: GradientRegistration = { registered: [], existing: [], skipped: [] };
  for (const cfg of overrides) {
    if (tf.getGradient(cfg.kernelName)) tf.unregisterGradient(cfg.kernelName);
    tf.registerGradient(cfg);
    reg.registered.push(cfg.kernelName);
  }
  for (const file of files.sort()) {
    let mod: Mod;
    try {
      mod = load(file);
    } catch (e) {
      reg.skipped.push({ file, reason: e instanceof Error ? e.message : String(e) });
      continue;
    }
    for (const v of Object.values(mod)) {
      const cfg = v as Partial<tf.GradConfig> | null;
      if (!cfg || typeof cfg !== "object" || typeof cfg.kernelName !== "string" || typeof cfg.gradFunc !== "function") {
        continue;
      }
      if (tf.getGradient(cfg.kernelName)) {
        reg.existing.push(cfg.kernelName);
        continue;
      }
      tf.registerGradient(cfg as tf.GradConfig);
      reg.registered.push(cfg.kernelName);
    }
  }
  result = reg;
  return reg;
}
