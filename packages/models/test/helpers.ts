/** Model-test helpers that need tfjs: backend selection as the runner does it, fixture tensors as tf tensors. */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { engine, type SafeTensor, type z } from "@voxelpipe/core";
import type { Fixture } from "../../../test-utils/fixtures.js";
import { permuteArray } from "../src/index.js";

export const BACKENDS = ["cpu", "wasm"] as const;

export async function useBackend(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
  // what the runner does after selecting a backend: gradients + wasm kernel fixes
  engine.prepareBackend(name);
}

/** PyTorch channel-first [B, C, S0, S1, S2] → channel-last [B, S0, S1, S2, C] */
export function channelLast(t: SafeTensor): tf.Tensor5D {
  const [b, c, s0, s1, s2] = t.shape;
  const data = permuteArray(t.data as Float32Array, t.shape, [0, 2, 3, 4, 1]);
  return tf.tensor5d(data, [b, s0, s1, s2, c]);
}

/** a fixture's MONAI constructor config (`meta.config`), read through the network's own args schema rather than cast */
export function fixtureConfig<S extends z.ZodType>(fx: Fixture, schema: S): z.output<S> {
  return schema.parse(fx.meta.config);
}
