import { readdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { executorFrom, flagsFromYaml } from "../src/executors/options.js";
import { cappedThreads } from "../src/run/threads.js";
import { type VariantRecord, variantState } from "../src/sweep/status.js";
import { cli, tmp } from "./helpers.js";

// Two variants, each long enough (~1.5 s of training idle) that running them at once can show.
const ARGS = [
  "sweep",
  "pipelines/example-regression.yaml",
  "--grid",
  "stages.fit.optimizer.lr=1e-3,3e-3",
  "--metric",
  "fit.best",
  "--backend",
  "cpu",
  "--set",
  "stages.fit.data.train=1024",
];

const sweepDir = (runs: string) => {
  const root = join(runs, "example-regression");
  return join(root, readdirSync(root).find((d) => d.startsWith("sweep-"))!);
};

/** metrics.jsonl and summary.json of every run, by path with the run timestamps replaced */
function runFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === "metrics.jsonl" || (e.name === "summary.json" && d !== dir))
        out.set(relative(dir, p).replace(/\d{4}-\d\d-\d\dT[\d-]+Z(_\d+)?/g, "<run>"), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

describe("sweep executors (local)", () => {
  it("--jobs 2 runs the variants in two processes and writes what --jobs 1 writes, byte for byte", async () => {
    // measured on the loaded 2-core dev machine: ~25 s for both sweeps
    const one = tmp();
    const a = await cli([...ARGS, "--runs-dir", one]);
    expect(a.code, a.stderr).toBe(0);
    const two = tmp();
    const b = await cli([...ARGS, "--jobs", "2", "--runs-dir", two]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/2 tasks, 2 at a time, \d+ threads? each/);
    expect(b.stdout).toContain("(2 run, 0 already finished)");
    for (const f of ["summary.json", "summary.csv", "summary.md"])
      expect(readFileSync(join(sweepDir(two), f), "utf8"), f).toBe(readFileSync(join(sweepDir(one), f), "utf8"));
    const ra = runFiles(sweepDir(one));
    const rb = runFiles(sweepDir(two));
    expect(ra.size).toBe(4);
    expect(Object.fromEntries(rb)).toEqual(Object.fromEntries(ra));
    // each variant's record says where it ran and that it finished
    const rec = JSON.parse(
      readFileSync(join(sweepDir(two), "status", `${readdirSync(join(sweepDir(two), "status"))[0]}`), "utf8"),
    );
    expect(rec).toMatchObject({ state: "finished", executor: "local", host: hostname() });

    // status from the folder, and a re-run with another job count skips everything
    const st = await cli(["sweep", "status", sweepDir(two)]);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toContain("(2 finished)");
    const again = await cli([...ARGS, "--jobs", "2", "--runs-dir", two]);
    expect(again.stdout).toContain("(0 run, 2 already finished)");
  });

  it("flags an executor does not take, and unknown executors, are VP271 diagnostics", async () => {
    const runs = tmp();
    const cases: [string[], RegExp][] = [
      [["--executor", "slurm", "--jobs", "2"], /VP271.*--jobs is an option of --executor local, not slurm/],
      [["--partition", "gpu"], /VP271.*--partition is an option of --executor slurm, not local/],
      [["--executor", "slurn"], /VP271.*unknown executor "slurn"[\s\S]*did you mean "slurm"/],
      [["--jobs", "0"], /VP111.*--jobs expects a whole number from 1 to 1024/],
    ];
    for (const [flags, want] of cases) {
      const r = await cli([...ARGS, ...flags, "--runs-dir", runs]);
      expect(r.code, flags.join(" ")).toBe(1);
      expect(r.stderr).toMatch(want);
    }
    expect(readdirSync(runs)).toEqual([]); // nothing ran, nothing was made
    // no Slurm client on PATH: a diagnostic naming it, not a stack trace
    const path = process.env.PATH;
    process.env.PATH = tmp();
    try {
      const r = await cli([...ARGS, "--executor", "slurm", "--runs-dir", runs]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error\[VP272\]: Slurm's sbatch is not installed/);
    } finally {
      process.env.PATH = path;
    }
    const notSweep = await cli(["sweep", "status", runs]);
    expect(notSweep.code).toBe(1);
    expect(notSweep.stderr).toMatch(/VP275.*is not a sweep folder/);
  });

  it("the pipeline's sweep: block sets the executor; flags win; bad values are located", () => {
    const y = flagsFromYaml({
      grid: {},
      executor: "slurm",
      slurm: { partition: "gpu", time: "1:00:00", gpus: 1, cpus_per_task: 4, sbatch_args: ["--account=x"] },
    });
    expect(y).toMatchObject({
      executor: "slurm",
      partition: "gpu",
      gpus: "1",
      cpusPerTask: 4,
      sbatchArg: ["--account=x"],
    });
    expect(executorFrom({ sbatchArg: [] }, y).name).toBe("slurm");
    expect(executorFrom({ executor: "local", jobs: 3, sbatchArg: [] }, y).name).toBe("local");
    expect(() => flagsFromYaml({ slurm: { partiton: "gpu" } })).toThrow(/VP271: sweep\.slurm: Unrecognized key/);
    expect(() => flagsFromYaml({ jobs: 0 })).toThrow(/VP271: sweep\.jobs/);
  });

  it("a variant's state: scheduler first, then run folders, then its record (a dead local process is interrupted)", () => {
    const rec = (o: Partial<VariantRecord>): VariantRecord => ({
      variant: "v",
      state: "running",
      executor: "local",
      host: hostname(),
      pid: process.pid,
      started: "",
      ...o,
    });
    expect(variantState("v", { finished: false, started: true, record: rec({}) }).state).toBe("running");
    expect(variantState("v", { finished: false, started: true, record: rec({ pid: 2 ** 22 + 1 }) })).toMatchObject({
      state: "interrupted",
      detail: "its process is gone; re-run to resume",
    });
    expect(variantState("v", { finished: true, started: true, record: rec({ state: "failed" }) }).state).toBe(
      "finished",
    );
    expect(
      variantState("v", {
        finished: false,
        started: false,
        active: { job: "5_1", state: "PENDING", detail: "(Resources)" },
      }),
    ).toEqual({ variant: "v", state: "queued", job: "5_1", detail: "PENDING (Resources)" });
    expect(
      variantState("v", { finished: false, started: true, record: rec({ executor: "slurm", job: "5_1" }) }),
    ).toMatchObject({ state: "interrupted", job: "5_1" });
    expect(variantState("v", { finished: false, started: false }).state).toBe("pending");
  });

  it("a task's threads: the pipeline's, capped by its share (never raised)", () => {
    expect(cappedThreads("auto", 8, 2)).toBe(2);
    expect(cappedThreads(1, 8, 4)).toBe(1);
    expect(cappedThreads(6, 8, undefined)).toBeUndefined();
  });
});
