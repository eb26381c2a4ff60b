import * as tf from "@tensorflow/tfjs-core";
import {
  Codes,
  encodeSafetensors,
  type NamedVariables,
  packageVersion,
  readSafetensors,
  type SafeTensor,
  VoxelpipeError,
  writeFileAtomic,
} from "@voxelpipe/core";
import { modelTensors } from "./tensors.js";

/**
 * Value of `__metadata__.format` in checkpoints written by voxelpipe (tensors in our channel-last
 * layouts); the same string the runner's Checkpointer writes, so `init.from` accepts both.
 */
export const CHECKPOINT_FORMAT = "voxelpipe-checkpoint/1";

/** true for any voxelpipe checkpoint format version ("voxelpipe-checkpoint/<n>") */
export function isVoxelpipeCheckpoint(metadata: Record<string, string>): boolean {
  return typeof metadata.format === "string" && metadata.format.startsWith("voxelpipe");
}
export const MODELS_VERSION: string = packageVersion(import.meta.url);

/** What a checkpoint says about itself; stored as JSON in `__metadata__.voxelpipe`. */
export interface CheckpointMeta {
  /** registered component name, e.g. "UNETR" */
  component: string;
  /** the component's validated args */
  args: unknown;
  /** package versions that wrote it */
  versions: Record<string, string>;
  /** anything else the writer wants to keep (epoch, metric, ...) */
  [extra: string]: unknown;
}

export interface LoadedCheckpoint {
  tensors: Map<string, SafeTensor>;
  /** parsed voxelpipe metadata, undefined for foreign files (e.g. a converted MONAI state dict) */
  meta: CheckpointMeta | undefined;
  /** the raw `__metadata__` map */
  metadata: Record<string, string>;
}

export function defaultVersions(): Record<string, string> {
  return { "@voxelpipe/models": MODELS_VERSION, "@tensorflow/tfjs-core": tf.version_core };
}

/**
 * Save a model's parameters (MONAI key names, our layouts) plus metadata, atomically
 * (temp file + rename). `extra` tensors (e.g. optimizer slots) are stored alongside under their own
 * names, which must not collide with parameter names.
 */
export async function saveCheckpoint(
  path: string,
  model: { params: NamedVariables },
  meta: { component: string; args: unknown; versions?: Record<string, string>; [extra: string]: unknown },
  extra?: Map<string, SafeTensor>,
): Promise<void> {
  const tensors = await modelTensors(model.params);
  for (const [k, t] of extra ?? []) {
    if (tensors.has(k)) throw new Error(`saveCheckpoint: extra tensor "${k}" collides with a parameter name`);
    tensors.set(k, t);
  }
  const full: CheckpointMeta = { ...meta, versions: { ...defaultVersions(), ...(meta.versions ?? {}) } };
  await writeFileAtomic(
    path,
    encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT, voxelpipe: JSON.stringify(full) }),
  );
}

export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const { tensors, metadata } = await readSafetensors(path);
  let meta: CheckpointMeta | undefined;
  if (metadata.voxelpipe !== undefined) {
    try {
      meta = JSON.parse(metadata.voxelpipe) as CheckpointMeta;
    } catch (e) {
      throw new VoxelpipeError({
        code: Codes.fileInvalid,
        message: `${path}: __metadata__.voxelpipe is not valid JSON (${(e as Error).message})`,
      });
    }
  }
  return { tensors, meta, metadata };
}
