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
 * A child process that takes the lock, logs `start`, holds it for `holdMs`, logs `end` and
 * releases it; or logs the diagnostic code it was refused with. Each line is one appendFileSync
 * (O_APPEND: whole lines, never interleaved).
 */
const CHILD = `
import { appendFileSync } from "node:fs";
const [lockJs, dir, log, holdMs] = process.argv.slice(1);
const { RunLock } = await import(lockJs);
try {
  const lock = RunLock.acquire(dir);
  appendFileSync(log, "start " + process.pid + "\\n");
  const until = Date.now() + Number(holdMs);
  while (Date.now() < until) {}
  appendFileSync(log, "end " + process.pid + "\\n");
  lock.release();
} catch (e) {
  appendFileSync(log, "refused " + (e.code ?? e.message) + "\\n");
}
`;

function contender(dir: string, log: string, holdMs: number): Promise<number | null> {
  return new Promise((res) => {
    const c = spawn(process.execPath, ["--input-type=module", "-e", CHILD, LOCK_JS, dir, log, String(holdMs)], {
      stdio: "ignore",
    });
    c.on("exit", (code) => res(code));
  });
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
      const rounds = 12;
      const contenders = 6;
      for (let round = 0; round < rounds; round++) {
        const dir = tmp("vp-lock-");
        const log = join(dir, "log");
        staleLock(dir);
        // the holder outlives every contender's attempt, so a second "start" can only mean two owners
        const codes = await Promise.all(Array.from({ length: contenders }, () => contender(dir, log, 1000)));
        expect(codes.every((c) => c === 0)).toBe(true);
        const lines = readFileSync(log, "utf8").trim().split("\n");
        const starts = lines.filter((l) => l.startsWith("start"));
        expect(starts, `round ${round}: ${lines.join(" | ")}`).toHaveLength(1);
        expect(lines.filter((l) => l === "refused VP231")).toHaveLength(contenders - 1);
        expect(existsSync(join(dir, "run.lock")), "released").toBe(false);
        expect(
          readdirSync(dir).filter((f) => f !== "log"),
          "no aside or temporary files",
        ).toEqual([]);
      }
    },
  );
});
