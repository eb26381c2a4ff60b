/** Messages between the trainer and its model replicas (structured-cloned; big buffers transferred). */
import type { Diagnostic, PipelineData } from "@voxelpipe/core";

/** What a replica rebuilds its model and step graph from: config as data, never code. */
export interface ReplicaSource {
  pipeline: PipelineData;
  stage: string;
  backend: string;
  /** XNNPACK threads of the replica's own wasm backend */
  backendThreads: number;
  checkpointing: boolean;
  /** the train stage's step (absent for prediction-only replicas, e.g. the infer stage) */
  step?: { objective: string; microBatch: number; reduction: "mean" | "sum" };
  /** every parameter's name and size in the shared weight buffer's order */
  layout: { name: string; size: number; trainable: boolean }[];
  /** the trainer's copy of the weights (float32, layout order) */
  weights: SharedArrayBuffer;
}

/** a batch tensor as data */
export interface Packed {
  shape: number[];
  data: Float32Array;
}

export type ToReplica =
  /** one pass: gradient of weight × objective on `part`, weights of `version` */
  | { type: "pass"; id: number; version: number; part: Record<string, Packed>; weight: number; seed: number }
  /** inference on a batch of windows (validation / sliding window) */
  | { type: "predict"; id: number; version: number; x: Packed };

export type FromReplica =
  | { type: "ready" }
  | { type: "init-error"; diagnostics: Diagnostic[] }
  /** gradients of the trainable parameters, concatenated in layout order */
  | { type: "pass-done"; id: number; scalars: Record<string, number>; grads: Float32Array }
  | { type: "predict-done"; id: number; y: Packed }
  | { type: "error"; id: number; diagnostics: Diagnostic[]; outOfMemory: boolean }
  | { type: "log"; level: "debug" | "info" | "warn" | "error"; line: string };
