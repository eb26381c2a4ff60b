import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import type { Logger } from "@voxelpipe/core";
import { MAX_THREADS_ENV } from "../run/threads.js";
import { voxelpipeBin } from "./task-file.js";
import type { ActiveTask, Batch, Executor, ExecutorOptions, LaunchResult, Task } from "./types.js";

/**
 * Tasks on this machine. One job: each task in this process, one after the other (as voxelpipe
 * always did). N jobs: up to N child processes `node bin/voxelpipe.js <argv>` at once, each capped
 * to its share of the cores (VOXELPIPE_MAX_THREADS = cores / N, at least 1) so N runs do not each
 * start a replica per core. Their output comes through line by line. Tasks record their own
 * outcome in the runs folder, so an exit code only adds a line to the log.
 */
export class LocalExecutor implements Executor {
  readonly name = "local";
  readonly detached = false;
  /** --jobs: one runs each task in this process, more run child processes */
  readonly parallel: number;

  constructor(private readonly o: ExecutorOptions = {}) {
    this.parallel = Math.max(1, o.jobs ?? 1);
  }

  async launch(batch: Batch, log: Logger): Promise<LaunchResult> {
    const jobs = Math.min(this.parallel, Math.max(1, batch.tasks.length));
    const share = Math.max(1, Math.floor(availableParallelism() / jobs));
    if (jobs === 1) {
      for (const t of batch.tasks) await this.runOne(t, batch.cwd, log, undefined);
    } else {
      log.info(`${batch.tasks.length} tasks, ${jobs} at a time, ${share} thread${share === 1 ? "" : "s"} each`);
      const queue = [...batch.tasks];
      await Promise.all(
        Array.from({ length: jobs }, async () => {
          for (let t = queue.shift(); t; t = queue.shift()) await this.spawnOne(t, batch.cwd, log, share);
        }),
      );
    }
    if (batch.finalize) await this.runOne(batch.finalize, batch.cwd, log, undefined);
    return { mode: "completed", jobs: [], note: `${batch.tasks.length} tasks ran on this machine (${jobs} at a time)` };
  }

  private async runOne(t: Task, cwd: string, log: Logger, share: number | undefined): Promise<void> {
    if (t.inProcess) await t.inProcess();
    else await this.spawnOne(t, cwd, log, share);
  }

  private spawnOne(t: Task, cwd: string, log: Logger, share: number | undefined): Promise<void> {
    const env = { ...process.env };
    if (share !== undefined) env[MAX_THREADS_ENV] = String(share);
    const child = spawn(process.execPath, [voxelpipeBin(), ...t.argv], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const sink = this.o.sink ?? ((line: string) => log.info(line));
    const forward = (stream: NodeJS.ReadableStream) => {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const l of lines) sink(l);
      });
      stream.on("end", () => {
        if (rest) sink(rest);
      });
    };
    forward(child.stdout);
    forward(child.stderr);
    return new Promise((res) => {
      child.on("error", (e) => {
        log.error(`${t.id}: could not start ${process.execPath}: ${e.message}`);
        res();
      });
      child.on("close", (code, signal) => {
        if (signal) log.error(`${t.id}: the task process was killed (${signal})`);
        else if (code !== 0 && code !== 1) log.error(`${t.id}: the task process exited with code ${code}`);
        res();
      });
    });
  }

  /** a local executor queues nothing: what runs is known from the status records (pid and host) */
  async active(_dir: string): Promise<Map<string, ActiveTask>> {
    return new Map();
  }

  async ended(_dir: string): Promise<Map<string, string>> {
    return new Map();
  }
}
