import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { decodeSafetensors, engine, type SafeTensor } from "@voxelpipe/core";
import { permuteArray } from "../src/index.js";

export const SHARED = process.env.VOXELPIPE_SHARED ?? fileURLToPath(new URL("../../../../shared", import.meta.url));
export const FIXTURES = `${SHARED}/reference/fixtures`;
export const hasShared = existsSync(`${FIXTURES}/unetr.safetensors`);
export const SKIP_NOTE = hasShared ? "" : "(needs ../shared; skipped: ../shared not found)";

export const BACKENDS = ["cpu", "wasm"] as const;

export async function useBackend(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
  // what the runner does after selecting a backend: gradients + wasm kernel fixes
  engine.prepareBackend(name);
}

export function loadFixture(name: string): { tensors: Map<string, SafeTensor>; meta: Record<string, unknown> } {
  const file = `${FIXTURES}/${name}.safetensors`;
  const { tensors, metadata } = decodeSafetensors(readFileSync(file), file);
  return { tensors, meta: metadata.case ? JSON.parse(metadata.case) : {} };
}

/** PyTorch channel-first [B, C, S0, S1, S2] → channel-last [B, S0, S1, S2, C] */
export function channelLast(t: SafeTensor): tf.Tensor5D {
  const [b, c, s0, s1, s2] = t.shape;
  const data = permuteArray(t.data as Float32Array, t.shape, [0, 2, 3, 4, 1]);
  return tf.tensor5d(data, [b, s0, s1, s2, c]);
}

export function asTensor(t: SafeTensor): tf.Tensor {
  return tf.tensor(t.data as Float32Array, t.shape, "float32");
}

/** ‖a − b‖ / ‖b‖ over all elements (the fixtures README's network tolerance measure) */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  return Math.sqrt(num / den);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
