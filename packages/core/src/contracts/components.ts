import type * as tf from "@tensorflow/tfjs-core";
import type { RandomState } from "../rng/mt19937.js";
import type { AppliedOp, Volume } from "./volume.js";

/** One record flowing through transforms: keys such as image, label, plus metadata. */
export type Sample = Record<string, unknown>;

/**
 * A transform. One that changes a volume's grid (shape or affine) records what it did, as MONAI's
 * `push_transform` with `extra_info`: an AppliedOp appended to that volume's `meta.applied`, `op`
 * = the transform's name, `params` = everything its inverse needs. Its definition declares that
 * (`spatial`, see TransformSpatial), so validation knows before anything is built.
 */
export interface Transform {
  /** true when the output depends on random draws: CacheDataset caches only the deterministic prefix */
  readonly random: boolean;
  /** returns the transformed sample, or several (multi-sample crops) */
  apply(sample: Sample, rng: RandomState): Sample | Sample[];
  /**
   * MONAI InvertibleTransform.inverse for one record: when this transform recorded `op` (`op.op` is
   * its name), `vol` — on the grid the op produced — brought back onto the grid before it
   * (`op.before`, `op.affineBefore`); undefined for an op that is not its own. defineTransform sets it
   * from the definition's `spatial.inverse`; a Compose answers for its children.
   */
  invert?(vol: Volume, op: AppliedOp, opts: InverseOptions): Volume | undefined;
}

/** How an inverse resamples (only inverses that interpolate look at it). */
export interface InverseOptions {
  /** default: nearest for integer data (label maps), bilinear otherwise */
  mode?: "nearest" | "bilinear";
}

/**
 * Undo one op the transform recorded: `vol` lies on the grid the op produced; return its data on the
 * grid before (shape `op.before`; the caller sets the affine to `op.affineBefore` and drops the record).
 */
export type UndoOp = (vol: Volume, op: AppliedOp, opts: InverseOptions) => Volume;

/**
 * Declared by a transform definition that changes voxel grids (`defineTransform({ spatial })`);
 * transforms without it leave every grid and affine as they are (intensity, labels, copies).
 * `inverse: null` says it cannot be undone: a chain that is inverted (the infer stage's) refuses it
 * at validation (VP105), before any data are read.
 */
export interface TransformSpatial {
  inverse: UndoOp | null;
}

/** Named trainable variables of a model, with stable MONAI-like dotted names. */
export type NamedVariables = Map<string, tf.Variable>;

export interface Model {
  readonly params: NamedVariables;
  /**
   * forward pass on a channel-last batch [B, S0, S1, S2, C]; `seed`, when given, seeds this call's
   * randomness (dropout), so a pass draws the same masks wherever it runs
   */
  apply(x: tf.Tensor, opts?: { training?: boolean; seed?: number }): tf.Tensor;
  dispose(): void;
  /** recompute activations in the backward pass instead of keeping them (optional capability) */
  setGradientCheckpointing?(on: boolean): void;
  /** what one sample costs in memory during training (optional; the trainer plans micro-batches with it) */
  memoryEstimate?(opts: { checkpointing: boolean }): ModelMemory;
}

/** Bytes one training sample needs beyond the parameters, as estimated by the model. */
export interface ModelMemory {
  /** kept for the backward pass (activations on the gradient tape) */
  saved: number;
  /** the largest transient working set on top of that (a block's recomputation, a conv's buffers) */
  workspace: number;
  /** bytes a forward/backward pass keeps whatever its number of samples (e.g. weight copies a layer saves) */
  fixed?: number;
}

/** A loss maps its inputs (in the order the step graph lists them) to a scalar. */
export interface Loss {
  compute(inputs: tf.Tensor[]): tf.Scalar;
  /**
   * How the loss of a batch follows from its samples' losses: "mean" (the mean of per-sample
   * losses, e.g. MONAI's DiceLoss with batch=false) or "sum". Absent when samples are coupled
   * (ContrastiveLoss, batch Dice, a class-weighted mean cross-entropy): such a loss is computed on
   * the whole batch at once, never split into micro-batches.
   */
  readonly batchReduction?: "mean" | "sum";
}

/** A streaming metric: update per batch, aggregate, reset. */
export interface Metric {
  readonly name: string;
  /** prediction and ground truth for a batch (layouts documented by each metric) */
  update(pred: tf.Tensor, target: tf.Tensor, info?: { spacing?: number[] }): void;
  /** the reduced value(s): a number, or per-class values keyed by class */
  aggregate(): MetricValue;
  reset(): void;
}

export interface MetricValue {
  /** the headline scalar used for best-model selection */
  value: number;
  /** optional breakdown, e.g. per class; null where undefined (class absent) */
  detail?: Record<string, number | null>;
}

export interface OptimizerState {
  step: number;
  /** named state tensors as flat float32 arrays, e.g. "m/<param>" */
  slots: Record<string, { shape: number[]; data: Float32Array }>;
}

export interface Optimizer {
  /** learning rate used by the next step (schedulers set it) */
  lr: number;
  /** apply one update to params given their gradients (same keys) */
  apply(params: NamedVariables, grads: Record<string, tf.Tensor>): void;
  getState(): OptimizerState;
  setState(s: OptimizerState, params: NamedVariables): void;
}

export type OptimizerFactory = (params: NamedVariables) => Optimizer;

/** Learning-rate schedule: lr at a given iteration. */
export interface Scheduler {
  lrAt(iteration: number, totalIterations: number, baseLr: number): number;
}

/** Whole-volume prediction, e.g. sliding window. */
export interface Inferer {
  /**
   * `concurrency`: how many predictor calls may be in flight at once (an asynchronous predictor,
   * e.g. model replicas on worker threads); the result must not depend on it
   */
  infer(
    x: tf.Tensor,
    predictor: (batch: tf.Tensor) => tf.Tensor | Promise<tf.Tensor>,
    opts?: { concurrency?: number },
  ): Promise<tf.Tensor> | tf.Tensor;
}

/** A source of samples for a named split (training, validation, ...). */
export interface Dataset {
  splits(): string[];
  size(split: string): number;
  /** the raw record (before transforms) of item i */
  get(split: string, index: number): Promise<Sample> | Sample;
  /** class value → name, when the data says (a Decathlon datalist's `labels`) */
  readonly labels?: Record<string, string>;
}
