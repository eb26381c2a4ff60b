import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { join } from "node:path";

/** where a train stage keeps the checkpoint `--resume` restores (train/checkpoint.ts) */
export const LAST_CHECKPOINT = join("checkpoints", "last.safetensors");

export interface LoopState {
  epoch: number;
  iteration: number;
}

/**
 * The `__metadata__.voxelpipe` JSON of a checkpoint (train/checkpoint.ts: component, args, state,
 * geometry, ...), read from the safetensors header only (8-byte length + JSON), never the tensors.
 * Undefined for a missing file, a foreign or torn one.
 */
export function readCheckpointMeta(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const len = Buffer.alloc(8);
    if (readSync(fd, len, 0, 8, 0) !== 8) return undefined;
    const n = Number(len.readBigUInt64LE(0));
    if (!(n > 0 && n < 100 * 2 ** 20)) return undefined;
    const head = Buffer.alloc(n);
    if (readSync(fd, head, 0, n, 8) !== n) return undefined;
    const meta = JSON.parse(head.toString("utf8")).__metadata__?.voxelpipe;
    const parsed = typeof meta === "string" ? JSON.parse(meta) : undefined;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The loop state saved in a run's `checkpoints/last.safetensors` (`__metadata__.voxelpipe.state`).
 * Undefined when the run has no checkpoint (or it carries no loop state): resuming starts from scratch.
 */
export function checkpointState(dir: string): LoopState | undefined {
  const state = readCheckpointMeta(join(dir, LAST_CHECKPOINT))?.state as Partial<LoopState> | undefined;
  if (typeof state?.iteration !== "number" || typeof state?.epoch !== "number") return undefined;
  return { epoch: state.epoch, iteration: state.iteration };
}

/**
 * The records of metrics.jsonl that a resume from `state` keeps: everything the run had written
 * when the checkpoint was saved. Step records are `{ epoch: e + 1, iteration }` and validation
 * records `{ epoch, iteration }`; a checkpoint at (epoch E, iteration I) comes after every record
 * at iteration I with epoch ≤ E (an iteration-unit validation at I logs epoch E − 1).
 * Without a checkpoint nothing is kept: the stage starts over and writes every record again.
 */
export function keptByResume(state: LoopState | undefined): (r: Record<string, unknown>) => boolean {
  if (!state) return () => false;
  return (r) =>
    typeof r.iteration !== "number" ||
    r.iteration < state.iteration ||
    (r.iteration === state.iteration && typeof r.epoch === "number" && r.epoch <= state.epoch);
}
