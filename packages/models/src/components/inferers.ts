import type * as tf from "@tensorflow/tfjs-core";
import { defineInferer, type Inferer, z } from "@voxelpipe/core";
import { type Predictor, type SlidingWindowOptions, slidingWindowInference } from "../inferers/sliding-window.js";

const perDim = z.union([z.number(), z.tuple([z.number(), z.number(), z.number()])]);

export const slidingWindowArgs = z.object({
  roi_size: z
    .union([z.number().int(), z.tuple([z.number().int(), z.number().int(), z.number().int()])])
    .describe("window size [S0, S1, S2] (an int = cubic); a non-positive entry means the whole dim"),
  sw_batch_size: z.number().int().positive().default(1).describe("windows per predictor call"),
  overlap: perDim.default(0.25).describe("fraction of overlap between neighbouring windows, in [0, 1)"),
  mode: z
    .enum(["constant", "gaussian"])
    .default("constant")
    .describe("blending: constant = plain average, gaussian = centre-weighted"),
  sigma_scale: perDim.default(0.125).describe("gaussian σ as a fraction of the window size"),
  padding_mode: z
    .enum(["constant", "reflect", "replicate"])
    .default("constant")
    .describe("how dims smaller than the window are padded (symmetrically)"),
  cval: z.number().default(0).describe("pad value for padding_mode constant"),
});

/** The SlidingWindow inferer: MONAI sliding_window_inference on channel-last [B, S0, S1, S2, C]. */
export class SlidingWindow implements Inferer {
  readonly options: SlidingWindowOptions;

  constructor(args: z.input<typeof slidingWindowArgs>) {
    const a = slidingWindowArgs.parse(args);
    this.options = {
      roiSize: a.roi_size,
      swBatchSize: a.sw_batch_size,
      overlap: a.overlap,
      mode: a.mode,
      sigmaScale: a.sigma_scale,
      paddingMode: a.padding_mode,
      cval: a.cval,
    };
  }

  infer(x: tf.Tensor, predictor: Predictor, opts: { concurrency?: number } = {}): Promise<tf.Tensor> {
    return slidingWindowInference(x, predictor, { ...this.options, ...opts });
  }
}

export const SlidingWindowDef = defineInferer({
  name: "SlidingWindow",
  description: "MONAI sliding-window inference: overlapping windows, constant or gaussian blending",
  args: slidingWindowArgs,
  create: (args) => new SlidingWindow(args),
});
