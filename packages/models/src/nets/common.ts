import type * as tf from "@tensorflow/tfjs-core";
import { Codes, type Model, type NamedVariables, RandomState, VoxelpipeError, z } from "@voxelpipe/core";
import type { Runtime } from "../layers/runtime.js";
import type { Triple } from "../ops/patch-ops.js";
import { type ParamInfo, ParamStore } from "../params/param-store.js";

/** An int or a per-dim triple, as MONAI's ensure_tuple_rep accepts. */
export const sizeArg = z.union([
  z.number().int().positive(),
  z.tuple([z.number().int(), z.number().int(), z.number().int()]),
]);

export function triple(v: number | readonly number[]): Triple {
  if (typeof v === "number") return [v, v, v];
  if (v.length !== 3) throw new Error(`expected 3 values, got [${v}]`);
  return [v[0], v[1], v[2]];
}

/** Options of a forward pass (the core Model contract's). */
export type ApplyOptions = { training?: boolean; seed?: number };

/** What every voxelpipe network offers beyond the core Model contract. */
export interface Network extends Model {
  /** registered component name, e.g. "UNETR" */
  readonly component: string;
  /** validated MONAI-style constructor args (snake_case), stored in checkpoints */
  readonly config: Record<string, unknown>;
  /** per-parameter layout (for MONAI import/export) and trainability */
  readonly paramInfo: ReadonlyMap<string, ParamInfo>;
  /** recompute block activations in the backward instead of keeping them (see layers/checkpoint.ts) */
  setGradientCheckpointing(on: boolean): void;
}

/**
 * Shared plumbing: the parameter store, a dropout seed stream, input checks, dispose.
 * Parameters are created in the subclass constructor through `this.store`.
 */
export abstract class NetworkBase implements Network {
  abstract readonly component: string;
  abstract readonly config: Record<string, unknown>;
  readonly params: NamedVariables;
  readonly paramInfo: Map<string, ParamInfo>;
  protected readonly store: ParamStore;
  private readonly dropoutRng: RandomState;
  /** recompute each block's activations in the backward pass (layers/checkpoint.ts) */
  protected gradientCheckpointing = false;

  constructor(rng: RandomState) {
    this.store = ParamStore.create(rng);
    this.params = this.store.vars;
    this.paramInfo = this.store.info;
    // a separate stream so dropout draws never shift the init draws
    this.dropoutRng = new RandomState(rng.nextUint32());
  }

  abstract apply(x: tf.Tensor, opts?: { training?: boolean }): tf.Tensor;

  setGradientCheckpointing(on: boolean): void {
    this.gradientCheckpointing = on;
  }

  /**
   * `seed`: dropout masks of this call derive from it (the trainer gives each pass its own, so masks
   * do not depend on which thread or replica runs the pass); without it, the network's own stream
   */
  protected runtime(training = false, seed?: number): Runtime {
    const rng = seed === undefined ? this.dropoutRng : new RandomState(seed);
    return { training, dropoutSeed: () => rng.nextUint32(), checkpoint: this.gradientCheckpointing };
  }

  /** bytes of the trainable parameters under `prefix` */
  protected paramBytes(prefix: string): number {
    return this.paramsUnder(prefix)
      .filter((v) => v.trainable)
      .reduce((a, v) => a + 4 * v.size, 0);
  }

  /** the variables whose names start with `prefix` (one block's parameters, for checkpointing) */
  protected paramsUnder(prefix: string): tf.Variable[] {
    return [...this.params].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
  }

  /** x must be channel-last [B, ...spatial, C] with the configured spatial size and channels. */
  protected checkInput(x: tf.Tensor, spatial: Triple, channels: number): tf.Tensor5D {
    const s = x.shape;
    const ok = s.length === 5 && s[1] === spatial[0] && s[2] === spatial[1] && s[3] === spatial[2] && s[4] === channels;
    if (!ok) {
      const channelFirst = s.length === 5 && s[1] === channels && s[2] === spatial[0];
      throw new VoxelpipeError({
        code: Codes.runtime,
        message: `${this.component}: input has shape [${s.join(", ")}]`,
        expected: `[B, ${spatial.join(", ")}, ${channels}] (channel-last)`,
        got: `[${s.join(", ")}]`,
        hint: channelFirst
          ? "this looks channel-first (PyTorch layout): voxelpipe tensors are [B, S0, S1, S2, C]"
          : "the network's img_size is fixed at construction (position embeddings); crop/pad or use a SlidingWindow inferer",
      });
    }
    return x as tf.Tensor5D;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}
