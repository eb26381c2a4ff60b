import { type Dataset, defineDataset, RandomState, type Sample, z } from "@voxelpipe/core";

/**
 * Generated data for the proof pipeline and tests: y = sin(π·x·w₁) + 0.5·(x·w₂)² + noise, with
 * x ~ U(-1, 1)^features. Deterministic from the run seed.
 */
export const SyntheticRegressionDef = defineDataset({
  name: "SyntheticRegression",
  description: "deterministic generated regression data (x: features, y: 1 target)",
  args: z.object({
    features: z.number().int().positive().default(4).describe("input dimension"),
    train: z.number().int().positive().default(256).describe("training samples"),
    val: z.number().int().min(0).default(64).describe("validation samples"),
    noise: z.number().min(0).default(0.05).describe("std of additive noise"),
  }),
  create(a, ctx): Dataset {
    const w = new RandomState(ctx.seed);
    const w1 = Array.from({ length: a.features }, () => w.uniform(-1, 1));
    const w2 = Array.from({ length: a.features }, () => w.uniform(-1, 1));
    const make = (n: number, stream: string): Sample[] => {
      const r = ctx.rng(stream);
      return Array.from({ length: n }, () => {
        const x = new Float32Array(a.features);
        for (let i = 0; i < a.features; i++) x[i] = r.uniform(-1, 1);
        let d1 = 0;
        let d2 = 0;
        for (let i = 0; i < a.features; i++) {
          d1 += x[i] * w1[i];
          d2 += x[i] * w2[i];
        }
        return { x, y: Float32Array.of(Math.sin(Math.PI * d1) + 0.5 * d2 * d2 + a.noise * r.normal()) };
      });
    };
    const splits: Record<string, Sample[]> = {
      training: make(a.train, "training"),
      validation: make(a.val, "validation"),
    };
    return {
      splits: () => Object.keys(splits),
      size: (s) => splits[s]?.length ?? 0,
      get: (s, i) => splits[s][i],
    };
  },
});
