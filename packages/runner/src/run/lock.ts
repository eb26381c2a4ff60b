import { createHash } from "node:crypto";
import { closeSync, fstatSync, linkSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { Codes, VoxelpipeError } from "@voxelpipe/core";

/** the lock file inside a run directory while a process writes it */
export const LOCK_FILE = "run.lock";

/** how long acquire keeps trying while other processes are breaking a stale lock */
const PATIENCE_MS = 15_000;
/** an unparseable lock this old was torn by a killed writer (only the O_EXCL fallback can tear one) */
const TORN_AFTER_MS = 1_000;
/** break tokens of break tokens: each level needs another breaker killed mid-break */
const MAX_DEPTH = 8;

interface Holder {
  pid: number;
  host: string;
  started: string;
}

interface Held {
  text: string;
  holder: Holder | undefined;
  mtimeMs: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

function read(file: string): Held | undefined {
  let text: string;
  let mtimeMs: number;
  let fd: number | undefined;
  try {
    fd = openSync(file, "r"); // text and age of one file, even if the name is replaced meanwhile
    mtimeMs = fstatSync(fd).mtimeMs;
    text = readFileSync(fd, "utf8");
  } catch {
    return undefined; // gone meanwhile
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  try {
    const holder = JSON.parse(text) as Holder;
    return { text, mtimeMs, holder: typeof holder.pid === "number" ? holder : undefined };
  } catch {
    return { text, mtimeMs, holder: undefined };
  }
}

/** a dead holder on this host (never our own pid), or a torn file no one has touched for a while */
function stale({ holder, mtimeMs }: Held): boolean {
  if (!holder) return Date.now() - mtimeMs > TORN_AFTER_MS;
  return holder.host === hostname() && holder.pid !== process.pid && !alive(holder.pid);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const pause = (ms: number) => Atomics.wait(sleeper, 0, 0, ms);

/**
 * Create `file` holding `text`, or return false if it exists. The text is written to a private file
 * first and hard-linked into place (link fails if the name exists), so a lock is never seen empty or
 * half-written. Where the file system has no hard links, O_EXCL create-and-write is the fallback.
 */
function create(file: string, text: string): boolean {
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
 * Take `file` for `text`, breaking stale holders on the way; returns undefined once taken, or the
 * live holder that refuses us (no holder: still contended when patience ran out).
 */
function take(file: string, text: string, depth: number, deadline: number): { holder?: Holder } | undefined {
  while (Date.now() < deadline) {
    if (create(file, text)) return undefined;
    const held = read(file);
    if (!held) continue; // released meanwhile
    if (!stale(held)) {
      if (held.holder) return { holder: held.holder };
      pause(20); // unparseable but fresh: being written through the fallback
      continue;
    }
    if (!breakStale(file, held.text, depth, deadline)) pause(5); // another process is breaking it
  }
  return {};
}

/**
 * Remove `file` if it still holds `staleText`. POSIX has no compare-and-delete, so removals are
 * serialised by a break token: a file named for exactly that file and stale text, taken the same way
 * as a lock. Only the token's holder removes a file holding that text, so the text cannot change
 * between its check and its unlink (its dead holder never releases it, and a live lock is never
 * broken). A late breaker that takes the token after the break finds other text and removes
 * nothing. A breaker killed while holding the token leaves a stale token, broken one level down.
 */
function breakStale(file: string, staleText: string, depth: number, deadline: number): boolean {
  if (depth >= MAX_DEPTH) return false;
  const token = breakToken(file, staleText);
  if (take(token, holderText(), depth + 1, deadline)) return false;
  try {
    if (read(file)?.text === staleText) unlinkSync(file);
  } finally {
    rmSync(token, { force: true });
  }
  return true;
}

/** the break token for removing `file` while it holds `staleText` */
export function breakToken(file: string, staleText: string): string {
  const digest = createHash("sha256").update(`${file}\n${staleText}`).digest("hex").slice(0, 16);
  return `${file}.break-${digest}`;
}

function holderText(): string {
  return JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() });
}

/**
 * An exclusive lock on a run directory: `run.lock` holding `{ pid, host, started }`, created
 * atomically (see create). A lock whose process is gone (same host, pid not alive; or a torn file)
 * is stale and broken (see breakStale), then re-taken. A live lock is a VP231 diagnostic. Released
 * on `release()` and at process exit.
 */
export class RunLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(
    readonly file: string,
    private readonly text: string,
  ) {
    process.once("exit", this.onExit);
  }

  static acquire(dir: string): RunLock {
    const file = join(dir, LOCK_FILE);
    const mine = holderText();
    const refused = take(file, mine, 0, Date.now() + PATIENCE_MS);
    if (!refused) return new RunLock(file, mine);
    const { holder } = refused;
    if (!holder) {
      throw new VoxelpipeError({
        code: Codes.runLocked,
        message: `could not lock run directory ${dir}: other processes kept it busy for ${PATIENCE_MS / 1000} s`,
        hint: `run one voxelpipe process per run directory; if none is running, delete ${file}`,
      });
    }
    throw new VoxelpipeError({
      code: Codes.runLocked,
      message: `run directory ${dir} is in use by process ${holder.pid} on ${holder.host} (since ${holder.started})`,
      hint:
        holder.host === hostname()
          ? "wait for that process to finish; two processes never write one run"
          : `if no process on ${holder.host} is writing this run any more, delete ${file}`,
    });
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener("exit", this.onExit);
    // only our own lock: no one else removes a live lock, so it cannot change between check and unlink
    try {
      if (readFileSync(this.file, "utf8") === this.text) unlinkSync(this.file);
    } catch {}
  }
}
