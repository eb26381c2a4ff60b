import { isDeepStrictEqual } from "node:util";
import { tf } from "@voxelpipe/core";

/** A conformance check failed: the message says what the contract expects and what the component did. */
export class ConformanceError extends Error {
  override name = "ConformanceError";
}

export function fail(message: string): never {
  throw new ConformanceError(message);
}

export function expectThat(ok: boolean, message: () => string): void {
  if (!ok) fail(message());
}

export const deepEqual = isDeepStrictEqual;

/**
 * Run `f` and check it leaves no tensors behind beyond the ones it returns for disposal by `done`:
 * `f` returns what must be disposed, `leak` names the step in the message.
 */
export async function noLeak<T>(what: string, f: () => Promise<T> | T, dispose?: (v: T) => void): Promise<T> {
  const before = tf.memory().numTensors;
  const v = await f();
  dispose?.(v);
  const after = tf.memory().numTensors;
  expectThat(
    after === before,
    () =>
      `${what} leaks ${after - before} tensor(s) (tf.memory().numTensors ${before} → ${after}); wrap tensor math in tf.tidy or dispose intermediates`,
  );
  return v;
}

/** all values finite */
export function finite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** max |a - b| relative to max(1, |b|) */
export function relDiff(a: number, b: number): number {
  if (Number.isNaN(a) && Number.isNaN(b)) return 0;
  return Math.abs(a - b) / Math.max(1, Math.abs(b));
}
