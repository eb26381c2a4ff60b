import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { builtOrSkip } from "../../../test-utils/gates.js";
import { REPO, tmp } from "./helpers.js";

const LOCK_JS = join(REPO, "packages", "runner", "dist", "run", "lock.js");
const built = builtOrSkip(LOCK_JS);

/**
 * A child process that loads the lock module, says `ready`, waits for the go file (so every
 * contender calls acquire at the same moment), then takes the lock, logs `start`, holds it until
 * every other contender has been refused (or 60 s: with two owners that never happens), logs `end`
 * and releases it; or logs the diagnostic code it was refused with. Each line is one appendFileSync
 * (O_APPEND: whole lines, never interleaved). Holding until the others are done, not for a fixed
 * time, keeps a slow start under load from looking like a second owner.
 */
const CHILD = `
import { appendFileSync, existsSync, readFileSync } from "node:fs";
const [lockJs, dir, log, go, contenders] = process.argv.slice(1);
const { RunLock } = await import(lockJs);
const refused = () => readFileSync(log, "utf8").split("\\n").filter((l) => l.startsWith("refused")).length;
const pause = () => new Promise((r) => setTimeout(r, 2));
appendFileSync(log, "ready\\n");
while (!existsSync(go)) await pause();
try {
  const lock = RunLock.acquire(dir);
  appendFileSync(log, "start " + process.pid + "\\n");
  const until = Date.now() + 60000;
  while (refused() < Number(contenders) - 1 && Date.now() < until) await pause();
  appendFileSync(log, "end " + process.pid + "\\n");
  lock.release();
} catch (e) {
  appendFileSync(log, "refused " + (e.code ?? e.message) + "\\n");
}
`;

/**
 * A churning contender: until the log holds `target` starts, it tries to take the lock; when it
 * does, it claims an `owner` marker with O_EXCL (EEXIST: another process owns the lock at the same
 * moment, logged `double`), holds for a moment, then "dies": renames a lock of a pid that cannot
 * exist (above Linux's pid_max) over its own, so the next taker must break a stale lock while the
 * others race it. Every break is contended by up to n - 1 processes, hundreds of times a run.
 */
const CHURN = `
import { appendFileSync, existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
const [lockJs, dir, log, go, target] = process.argv.slice(1);
const { RunLock } = await import(lockJs);
const starts = () => readFileSync(log, "utf8").split("\\n").filter((l) => l.startsWith("start")).length;
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
appendFileSync(log, "ready\\n");
while (!existsSync(go)) await pause(2);
let n = 0;
let lock;
while (starts() < Number(target)) {
  try {
    lock = RunLock.acquire(dir);
  } catch (e) {
    if (e.code !== "VP231") appendFileSync(log, "error " + (e.code ?? e.message) + "\\n");
    await pause(1);
    continue;
  }
  appendFileSync(log, "start " + process.pid + "\\n");
  const owner = join(dir, "owner");
  let mine = true;
  try {
    writeFileSync(owner, String(process.pid), { flag: "wx" });
  } catch {
    mine = false;
    appendFileSync(log, "double " + process.pid + "\\n");
  }
  await pause(2);
  if (mine) unlinkSync(owner);
  const dead = join(dir, "dead-" + process.pid);
  writeFileSync(dead, JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), started: process.pid + "-" + n++ }));
  renameSync(dead, join(dir, "run.lock"));
  lock.release(); // removes nothing: the lock file is no longer its own
}
`;

/** `n` contenders on `dir`, started together once all have loaded; resolves with their exit codes */
async function contend(
  dir: string,
  log: string,
  n: number,
  script = CHILD,
  arg = String(n),
): Promise<(number | null)[]> {
  const go = join(dir, "go");
  let early = ""; // a child that died before the go: its stderr
  const exits = Array.from(
    { length: n },
    () =>
      new Promise<number | null>((res) => {
        const c = spawn(process.execPath, ["--input-type=module", "-e", script, LOCK_JS, dir, log, go, arg], {
          stdio: ["ignore", "ignore", "pipe"],
        });
        let err = "";
        c.stderr.on("data", (d) => {
          err += d;
        });
        c.on("close", (code) => {
          if (!existsSync(go)) early ||= `exit ${code}: ${err}`;
          res(code);
        });
      }),
  );
  const ready = () =>
    existsSync(log)
      ? readFileSync(log, "utf8")
          .split("\n")
          .filter((l) => l === "ready").length
      : 0;
  while (ready() < n) {
    if (early) throw new Error(`a contender died before the start: ${early}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  writeFileSync(go, "");
  return Promise.all(exits);
}

/** a lock left by a process that no longer exists on this host */
function staleLock(dir: string): void {
  writeFileSync(join(dir, "run.lock"), JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), started: "then" }));
}

describe("RunLock", () => {
  it.runIf(built.ok)(
    built.title(
      "contenders on one stale lock: exactly one takes it, the others are refused with VP231, and no lock is left",
    ),
    async () => {
      const rounds = 6;
      const contenders = 6;
      for (let round = 0; round < rounds; round++) {
        const dir = tmp("vp-lock-");
        const log = join(dir, "log");
        staleLock(dir);
        const codes = await contend(dir, log, contenders);
        expect(codes.every((c) => c === 0)).toBe(true);
        const lines = readFileSync(log, "utf8").trim().split("\n");
        const starts = lines.filter((l) => l.startsWith("start"));
        expect(starts, `round ${round}: ${lines.join(" | ")}`).toHaveLength(1);
        expect(lines.filter((l) => l === "refused VP231")).toHaveLength(contenders - 1);
        expect(existsSync(join(dir, "run.lock")), "released").toBe(false);
        expect(
          readdirSync(dir).filter((f) => f !== "log" && f !== "go"),
          "no aside or temporary files",
        ).toEqual([]);
      }
    },
  );

  it.runIf(built.ok)(
    built.title("owners dying over and over while 6 processes race to break each stale lock: never two owners"),
    async () => {
      const dir = tmp("vp-lock-churn-");
      const log = join(dir, "log");
      staleLock(dir);
      const codes = await contend(dir, log, 6, CHURN, "1000");
      const lines = readFileSync(log, "utf8").trim().split("\n");
      expect(codes.every((c) => c === 0)).toBe(true);
      expect(lines.filter((l) => l.startsWith("double") || l.startsWith("error"))).toEqual([]);
      expect(lines.filter((l) => l.startsWith("start")).length).toBeGreaterThanOrEqual(1000);
      expect(
        readdirSync(dir).filter((f) => !["log", "go", "run.lock"].includes(f)),
        "no break tokens or temporary files",
      ).toEqual([]);
    },
  );
});
