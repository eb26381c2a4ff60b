import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { keepEnv } from "../../../test-utils/env.js";
import { SlurmExecutor } from "../src/executors/slurm.js";
import { tmp } from "./helpers.js";

keepEnv("PATH");

/**
 * A stand-in `sacct` on PATH: records its arguments and prints `out` (what `sacct -n -P -X -o
 * JobID,State,ExitCode` prints for array jobs: one line per task, `<array>_<index>`; tasks not yet
 * started as one `<array>_[a-b]` range line), or fails like a cluster without accounting storage.
 */
function fakeSacct(out: string, exit = 0): { argsFile: string } {
  const bin = tmp("vp-sacct-");
  const argsFile = join(bin, "args");
  writeFileSync(
    join(bin, "sacct"),
    `#!/bin/sh\nprintf '%s ' "$@" > ${argsFile}\n${exit ? `echo "sacct: error: Slurm accounting storage is disabled" >&2\nexit ${exit}` : `cat <<'OUT'\n${out}OUT`}\n`,
  );
  chmodSync(join(bin, "sacct"), 0o755);
  process.env.PATH = `${bin}:${process.env.PATH}`;
  return { argsFile };
}

/** a sweep folder with two submitted arrays of the given task ids */
function submitted(a: string[], b: string[]): string {
  const dir = tmp("vp-acct-");
  mkdirSync(join(dir, "slurm"));
  const at = "2026-12-07T00:00:00.000Z";
  writeFileSync(
    join(dir, "slurm", "submissions.json"),
    JSON.stringify([
      { n: 1, array: "4100", tasks: a, submitted: at },
      { n: 2, array: "4107", tasks: b, submitted: at },
    ]),
  );
  return dir;
}

describe("Slurm accounting (sacct): how tasks that left the queue ended", () => {
  it("maps each array task line to its task, with state and exit code; ranges of unstarted tasks and other jobs are not tasks", async () => {
    const dir = submitted(["v-a", "v-b", "v-c", "v-d"], ["v-e"]);
    const { argsFile } = fakeSacct(
      [
        "4100_0|COMPLETED|0:0",
        "4100_1|FAILED|1:0",
        "4100_2|CANCELLED by 1000|0:15",
        "4100_[3]|PENDING|0:0",
        "4107_0|OUT_OF_MEMORY|0:125",
        "9999_0|FAILED|2:0",
        "",
      ].join("\n"),
    );
    const ended = await new SlurmExecutor().ended(dir);
    expect(Object.fromEntries(ended)).toEqual({
      "v-a": "COMPLETED (exit 0:0)",
      "v-b": "FAILED (exit 1:0)",
      "v-c": "CANCELLED by 1000 (exit 0:15)",
      "v-e": "OUT_OF_MEMORY (exit 0:125)",
    });
    // one sacct call for both arrays, parsable output, array tasks only (no job steps)
    expect(readFileSync(argsFile, "utf8").trim()).toBe("-n -P -X -j 4100,4107 -o JobID,State,ExitCode");
  });

  it("a cluster without accounting storage (sacct fails) adds nothing instead of failing the status", async () => {
    const dir = submitted(["v-a"], ["v-b"]);
    fakeSacct("", 1);
    expect((await new SlurmExecutor().ended(dir)).size).toBe(0);
  });

  it("a folder nothing was submitted from asks no one", async () => {
    const { argsFile } = fakeSacct("4100_0|COMPLETED|0:0\n");
    expect((await new SlurmExecutor().ended(tmp("vp-acct-none-"))).size).toBe(0);
    expect(() => readFileSync(argsFile)).toThrow();
  });
});
