import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { Codes, VoxelpipeError } from "@voxelpipe/core";

/** the lock file inside a run directory while a process writes it */
export const LOCK_FILE = "run.lock";

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

function readLock(file: string): { text: string; info: LockInfo | undefined } | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined; // gone meanwhile
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    return { text, info: typeof info.pid === "number" ? info : undefined };
  } catch {
    return { text, info: undefined }; // torn (killed while writing it): stale
  }
}

/**
 * An exclusive lock on a run directory: `run.lock` created with O_EXCL holding `{ pid, host, started }`.
 * A lock whose process is gone (same host, pid not alive; or an unreadable file) is stale and
 * broken: renamed aside (atomic, so two processes cannot both break it), then re-taken with
 * O_EXCL. A live lock is a VP231 diagnostic. Released on `release()` and at process exit.
 */
export class RunLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(readonly file: string) {
    process.once("exit", this.onExit);
  }

  static acquire(dir: string): RunLock {
    const file = join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const fd = openSync(file, "wx");
        try {
          writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }));
        } finally {
          closeSync(fd);
        }
        return new RunLock(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const held = readLock(file);
      if (!held) continue; // released meanwhile: try again
      const { info } = held;
      const stale = !info || (info.host === hostname() && !alive(info.pid) && info.pid !== process.pid);
      if (!stale) {
        throw new VoxelpipeError({
          code: Codes.runLocked,
          message: `run directory ${dir} is in use by process ${info.pid} on ${info.host} (since ${info.started})`,
          hint:
            info.host === hostname()
              ? "wait for that process to finish; two processes never write one run"
              : `if no process on ${info.host} is writing this run any more, delete ${file}`,
        });
      }
      // break the stale lock: move it aside atomically; only one process wins the rename
      const aside = `${file}.stale-${process.pid}`;
      try {
        renameSync(file, aside);
      } catch {
        continue; // someone else broke it first
      }
      const moved = readLock(aside);
      if (moved && moved.text !== held.text) {
        // we moved a lock taken after we read the stale one: put it back, it is live
        try {
          renameSync(aside, file);
        } catch {}
        continue;
      }
      try {
        unlinkSync(aside);
      } catch {}
    }
    throw new VoxelpipeError({
      code: Codes.runLocked,
      message: `could not lock run directory ${dir}: other processes keep taking it`,
      hint: "run one voxelpipe process per run directory",
    });
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener("exit", this.onExit);
    try {
      const held = readLock(this.file);
      if (held?.info?.pid === process.pid) unlinkSync(this.file);
    } catch {}
  }
}
