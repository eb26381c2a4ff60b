import { type Loss, tf } from "@voxelpipe/core";
import { expectThat, finite, noLeak, relDiff } from "./common.js";

/**
 * Losses return a differentiable scalar: `compute` gives a finite rank-0 float tensor, leaks
 * nothing, has a finite gradient with respect to its first input (the prediction) that is not
 * zero everywhere; a declared `batchReduction` holds (the batch loss is the mean / sum of the
 * per-sample losses), because micro-batched training relies on it.
 */
export async function checkLoss(loss: Loss, inputs: tf.Tensor[]): Promise<void> {
  expectThat(inputs.length > 0, () => "no inputs to compute the loss on");
  await noLeak(
    "compute()",
    () => {
      const out = loss.compute(inputs);
      expectThat(out instanceof tf.Tensor, () => `compute() returned ${typeof out}, not a tensor`);
      expectThat(
        out.rank === 0,
        () => `compute() returned a tensor of shape [${out.shape.join(", ")}], not a scalar (reduce over the batch)`,
      );
      expectThat(out.dtype === "float32", () => `compute() returned a ${out.dtype} scalar, not float32`);
      const v = out.dataSync()[0];
      expectThat(Number.isFinite(v), () => `compute() returned ${v}`);
      return out;
    },
    (t) => t.dispose(),
  );
  const [pred, ...rest] = inputs;
  await noLeak(
    "the gradient of compute()",
    () => tf.grad((p: tf.Tensor) => loss.compute([p, ...rest]))(pred),
    (g) => {
      expectThat(
        g.shape.join() === pred.shape.join(),
        () => `the gradient has shape [${g.shape}], the prediction [${pred.shape}]`,
      );
      const d = g.dataSync();
      expectThat(finite(d), () => "the gradient with respect to the prediction is not finite");
      expectThat(
        d.some((x) => x !== 0),
        () =>
          "the gradient with respect to the prediction is zero everywhere (is the loss differentiable? no argmax/round/cast on the prediction)",
      );
      g.dispose();
    },
  );
  const red = loss.batchReduction;
  expectThat(
    red === undefined || red === "mean" || red === "sum",
    () => `batchReduction is ${JSON.stringify(red)}, not "mean", "sum" or absent`,
  );
  const batch = pred.shape[0] ?? 0;
  if (red && batch > 1 && inputs.every((t) => t.rank > 0 && t.shape[0] === batch)) {
    const whole = tf.tidy(() => loss.compute(inputs).dataSync()[0]);
    const parts = tf.tidy(() => {
      const vs: number[] = [];
      for (let b = 0; b < batch; b++) {
        vs.push(loss.compute(inputs.map((t) => tf.slice(t, b, 1))).dataSync()[0]);
      }
      return vs;
    });
    const combined = red === "sum" ? parts.reduce((a, b) => a + b, 0) : parts.reduce((a, b) => a + b, 0) / batch;
    // float32 reductions in another order: agreement to ~1e-6 relative is typical; 1e-4 leaves margin
    expectThat(
      relDiff(whole, combined) < 1e-4,
      () =>
        `batchReduction "${red}": the loss of the batch is ${whole} but the ${red} of its ${batch} per-sample losses is ${combined}; declare no batchReduction if samples are coupled`,
    );
  }
}
