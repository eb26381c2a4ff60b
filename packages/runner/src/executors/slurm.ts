import { spawnSync } from "node:child_process";
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  statfsSync,
  writeFileSync,
} from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { Codes, type Logger, VoxelpipeError, writeFileAtomicSync } from "@voxelpipe/core";
import { writeError } from "../run/run-dir.js";
import { voxelpipeBin, writeTaskFile } from "./task-file.js";
import type { ActiveTask, Batch, Executor, ExecutorOptions, LaunchResult } from "./types.js";

/** one sbatch submission: the array job, its finalize job, and which task each array index runs */
interface Submission {
  n: number;
  array: string;
  finalize?: string;
  tasks: string[];
  submitted: string;
}

/**
 * How many tasks at once a Slurm batch is planned for without --max-parallel. Slurm does not say
 * how many array tasks the cluster will run together (free nodes, partition and per-user limits
 * decide, and change while the tasks wait), so sharded work is split for 16: enough shards to fill
 * a small partition, few enough that each one's start-up (a node, Node.js, the model) stays small
 * next to its share of the cases.
 */
export const SLURM_DEFAULT_PARALLEL = 16;

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** run a Slurm client; a missing binary is VP272 (Slurm not installed), a non-zero exit is returned */
function slurm(cmd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
    throw new VoxelpipeError({
      code: Codes.slurmUnavailable,
      message: `Slurm's ${cmd} is not installed (or not on PATH)`,
      hint: "run on a machine with the Slurm client commands (a login node), or use --executor local",
    });
  }
  return { ok: r.status === 0, out: r.stdout ?? "", err: (r.stderr ?? "").trim() || String(r.error ?? "") };
}

/** tmpfs, or a folder that is node-local by convention: not what other nodes see */
function nodeLocal(dir: string): string | undefined {
  if (/^\/(tmp|var\/tmp|dev\/shm|run)(\/|$)/.test(dir)) return "a node-local temporary folder";
  try {
    if (statfsSync(dir).type === 0x01021994) return "on tmpfs";
  } catch {}
  return undefined;
}

const lastLines = (s: string, n = 4) => s.split("\n").filter(Boolean).slice(-n).join(" | ");

function unreachable(cmd: string, err: string): VoxelpipeError {
  return new VoxelpipeError({
    code: Codes.slurmUnavailable,
    message: `${cmd} could not reach a Slurm controller`,
    got: lastLines(err),
    hint: "is SLURM_CONF (or /etc/slurm/slurm.conf) pointing at a running cluster? For the repo's single-node test cluster: npm run slurm:up, then export SLURM_CONF=/tmp/voxelpipe-slurm/slurm.conf",
  });
}

/**
 * A Slurm job array per batch: task i runs `node <bin> _task <tasks file> i`, which runs the task's
 * voxelpipe command line; the finalize task is a second job with `--dependency=afterany:<array>`
 * (it runs whatever the tasks' outcome). Scripts, task files, submissions and logs go to
 * `<dir>/slurm/`; the runs folder must therefore be on a filesystem every node shares (checked:
 * writable here; a task on a node that cannot see its task file fails with VP274).
 */
export class SlurmExecutor implements Executor {
  readonly name = "slurm";
  readonly detached = true;
  /** --max-parallel (the array's %N), else SLURM_DEFAULT_PARALLEL */
  readonly parallel: number;

  constructor(private readonly o: ExecutorOptions = {}) {
    this.parallel = o.maxParallel ?? SLURM_DEFAULT_PARALLEL;
  }

  private folder(dir: string): string {
    return join(dir, "slurm");
  }

  private submissions(dir: string): Submission[] {
    const f = join(this.folder(dir), "submissions.json");
    if (!existsSync(f)) return [];
    try {
      return JSON.parse(readFileSync(f, "utf8")) as Submission[];
    } catch {
      return [];
    }
  }

  private directives(name: string, logs: string, finalize: boolean): string[] {
    const o = this.o;
    return [
      `#SBATCH --job-name=${name}`,
      `#SBATCH --output=${logs}/${finalize ? "finalize-%j" : "%A_%a"}.log`,
      ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
      ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
      `#SBATCH --cpus-per-task=${finalize ? 1 : (o.cpusPerTask ?? 1)}`,
      ...(!finalize && o.mem ? [`#SBATCH --mem=${o.mem}`] : []),
      ...(!finalize && o.gpus ? [`#SBATCH --gpus-per-task=${o.gpus}`] : []),
    ];
  }

  private script(header: string[], cwd: string, taskFile: string, index: string): string {
    // absolute paths only: the script runs on a compute node, in Slurm's idea of a working directory
    return [
      "#!/bin/bash",
      ...header,
      "# written by voxelpipe; runs one task of the batch (see the task file for its command line)",
      `cd ${q(cwd)} || exit 74`,
      `exec ${q(process.execPath)} ${q(voxelpipeBin())} _task ${q(taskFile)} ${index}`,
      "",
    ].join("\n");
  }

  private sbatch(args: string[], script: string): string {
    const r = slurm("sbatch", ["--parsable", ...args, ...(this.o.sbatchArgs ?? []), script]);
    if (!r.ok) {
      if (/controller|connect|fetch_config|configuration (source|file)|Unable to contact/i.test(r.err))
        throw unreachable("sbatch", r.err);
      throw new VoxelpipeError({
        code: Codes.slurmSubmit,
        message: `sbatch refused ${script}`,
        got: lastLines(r.err),
        hint: "check the resources asked for (--partition, --time, --mem, --gpus, --sbatch-arg) against sinfo",
      });
    }
    const id = r.out.trim().split(";")[0];
    if (!/^\d+$/.test(id)) {
      throw new VoxelpipeError({ code: Codes.slurmSubmit, message: `sbatch printed no job id`, got: r.out.trim() });
    }
    return id;
  }

  /**
   * What can be checked of "every node sees the runs folder at the same path": here, that it is
   * writable (launch), and that a cluster of several nodes is not given a node-local folder; on the
   * node, that the task file is there (`_task`, VP274).
   */
  private warnIfLocal(dir: string, log: Logger): void {
    const why = nodeLocal(dir);
    if (!why) return;
    let r: ReturnType<typeof slurm>;
    try {
      r = slurm("sinfo", ["-h", "-N", "-o", "%N"]);
    } catch {
      return; // no sinfo: sbatch will say what is missing
    }
    const nodes = new Set(r.out.split("\n").filter(Boolean)).size;
    if (r.ok && nodes > 1)
      log.warn(
        `${dir} is ${why}, but this cluster has ${nodes} nodes: tasks on other nodes will not find it (VP274); pass --runs-dir on a shared filesystem`,
      );
  }

  async launch(batch: Batch, log: Logger): Promise<LaunchResult> {
    slurm("sbatch", ["--version"]); // not installed: VP272 before anything is written
    const folder = this.folder(batch.dir);
    const logs = join(folder, "logs");
    try {
      mkdirSync(logs, { recursive: true });
      accessSync(folder, constants.W_OK);
    } catch (e) {
      throw writeError(folder, e, "cannot write the Slurm job folder");
    }
    this.warnIfLocal(batch.dir, log);
    const before = this.submissions(batch.dir);
    const n = before.reduce((m, s) => Math.max(m, s.n), 0) + 1;
    const taskFile = join(folder, `tasks-${n}.json`);
    writeTaskFile(taskFile, batch.cwd, batch.tasks);
    const arrayScript = join(folder, `array-${n}.sh`);
    writeFileSync(
      arrayScript,
      this.script(this.directives(batch.name, logs, false), batch.cwd, taskFile, '"$SLURM_ARRAY_TASK_ID"'),
    );
    chmodSync(arrayScript, 0o755);
    const limit = this.o.maxParallel ? `%${this.o.maxParallel}` : "";
    const array = this.sbatch([`--array=0-${batch.tasks.length - 1}${limit}`], arrayScript);
    log.info(`submitted ${batch.tasks.length} tasks as Slurm array job ${array} (${arrayScript})`);
    // recorded at once: if the finalize submission fails, the queued tasks are still known (not submitted twice)
    const record: Submission = {
      n,
      array,
      tasks: batch.tasks.map((t) => t.id),
      submitted: new Date().toISOString(),
    };
    const save = () =>
      writeFileAtomicSync(join(folder, "submissions.json"), `${JSON.stringify([...before, record], null, 2)}\n`);
    save();
    let finalize: string | undefined;
    if (batch.finalize) {
      const finFile = join(folder, `finalize-${n}.json`);
      writeTaskFile(finFile, batch.cwd, [batch.finalize]);
      const finScript = join(folder, `finalize-${n}.sh`);
      writeFileSync(
        finScript,
        this.script(this.directives(`${batch.name}-final`, logs, true), batch.cwd, finFile, "0"),
      );
      chmodSync(finScript, 0o755);
      // after this array and any earlier one still queued for the same folder (a re-run while some ran)
      const waits = [
        ...new Set([array, ...[...(await this.active(batch.dir)).values()].map((a) => a.job.split("_")[0])]),
      ];
      finalize = this.sbatch([`--dependency=afterany:${waits.join(":")}`, "--kill-on-invalid-dep=no"], finScript);
      log.info(`job ${finalize} runs ${batch.finalize.id} after job${waits.length > 1 ? "s" : ""} ${waits.join(", ")}`);
    }
    record.finalize = finalize;
    save();
    return {
      mode: "submitted",
      jobs: [array, ...(finalize ? [finalize] : [])],
      note: `Slurm array job ${array} (${batch.tasks.length} tasks)${finalize ? `, then job ${finalize}` : ""}; logs in ${logs}`,
    };
  }

  /** index → task id of every array job submitted for `dir` */
  private taskIndex(dir: string): Map<string, string> {
    const m = new Map<string, string>();
    for (const s of this.submissions(dir)) for (const [i, t] of s.tasks.entries()) m.set(`${s.array}_${i}`, t);
    return m;
  }

  async active(dir: string): Promise<Map<string, ActiveTask>> {
    const index = this.taskIndex(dir);
    const out = new Map<string, ActiveTask>();
    if (!index.size) return out;
    // -r: one line per array task, pending ones included (1234_5)
    const r = slurm("squeue", ["-h", "-r", "-u", currentUser(), "-o", "%i|%T|%R"]);
    if (!r.ok) throw unreachable("squeue", r.err);
    for (const line of r.out.split("\n")) {
      const [job, state, detail] = line.trim().split("|");
      const task = job ? index.get(job) : undefined;
      if (task) out.set(task, { job, state, detail });
    }
    return out;
  }

  async ended(dir: string): Promise<Map<string, string>> {
    const index = this.taskIndex(dir);
    const out = new Map<string, string>();
    const arrays = [...new Set(this.submissions(dir).map((s) => s.array))];
    if (!arrays.length) return out;
    // accounting exists only with slurmdbd (or a jobcomp plugin); without it sacct fails: nothing to add
    const r = slurm("sacct", ["-n", "-P", "-X", "-j", arrays.join(","), "-o", "JobID,State,ExitCode"]);
    if (!r.ok) return out;
    for (const line of r.out.split("\n")) {
      const [job, state, exit] = line.trim().split("|");
      const task = job ? index.get(job) : undefined;
      if (task) out.set(task, `${state} (exit ${exit})`);
    }
    return out;
  }
}

/** the user whose jobs to list: $USER, else the passwd entry (absent in some containers, where userInfo throws) */
function currentUser(): string {
  if (process.env.USER) return process.env.USER;
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? "");
  }
}
