import type * as tf from "@tensorflow/tfjs-core";
import { Codes, defineLoss, type Loss, VoxelpipeError, z } from "@voxelpipe/core";
import { contrastiveLoss } from "./contrastive.js";
import { diceLoss } from "./dice.js";
import { diceCELoss } from "./dice-ce.js";
import { l1Loss, mseLoss } from "./regression.js";
import type { WarnFn } from "./shapes.js";

/** A loss step lists its inputs in order; every built-in loss takes exactly two (prediction, target). */
function twoInputs(loss: string, inputs: tf.Tensor[]): [tf.Tensor, tf.Tensor] {
  if (inputs.length !== 2) {
    throw new VoxelpipeError({
      code: Codes.stepGraph,
      message: `${loss} takes two inputs (prediction, target) in that order`,
      expected: "2 inputs",
      got: `${inputs.length} input(s)`,
      hint: "list them in the loss step, e.g. in: [logits, label]",
    });
  }
  return [inputs[0], inputs[1]];
}

/** Forwards each distinct MONAI warning once per component, not once per training step. */
function warnOnce(warn: (m: string) => void): WarnFn {
  const seen = new Set<string>();
  return (m) => {
    if (!seen.has(m)) {
      seen.add(m);
      warn(m);
    }
  };
}

const regressionReduction = z
  .enum(["mean", "sum", "none"])
  .default("mean")
  .describe('"mean" or "sum" over all elements; "none" is accepted for MONAI configs and trains on the mean');

/** L1Loss and MSELoss: one definition shape, "sum" or (for "mean" and "none") the mean, per batch and per loss. */
function regressionLossDef(
  name: "L1Loss" | "MSELoss",
  description: string,
  loss: (a: tf.Tensor, b: tf.Tensor, reduction: "mean" | "sum") => tf.Tensor,
) {
  return defineLoss({
    name,
    description,
    args: z.object({ reduction: regressionReduction }),
    create: (args): Loss => ({
      batchReduction: args.reduction === "sum" ? "sum" : "mean",
      compute: (inputs) => {
        const [a, b] = twoInputs(name, inputs);
        return loss(a, b, args.reduction === "sum" ? "sum" : "mean") as tf.Scalar;
      },
    }),
  });
}

export const L1LossDef = regressionLossDef(
  "L1Loss",
  "Mean absolute error (torch L1Loss); inputs [prediction, target] of equal shape.",
  l1Loss,
);

export const MSELossDef = regressionLossDef(
  "MSELoss",
  "Mean squared error (torch MSELoss); inputs [prediction, target] of equal shape.",
  mseLoss,
);

export const ContrastiveLossDef = defineLoss({
  name: "ContrastiveLoss",
  description:
    "NT-Xent (SimCLR) between two views, MONAI ContrastiveLoss; inputs [view1, view2] of shape [B, ...], flattened per item; computed with logsumexp (safe for small temperatures).",
  args: z.object({
    temperature: z
      .number()
      .positive()
      .default(0.5)
      .describe("softmax temperature (MONAI default 0.5; the ViT SSL tutorial uses 0.05)"),
  }),
  create: (args): Loss => ({
    compute: (inputs) => {
      const [a, b] = twoInputs("ContrastiveLoss", inputs);
      return contrastiveLoss(a, b, { temperature: args.temperature });
    },
  }),
});

/** Arguments shared by DiceLoss and DiceCELoss, with MONAI's names and defaults. */
const diceArgs = {
  include_background: z.boolean().default(true).describe("if false, channel 0 (background) is left out of Dice"),
  to_onehot_y: z
    .boolean()
    .default(false)
    .describe("one-hot encode an integer label target [B, S0, S1, S2, 1] to the input's channel count"),
  sigmoid: z.boolean().default(false).describe("apply a sigmoid to the prediction before Dice"),
  softmax: z.boolean().default(false).describe("apply a softmax over channels to the prediction before Dice"),
  squared_pred: z.boolean().default(false).describe("use squared prediction and target in the denominator"),
  jaccard: z.boolean().default(false).describe("compute the soft Jaccard (IoU) loss instead of Dice"),
  smooth_nr: z.number().nonnegative().default(1e-5).describe("constant added to the numerator"),
  smooth_dr: z.number().nonnegative().default(1e-5).describe("constant added to the denominator"),
  batch: z.boolean().default(false).describe("sum intersection and union over the batch before dividing"),
};

export const DiceLossDef = defineLoss({
  name: "DiceLoss",
  description: "MONAI DiceLoss; inputs [logits or probabilities [B, S0, S1, S2, C], target labels or one-hot].",
  args: z.object({
    ...diceArgs,
    reduction: z
      .enum(["mean", "sum", "none"])
      .default("mean")
      .describe('reduction over [B, C] values; "none" is accepted and trains on the mean'),
    weight: z
      .union([z.number().nonnegative(), z.array(z.number().nonnegative())])
      .optional()
      .describe("class weights (one per class left after include_background), or a single weight for all"),
  }),
  create: (args, ctx): Loss => {
    const warn = warnOnce((m) => ctx.logger.warn(`${ctx.path}: ${m}`));
    const { reduction, ...rest } = args;
    return {
      // per-sample Dice terms (batch=false) are the mean/sum over [B, C]
      batchReduction: args.batch ? undefined : reduction === "sum" ? "sum" : "mean",
      compute: (inputs) => {
        const [a, b] = twoInputs("DiceLoss", inputs);
        return diceLoss(a, b, { ...rest, reduction: reduction === "sum" ? "sum" : "mean", warn }) as tf.Scalar;
      },
    };
  },
});

export const DiceCELossDef = defineLoss({
  name: "DiceCELoss",
  description:
    "MONAI DiceCELoss: lambda_dice·Dice + lambda_ce·CrossEntropy (CE on raw logits, all classes); inputs [logits [B, S0, S1, S2, C], labels [B, S0, S1, S2, 1] or one-hot].",
  args: z.object({
    ...diceArgs,
    reduction: z.enum(["mean", "sum"]).default("mean").describe("reduction of both terms"),
    weight: z
      .array(z.number().nonnegative())
      .optional()
      .describe(
        "class weights for all C classes: CE uses all of them, Dice drops weight[0] if include_background is false",
      ),
    lambda_dice: z.number().nonnegative().default(1).describe("weight of the Dice term"),
    lambda_ce: z.number().nonnegative().default(1).describe("weight of the cross-entropy term"),
    label_smoothing: z.number().min(0).max(1).default(0).describe("torch CrossEntropyLoss label smoothing"),
  }),
  create: (args, ctx): Loss => {
    const warn = warnOnce((m) => ctx.logger.warn(`${ctx.path}: ${m}`));
    // a class-weighted mean CE divides by Σ w over the whole batch: that couples the samples
    const coupled = args.batch || (args.weight !== undefined && args.reduction === "mean");
    return {
      batchReduction: coupled ? undefined : args.reduction,
      compute: (inputs) => {
        const [a, b] = twoInputs("DiceCELoss", inputs);
        return diceCELoss(a, b, { ...args, warn });
      },
    };
  },
});

export const lossComponents = [L1LossDef, MSELossDef, ContrastiveLossDef, DiceLossDef, DiceCELossDef] as const;
