/**
 * Switch the tfjs backend for a test and fail if it did not switch: `tf.setBackend` returns false and keeps the old
 * backend when the new one cannot start, which would turn a "webgpu = wasm" comparison into webgpu against itself.
 * Prepares it as the runner does (kernel fixes, gradients; idempotent).
 */
import { engine, tf } from "@voxelpipe/core";

export async function switchBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name)) || tf.getBackend() !== name) throw new Error(`backend ${name} did not start`);
  await tf.ready();
  engine.prepareBackend(name);
}
