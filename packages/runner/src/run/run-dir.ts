import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

/** `runs/<pipeline>/<stage>/<timestamp>/`; timestamps sort, so the newest run is the last entry. */
export function stageRunsRoot(runsDir: string, pipeline: string, stage: string): string {
  return resolve(runsDir, pipeline, stage);
}

export function newRunDir(runsDir: string, pipeline: string, stage: string, now = new Date()): string {
  const root = stageRunsRoot(runsDir, pipeline, stage);
  mkdirSync(root, { recursive: true });
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  let dir = join(root, stamp);
  for (let i = 1; existsSync(dir); i++) dir = join(root, `${stamp}_${i}`);
  mkdirSync(dir, { recursive: true });
  return dir;
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
