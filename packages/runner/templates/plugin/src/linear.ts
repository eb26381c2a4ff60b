import { defineModel, type NamedVariables, tf, z } from "@voxelpipe/core";

/** A linear layer on feature vectors [B, in] → [B, out], initialised from the component's seeded stream. */
export const LinearDef = defineModel({
  name: "Linear",
  description: "a linear layer y = x·W + b on feature vectors",
  args: z.object({
    in_features: z.number().int().positive().describe("input width"),
    out_features: z.number().int().positive().default(1).describe("output width"),
  }),
  create(a, ctx) {
    const rng = ctx.rng("init");
    const bound = 1 / Math.sqrt(a.in_features);
    const w = Float32Array.from({ length: a.in_features * a.out_features }, () => rng.uniform(-bound, bound));
    // tidy: the initial values are copied into the variables, so nothing else stays allocated
    const params: NamedVariables = new Map([
      ["weight", tf.tidy(() => tf.variable(tf.tensor2d(w, [a.in_features, a.out_features]), true))],
      ["bias", tf.tidy(() => tf.variable(tf.zeros([a.out_features]), true))],
    ]);
    return {
      params,
      apply: (x) => tf.add(tf.matMul(x as tf.Tensor2D, params.get("weight")! as tf.Tensor2D), params.get("bias")!),
      dispose: () => {
        for (const v of params.values()) v.dispose();
      },
    };
  },
});
