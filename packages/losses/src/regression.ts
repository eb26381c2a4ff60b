import * as tf from "@tensorflow/tfjs-core";
import { fmtShape, type LossReduction, reduce, shapeError } from "./shapes.js";

function requireSameShape(loss: string, a: tf.Tensor, b: tf.Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    shapeError(
      loss,
      "input and target must have the same shape",
      `target shape ${fmtShape(a)}`,
      `${fmtShape(b)}`,
      "broadcasting is not allowed here (torch only warns and usually computes something unintended)",
    );
  }
}

/** torch `L1Loss`: mean (or sum) absolute error over all elements; "none" keeps the elementwise map. */
export function l1Loss(input: tf.Tensor, target: tf.Tensor, reduction: LossReduction = "mean"): tf.Tensor {
  requireSameShape("L1Loss", input, target);
  return tf.tidy(() => reduce(tf.abs(tf.sub(input, target)), reduction));
}

/** torch `MSELoss`: mean (or sum) squared error over all elements; "none" keeps the elementwise map. */
export function mseLoss(input: tf.Tensor, target: tf.Tensor, reduction: LossReduction = "mean"): tf.Tensor {
  requireSameShape("MSELoss", input, target);
  return tf.tidy(() => reduce(tf.squaredDifference(input, target), reduction));
}
