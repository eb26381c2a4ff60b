import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { cli, FIXTURES, REPO, tmp } from "./helpers.js";

/** a tiny trained model and its synthetic cohort, for the sharded-inference tests */
export const TINY_INFER = join(FIXTURES, "pipelines", "tiny-infer.yaml");

export interface TinyModel {
  checkpoint: string;
  datalist: string;
  runs: string;
}

/** train tiny-infer.yaml (synth 24³ + a hidden-16 UNETR, one epoch): ~5 s idle, ~13 s on a loaded 2-core machine */
export async function trainTinyModel(): Promise<TinyModel> {
  const runs = tmp("vp-shards-");
  const r = await cli(["run", TINY_INFER, "--runs-dir", runs, "--backend", "cpu"]);
  expect(r.code, r.stderr).toBe(0);
  const out = (stage: string) => {
    const root = join(runs, "tiny-infer", stage);
    return JSON.parse(readFileSync(join(root, readdirSync(root).sort().pop()!, "outputs.json"), "utf8"));
  };
  return { checkpoint: out("fit").best, datalist: out("data").datalist, runs };
}

/** every file of a folder, name → bytes */
export function folderBytes(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f))]),
  );
}

// --- the single-node Slurm of scripts/slurm.sh ---

export const SLURM_SH = join(REPO, "scripts", "slurm.sh");
export const SLURM_DIR = process.env.VOXELPIPE_SLURM_DIR ?? "/tmp/voxelpipe-slurm";

/** are Debian's slurm-wlm and munge installed? (their daemons live in /usr/sbin) */
export function slurmInstalled(): boolean {
  const has = (b: string) => spawnSync("sh", ["-c", `command -v ${b} || test -x /usr/sbin/${b}`]).status === 0;
  return ["sbatch", "squeue", "scancel", "munged", "slurmctld", "slurmd"].every(has);
}

/** start the cluster (idempotent); returns whether this call started it (then the caller stops it) */
export function slurmUp(): boolean {
  const out = execFileSync("bash", [SLURM_SH, "up"], { encoding: "utf8", timeout: 60_000 });
  process.env.SLURM_CONF = join(SLURM_DIR, "slurm.conf");
  return !out.includes("already running");
}

export function slurmDown(): void {
  execFileSync("bash", [SLURM_SH, "down"], { encoding: "utf8", timeout: 60_000 });
}

/** job ids (array jobs and the jobs after them) submitted into a sweep or shards folder */
export function submittedJobs(dir: string): string[] {
  const f = join(dir, "slurm", "submissions.json");
  if (!existsSync(f)) return [];
  const subs = JSON.parse(readFileSync(f, "utf8")) as { array: string; finalize?: string }[];
  return subs.flatMap((s) => [s.array, ...(s.finalize ? [s.finalize] : [])]);
}

/** wait until none of the folder's jobs is queued or running any more */
export async function waitForJobs(dir: string, timeoutMs = 240_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    const ids = submittedJobs(dir);
    const r = spawnSync("squeue", ["-h", "-j", ids.join(","), "-o", "%i"], { encoding: "utf8" });
    if (!ids.length || r.status !== 0 || !r.stdout.trim()) return;
    if (Date.now() - started > timeoutMs) throw new Error(`jobs ${ids.join(",")} still queued: ${r.stdout}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}
