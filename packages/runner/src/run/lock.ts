import { linkSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
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
 * Create `file` holding `text`, or return false if it exists. The text is written to a private file
 * first and hard-linked into place (link fails if the name exists), so a lock is never seen empty or
 * half-written: a reader that took a half-written lock for a torn one would break a live lock.
 * Where the file system has no hard links, O_EXCL create-and-write is the fallback.
 */
function createWith(file: string, text: string): boolean {
  const own = `${file}.${process.pid}.tmp`;
  writeFileSync(own, text);
  try {
    linkSync(own, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw e;
  } finally {
    rmSync(own, { force: true });
  }
  try {
    writeFileSync(file, text, { flag: "wx" });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

/**
 * Break the stale lock whose text was `staleText`: move it aside (atomic, so of several breakers
 * only one moves it), and if what was moved is not that lock (a live one, taken meanwhile), link it
 * back, which never overwrites a lock taken in the meantime. (Only a third process taking the lock
 * in the microseconds between the move and the link-back can still leave that owner without its file.)
 */
function breakStale(file: string, staleText: string): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = readLock(aside);
  if (moved && moved.text !== staleText) {
    try {
      linkSync(aside, file);
    } catch {}
  }
  rmSync(aside, { force: true });
}

/**
 * An exclusive lock on a run directory: `run.lock` holding `{ pid, host, started }`, created
 * atomically (see createWith). A lock whose process is gone (same host, pid not alive; or an
 * unreadable file) is stale and broken (see breakStale), then re-taken. A live lock is a VP231
 * diagnostic. Released on `release()` and at process exit.
 */
export class RunLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(readonly file: string) {
    process.once("exit", this.onExit);
  }

  static acquire(dir: string): RunLock {
    const file = join(dir, LOCK_FILE);
    const mine = JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() });
    for (let attempt = 0; attempt < 5; attempt++) {
      if (createWith(file, mine)) return new RunLock(file);
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
      breakStale(file, held.text);
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
