import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Codes, VoxelpipeError } from "@voxelpipe/core";

/** `runs/<pipeline>/<stage>/<timestamp>/`; timestamps sort, so the newest run is the last entry. */
export function stageRunsRoot(runsDir: string, pipeline: string, stage: string): string {
  return resolve(runsDir, pipeline, stage);
}

/** run directories made by this process, with the folders above them that making them created */
const created: { dir: string; parents: string[] }[] = [];

/** A diagnostic for a folder or file that cannot be written, naming the path and the reason. */
export function writeError(path: string, e: unknown, what = "cannot write"): VoxelpipeError {
  const err = e as NodeJS.ErrnoException;
  // mkdir -p reports ENOENT/EACCES for the deepest missing folder: name the folder that refuses
  let blocker = path;
  while (!existsSync(blocker) && dirname(blocker) !== blocker) blocker = dirname(blocker);
  let reason: string;
  switch (err.code) {
    case "ENOSPC":
    case "EDQUOT":
      reason = "the disk is full (or the quota is used up)";
      break;
    case "EROFS":
      reason = "the file system is read-only";
      break;
    case "EACCES":
    case "EPERM":
      reason = `permission denied on ${blocker}`;
      break;
    case "ENOTDIR":
    case "EEXIST":
      reason = `${blocker} is a file, not a folder`;
      break;
    default: {
      let writable = true;
      try {
        accessSync(blocker, constants.W_OK);
      } catch {
        writable = false;
      }
      reason = writable ? (err.message ?? String(e)) : `${blocker} is not writable (read-only or no permission)`;
    }
  }
  return new VoxelpipeError({
    code: Codes.cannotWrite,
    message: `${what} ${path}: ${reason}`,
    path,
    got: err.code,
    hint:
      err.code === "ENOSPC" || err.code === "EDQUOT"
        ? "free some space, or pass --runs-dir on another disk"
        : "pass --runs-dir <a writable folder>, or fix the folder's permissions",
  });
}

export function newRunDir(runsDir: string, pipeline: string, stage: string, now = new Date()): string {
  const root = stageRunsRoot(runsDir, pipeline, stage);
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  let dir = join(root, stamp);
  try {
    const first = mkdirSync(root, { recursive: true });
    for (let i = 1; existsSync(dir); i++) dir = join(root, `${stamp}_${i}`);
    mkdirSync(dir, { recursive: true });
    const parents: string[] = [];
    if (first) for (let d = root; d.length >= first.length; d = dirname(d)) parents.push(d);
    created.push({ dir, parents });
  } catch (e) {
    throw writeError(dir, e, "cannot create the run directory");
  }
  return dir;
}

/** how many run directories this process has made so far (a mark for removeEmptyRunDirs) */
export function runDirMark(): number {
  return created.length;
}

/** files a run directory holds from the moment it is made, before the run produced anything */
const SETUP_FILES = new Set(["pipeline.resolved.yaml", "env.json", "fingerprint.json", "run.lock", "metrics.jsonl"]);

/** true when a run directory holds nothing its run produced: only setup files, empty files and empty folders */
export function producedNothing(dir: string): boolean {
  const walk = (d: string): boolean =>
    readdirSync(d, { withFileTypes: true }).every((e) => {
      const p = join(d, e.name);
      if (e.isDirectory()) return walk(p);
      if (e.name === "metrics.jsonl") return statSync(p).size === 0;
      return SETUP_FILES.has(e.name) || statSync(p).size === 0;
    });
  try {
    return walk(dir);
  } catch {
    return false;
  }
}

/**
 * After a failed command: remove the run directories made since `mark` whose run produced nothing
 * (and the folders above them that making them created, when now empty), so a failure leaves no
 * empty run directory behind. Runs with metrics, checkpoints or outputs are kept for --resume.
 */
export function removeEmptyRunDirs(mark = 0): string[] {
  const removed: string[] = [];
  for (const { dir, parents } of created.splice(mark)) {
    if (!existsSync(dir) || !producedNothing(dir)) continue;
    try {
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      continue;
    }
    for (const p of parents) {
      try {
        if (readdirSync(p).length > 0) break;
        rmdirSync(p);
      } catch {
        break;
      }
    }
  }
  return removed;
}

/** the newest run directory of a stage, if any (for --resume) */
export function latestRunDir(runsDir: string, pipeline: string, stage: string): string | undefined {
  const root = stageRunsRoot(runsDir, pipeline, stage);
  if (!existsSync(root)) return undefined;
  const dirs = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  return dirs.length ? join(root, dirs[dirs.length - 1]) : undefined;
}
