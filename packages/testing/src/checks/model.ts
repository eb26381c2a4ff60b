import { decodeSafetensors, encodeSafetensors, type Model, tf } from "@voxelpipe/core";
import { deepEqual, expectThat, finite } from "./common.js";

const NAME = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

/**
 * Models' parameter names are stable (two instances built alike have the same dotted names in the
 * same order, and the same initial values from the seeded stream), the forward pass gives finite
 * output, and a checkpoint round-trips: the parameters written as safetensors and read into a
 * model built with another seed reproduce the forward pass exactly. Disposing frees every tensor.
 */
export async function checkModel(
  make: (seed: number) => Promise<Model>,
  inputs: (() => tf.Tensor) | undefined,
): Promise<void> {
  const before = tf.memory().numTensors;
  const a = await make(0);
  const b = await make(0);
  const names = [...a.params.keys()];
  expectThat(names.length > 0, () => "the model has no parameters (params is empty)");
  const bad = names.filter((n) => !NAME.test(n));
  expectThat(
    bad.length === 0,
    () => `parameter names must be dotted identifiers (MONAI/PyTorch state-dict style): ${bad.join(", ")}`,
  );
  expectThat(
    deepEqual(names, [...b.params.keys()]),
    () => "two models built with the same arguments have different parameter names or order",
  );
  for (const [n, v] of a.params) {
    expectThat(v instanceof tf.Variable, () => `parameter ${n} is not a tf.Variable`);
    const w = b.params.get(n)!;
    expectThat(
      deepEqual(v.shape, w.shape) && deepEqual(v.dataSync(), w.dataSync()),
      () => `parameter ${n} differs between two models built with the same seed: initialise from ctx.rng(...)`,
    );
    expectThat(finite(v.dataSync() as Float32Array), () => `parameter ${n} has non-finite initial values`);
  }
  b.dispose();
  const c = await make(1);
  let failed = true;
  try {
    const file = decodeSafetensors(
      encodeSafetensors(
        names.map((n) => {
          const v = a.params.get(n)!;
          return [n, { shape: v.shape, data: v.dataSync() as Float32Array }];
        }),
      ),
    );
    expectThat(
      deepEqual([...c.params.keys()], names),
      () => "a model built with another seed has other parameter names",
    );
    for (const [n, t] of file.tensors) {
      const value = tf.tensor(t.data as Float32Array, t.shape);
      c.params.get(n)!.assign(value);
      value.dispose();
    }
    const x = inputs?.();
    if (x) {
      // the runner calls models inside tf.tidy (or variableGrads), so intermediates are the caller's to free
      const [da, dc] = tf.tidy(() => [
        a.apply(x, { training: false }).dataSync(),
        c.apply(x, { training: false }).dataSync(),
      ]);
      expectThat(finite(da as Float32Array), () => "the forward pass gives non-finite values");
      expectThat(
        deepEqual(da, dc),
        () =>
          "a model loaded from the first one's checkpoint gives another forward pass: every weight must be in params",
      );
      x.dispose();
    }
    failed = false;
  } finally {
    a.dispose();
    c.dispose();
  }
  if (!failed) {
    const after = tf.memory().numTensors;
    expectThat(after <= before, () => `dispose() left ${after - before} tensor(s) allocated`);
  }
}
