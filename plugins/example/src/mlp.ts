import { defineModel, type Model, type NamedVariables, tf, z } from "@voxelpipe/core";

/**
 * A small multilayer perceptron on feature vectors [B, in] → [B, out]. Weights are drawn from
 * the component's own seeded RNG stream (He-uniform), so runs are reproducible.
 */
export const MLPDef = defineModel({
  name: "MLP",
  description: "multilayer perceptron on feature vectors (example plugin)",
  args: z.object({
    in_features: z.number().int().positive().describe("input width"),
    hidden: z.array(z.number().int().positive()).default([32, 32]).describe("hidden layer widths"),
    out_features: z.number().int().positive().default(1).describe("output width"),
    activation: z.enum(["relu", "tanh", "gelu"]).default("tanh").describe("hidden activation"),
  }),
  create(a, ctx): Model {
    const rng = ctx.rng("init");
    const params: NamedVariables = new Map();
    const widths = [a.in_features, ...a.hidden, a.out_features];
    for (let l = 0; l < widths.length - 1; l++) {
      const [fanIn, fanOut] = [widths[l], widths[l + 1]];
      const bound = Math.sqrt(6 / fanIn);
      const w = Float32Array.from({ length: fanIn * fanOut }, () => rng.uniform(-bound, bound));
      // tidy: the initial values are copied into the variables, so nothing else stays allocated
      params.set(
        `layers.${l}.weight`,
        tf.tidy(() => tf.variable(tf.tensor2d(w, [fanIn, fanOut]), true)),
      );
      params.set(
        `layers.${l}.bias`,
        tf.tidy(() => tf.variable(tf.zeros([fanOut]), true)),
      );
    }
    const act = (x: tf.Tensor) =>
      a.activation === "relu"
        ? tf.relu(x)
        : a.activation === "tanh"
          ? tf.tanh(x)
          : tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
    const layers = widths.length - 1;
    return {
      params,
      apply(x) {
        let h = x;
        for (let l = 0; l < layers; l++) {
          h = tf.add(
            tf.matMul(h as tf.Tensor2D, params.get(`layers.${l}.weight`) as tf.Tensor2D),
            params.get(`layers.${l}.bias`)!,
          );
          if (l < layers - 1) h = act(h);
        }
        return h;
      },
      dispose() {
        for (const v of params.values()) v.dispose();
      },
    };
  },
});
