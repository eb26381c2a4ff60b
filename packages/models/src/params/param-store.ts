import * as tf from "@tensorflow/tfjs-core";
import type { NamedVariables, RandomState } from "@voxelpipe/core";
import { fillInit, type Initializer } from "./init.js";

/**
 * How a parameter is laid out relative to PyTorch (monai-semantics §3.6); drives MONAI import/export.
 * - conv: ours [k0,k1,k2,I,O]  ↔ PyTorch Conv3d [O,I,k0,k1,k2]
 * - convTranspose: ours [k0,k1,k2,O,I] ↔ PyTorch ConvTranspose3d [I,O,k0,k1,k2]
 * - linear: ours [in,out] ↔ PyTorch Linear [out,in]
 * - plain: identical (biases, norms, position embeddings, cls token)
 */
export type ParamLayout = "conv" | "convTranspose" | "linear" | "plain";

/** Everything a network needs to describe its parameters besides the variables themselves. */
export interface ParamInfo {
  layout: ParamLayout;
  trainable: boolean;
}

/**
 * Creates the variables of a network under MONAI's dotted state-dict names. `child("blocks.0")`
 * scopes names, so layer code only knows its local names ("qkv.weight"); all children share one
 * variable map, one layout map and one RandomState (draw order = construction order ⇒ determinism).
 */
export class ParamStore {
  constructor(
    readonly vars: NamedVariables,
    readonly info: Map<string, ParamInfo>,
    readonly rng: RandomState,
    readonly prefix = "",
  ) {}

  static create(rng: RandomState): ParamStore {
    return new ParamStore(new Map(), new Map(), rng);
  }

  child(name: string): ParamStore {
    return new ParamStore(this.vars, this.info, this.rng, `${this.prefix}${name}.`);
  }

  add(name: string, shape: number[], init: Initializer, layout: ParamLayout = "plain", trainable = true): tf.Variable {
    const key = `${this.prefix}${name}`;
    if (this.vars.has(key)) throw new Error(`parameter "${key}" is defined twice`);
    const n = shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(fillInit(init, n, this.rng), shape, "float32");
    // no explicit name: tfjs variable names are global, two models with the same keys must coexist
    const v = tf.variable(t, trainable);
    t.dispose();
    this.vars.set(key, v);
    this.info.set(key, { layout, trainable });
    return v;
  }
}

/** U(±1/√fan_in): PyTorch's default for Linear and Conv weights and biases. */
export function torchDefault(fanIn: number): Initializer {
  return { kind: "uniform", bound: 1 / Math.sqrt(fanIn) };
}

/** Total number of scalars; `trainableOnly` skips frozen ones (e.g. sin-cos position embeddings). */
export function countParams(vars: NamedVariables, trainableOnly = false): number {
  let n = 0;
  for (const v of vars.values()) if (!trainableOnly || v.trainable) n += v.size;
  return n;
}
