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

/** `n` contenders on `dir`, started together once all have loaded; resolves with their exit codes */
async function contend(dir: string, log: string, n: number): Promise<(number | null)[]> {
  const go = join(dir, "go");
  const exits = Array.from(
    { length: n },
    () =>
      new Promise<number | null>((res) => {
        const c = spawn(process.execPath, ["--input-type=module", "-e", CHILD, LOCK_JS, dir, log, go, String(n)], {
          stdio: "ignore",
        });
        c.on("exit", (code) => res(code));
      }),
  );
  const ready = () =>
    existsSync(log)
      ? readFileSync(log, "utf8")
          .split("\n")
          .filter((l) => l === "ready").length
      : 0;
  while (ready() < n) await new Promise((r) => setTimeout(r, 5));
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
      const rounds = 12;
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
});
