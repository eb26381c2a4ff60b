import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { type Diagnostic, writeFileAtomicSync } from "@voxelpipe/core";
import type { ActiveTask } from "../executors/index.js";

/**
 * What each variant of a sweep is doing, from files in the sweep folder (so any process on any node
 * can tell): `status/<variant>.json` is written by the process that runs the variant when it starts
 * and when it ends. Whether a variant is *finished* is not taken from this record but from its run
 * folders' fingerprints (run/reuse.ts), so an edited pipeline makes a finished variant pending again.
 */
export interface VariantRecord {
  variant: string;
  state: "running" | "finished" | "failed";
  executor: string;
  host: string;
  pid: number;
  /** the scheduler's id for the task (Slurm: <array job>_<index>) */
  job?: string;
  started: string;
  ended?: string;
  diagnostics?: Diagnostic[];
}

export type VariantState = "finished" | "failed" | "queued" | "running" | "interrupted" | "pending";

export interface VariantStatus {
  variant: string;
  state: VariantState;
  /** scheduler job id, when a scheduler holds or held it */
  job?: string;
  /** why it waits, where it runs, what failed */
  detail?: string;
}

export const recordFile = (dir: string, variant: string) => join(dir, "status", `${variant}.json`);

export function readRecord(dir: string, variant: string): VariantRecord | undefined {
  const f = recordFile(dir, variant);
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, "utf8")) as VariantRecord;
  } catch {
    return undefined; // written atomically; unreadable means foreign: no record
  }
}

export function writeRecord(dir: string, r: VariantRecord): void {
  writeFileAtomicSync(recordFile(dir, r.variant), `${JSON.stringify(r, null, 2)}\n`);
}

/** the scheduler job this process runs as, if any (Slurm array task or plain job) */
export function currentJob(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SLURM_ARRAY_JOB_ID && env.SLURM_ARRAY_TASK_ID) return `${env.SLURM_ARRAY_JOB_ID}_${env.SLURM_ARRAY_TASK_ID}`;
  return env.SLURM_JOB_ID;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * One variant's state. A scheduler that still holds it decides (queued/running); then its run
 * folders (finished = every stage finished with this configuration); then its record: failed, or
 * running in a live local process, or a record/run folder left by a process that is gone
 * (cancelled, killed, node lost): interrupted, to be resumed.
 */
export function variantState(
  variant: string,
  o: { finished: boolean; record?: VariantRecord; active?: ActiveTask; accounting?: string; started: boolean },
): VariantStatus {
  const { record: r, active: a } = o;
  if (a) {
    const running = /RUNNING|COMPLETING|CONFIGURING/.test(a.state);
    return {
      variant,
      state: running ? "running" : "queued",
      job: a.job,
      detail: `${a.state} ${a.detail ?? ""}`.trim(),
    };
  }
  if (o.finished) return { variant, state: "finished", job: r?.job };
  if (r?.state === "failed") {
    const d = r.diagnostics?.[0];
    return { variant, state: "failed", job: r.job, detail: d ? `${d.code} ${d.message.split("\n")[0]}` : undefined };
  }
  if (r?.state === "running" && r.executor === "local" && (r.host !== hostname() || alive(r.pid))) {
    return { variant, state: "running", detail: `pid ${r.pid} on ${r.host}` };
  }
  if (r || o.started) {
    const how = o.accounting ?? (r?.job ? "no longer queued" : "its process is gone");
    return { variant, state: "interrupted", job: r?.job, detail: `${how}; re-run to resume` };
  }
  return { variant, state: "pending" };
}
