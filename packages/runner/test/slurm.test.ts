import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCI } from "../../../test-utils/gates.js";
import { cli, tmp } from "./helpers.js";
import {
  folderBytes,
  SLURM_DIR,
  slurmDown,
  slurmInstalled,
  slurmUp,
  submittedJobs,
  TINY_INFER,
  type TinyModel,
  trainTinyModel,
  waitForJobs,
} from "./shard-fixture.js";

// A real single-node Slurm (scripts/slurm.sh: munged, slurmctld, slurmd from Debian's packages).
// Without them the tests skip on a user's machine; under CI a missing Slurm is a failure.
// Measured on the loaded 2-core dev machine: ~2.5 min for the file (sweep ~35 s, failure ~30 s,
// scancel ~45 s, shards ~40 s); most of it is node + tfjs start-up per array task.
const installed = slurmInstalled();
if (!installed && isCI()) {
  describe("Slurm executor", () => {
    it("needs Debian's slurm-wlm and munge (apt-get install slurm-wlm munge)", () => {
      expect.fail("sbatch/munged/slurmctld/slurmd not found, and CI is set: install slurm-wlm and munge");
    });
  });
}

const SWEEP = [
  "sweep",
  "pipelines/example-regression.yaml",
  "--grid",
  "stages.fit.optimizer.lr=1e-3,3e-3",
  "--seeds",
  "0..1",
  "--metric",
  "fit.best",
];

function sweepDir(runs: string, pipeline = "example-regression"): string {
  const root = join(runs, pipeline);
  return join(root, readdirSync(root).find((d) => d.startsWith("sweep-"))!);
}

/** every file under a variant folder, run timestamps replaced, with its bytes (run folder layout + contents) */
function runFiles(dir: string, names: string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (names.includes(e.name))
        out.set(relative(dir, p).replace(/\d{4}-\d\d-\d\dT[\d-]+Z(_\d+)?/g, "<run>"), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

// array tasks each start node + tfjs (~3 s) on 2 shared cores: generous limits, the runs take ~20–40 s each here
const LIMIT = 300_000;

describe.skipIf(!installed)("Slurm executor (single-node cluster from scripts/slurm.sh)", () => {
  let started = false;
  beforeAll(() => {
    started = slurmUp();
    expect(existsSync(join(SLURM_DIR, "slurm.conf"))).toBe(true);
  });
  afterAll(() => {
    // a cluster a developer started stays up
    if (started) slurmDown();
  });

  it(
    "the README's sweep on Slurm: one job array + a summary job; the same summary and run files as --executor local",
    async () => {
      const local = tmp();
      const l = await cli([...SWEEP, "--runs-dir", local]);
      expect(l.code, l.stderr).toBe(0);

      const slurm = tmp();
      const s = await cli([...SWEEP, "--executor", "slurm", "--runs-dir", slurm]);
      expect(s.code, s.stderr).toBe(0);
      expect(s.stdout).toMatch(/submitted Slurm array job \d+ \(4 tasks\), then job \d+/);
      const dir = sweepDir(slurm);
      expect(submittedJobs(dir)).toHaveLength(2);
      const queued = await cli(["sweep", "status", dir]);
      expect(queued.code, queued.stderr).toBe(0);
      expect(queued.stdout).toMatch(/v00-lr=0\.001-seed0\s+(queued|running|finished)\s+\d+_0/);
      await waitForJobs(dir);

      // the summary job wrote it: byte for byte what the local executor wrote
      for (const f of ["summary.json", "summary.csv", "summary.md"])
        expect(readFileSync(join(dir, f), "utf8"), f).toBe(readFileSync(join(sweepDir(local), f), "utf8"));
      // run folders: the same layout and the same metrics.jsonl / summary.json in each variant
      const files = ["metrics.jsonl", "summary.json", "outputs.json", "fingerprint.json"];
      const a = runFiles(sweepDir(local), files);
      const b = runFiles(dir, files);
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      expect(a.size).toBe(17); // 4 variants × 4 files, and the sweep's own summary.json
      for (const [k, v] of a) {
        if (k.endsWith("outputs.json")) continue; // absolute paths differ (another runs folder)
        expect(b.get(k)?.equals(v), k).toBe(true);
      }
      const st = await cli(["sweep", "status", ...SWEEP.slice(1), "--runs-dir", slurm]);
      expect(st.stdout).toContain("(4 finished)");
      expect(st.stdout).toMatch(/\| lr=0\.001 \| \d\.\d{4} ± \d\.\d{4} \| 2 \|/);
      // a later invocation submits nothing and prints the summary
      const again = await cli([...SWEEP, "--executor", "slurm", "--runs-dir", slurm]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain("(0 run, 4 already finished)");
      expect(submittedJobs(dir)).toHaveLength(2);
    },
    LIMIT,
  );

  it(
    "a variant failing on the cluster is reported failed; re-running resubmits only it (and it resumes)",
    async () => {
      const runs = tmp();
      const args = [
        "sweep",
        "pipelines/example-regression.yaml",
        "--set",
        "plugins.1=../packages/runner/test/fixtures/plugins/other",
        "--grid",
        "stages.fit.step.huber={call: {type: example/HuberLoss, delta: 0.5}, in: [pred, y]},{call: {type: other/NaNAfter, after: 20}, in: [pred, y]}",
        "--metric",
        "fit.best",
        "--executor",
        "slurm",
        "--runs-dir",
        runs,
      ];
      const first = await cli(args);
      expect(first.code, first.stderr).toBe(0);
      const dir = sweepDir(runs);
      await waitForJobs(dir);
      const st = await cli(["sweep", "status", dir]);
      expect(st.stdout).toMatch(/v00-\S+\s+finished/);
      expect(st.stdout).toMatch(/v01-\S+\s+failed\s+\d+_1\s+VP220 huber is NaN at iteration 21/);
      const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
      expect(summary.failed.map((f: { variant: string }) => f.variant)).toEqual([expect.stringMatching(/^v01-/)]);
      expect(readFileSync(join(dir, "summary.md"), "utf8")).toMatch(/Failed variants:\n- v01-\S+: VP220/);

      const second = await cli(args);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toMatch(/\[1\/2\] v00-\S+: finished earlier, skipped/);
      expect(second.stdout).toMatch(/submitted Slurm array job \d+ \(1 tasks\)/);
      await waitForJobs(dir);
      const subs = JSON.parse(readFileSync(join(dir, "slurm", "submissions.json"), "utf8"));
      expect(subs.map((x: { tasks: string[] }) => x.tasks.length)).toEqual([2, 1]);
      expect(subs[1].tasks[0]).toMatch(/^v01-/);
      // the resubmitted variant resumed from its last checkpoint (iteration 16); the test loss counts its
      // calls per process, so the resumed run stays finite and the variant now finishes
      expect((await cli(["sweep", "status", dir])).stdout).toContain("(2 finished)");
      const logs = readdirSync(join(dir, "slurm", "logs")).map((f) =>
        readFileSync(join(dir, "slurm", "logs", f), "utf8"),
      );
      expect(logs.some((t) => t.includes("v01-") && t.includes("resuming in"))).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")).failed).toEqual([]);
    },
    LIMIT,
  );

  it(
    "scancel leaves the sweep resumable: cancelled variants are interrupted, a re-run resumes them",
    async () => {
      // slow enough (a few seconds per variant) that the cancel lands while the first variant trains
      const slow = [
        "sweep",
        "pipelines/example-regression.yaml",
        "--seeds",
        "0..1",
        "--metric",
        "fit.best",
        "--set",
        "stages.fit.data.train=2048",
        "--set",
        "stages.fit.model.hidden=[64, 64]",
        "--set",
        "stages.fit.epochs=6",
      ];
      const runs = tmp();
      const sub = await cli([...slow, "--executor", "slurm", "--max-parallel", "1", "--runs-dir", runs]);
      expect(sub.code, sub.stderr).toBe(0);
      const dir = sweepDir(runs);
      const array = submittedJobs(dir)[0];
      const fitRoot = join(dir, "v00-base-seed0", "example-regression", "fit");
      const log = () => {
        if (!existsSync(fitRoot)) return 0;
        const r = readdirSync(fitRoot)[0];
        const f = r && join(fitRoot, r, "checkpoints", "last.safetensors");
        return f && existsSync(f) ? statSync(f).size : 0;
      };
      const t0 = Date.now();
      while (log() === 0 && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 100));
      expect(spawnSync("scancel", [array]).status).toBe(0);
      await waitForJobs(dir);
      const st = await cli(["sweep", "status", dir]);
      expect(st.stdout, "the variant finished before the cancel landed").toMatch(
        /v00-base-seed0\s+interrupted\s+\d+_0\s+no longer queued; re-run to resume/,
      );
      expect(st.stdout).toMatch(/v00-base-seed1\s+(pending|interrupted)/);
      expect(existsSync(join(dir, "summary.json"))).toBe(false);

      const again = await cli([...slow, "--executor", "slurm", "--runs-dir", runs]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/\(2 tasks\)/);
      await waitForJobs(dir);
      expect((await cli(["sweep", "status", dir])).stdout).toContain("(2 finished)");
      // resumed in its run directory (not started anew), and the numbers are an uninterrupted run's
      expect(readdirSync(fitRoot)).toHaveLength(1);
      const logs = join(dir, "slurm", "logs");
      const resumed = readdirSync(logs).filter((f) => readFileSync(join(logs, f), "utf8").includes("resuming in"));
      expect(resumed.length).toBeGreaterThanOrEqual(1);
      const local = tmp();
      const l = await cli([...slow, "--runs-dir", local]);
      expect(l.code, l.stderr).toBe(0);
      expect(readFileSync(join(dir, "summary.json"), "utf8")).toBe(
        readFileSync(join(sweepDir(local), "summary.json"), "utf8"),
      );
    },
    LIMIT,
  );

  describe("sharded cohort inference", () => {
    let model: TinyModel;
    beforeAll(async () => {
      model = await trainTinyModel();
    });

    it(
      "--executor slurm --shards 2 writes the label maps the local executor writes; a re-run fills only missing cases",
      async () => {
        const base = [
          "infer",
          TINY_INFER,
          "--checkpoint",
          model.checkpoint,
          "--input",
          model.datalist,
          "--split",
          "test",
        ];
        const ref = join(tmp(), "ref");
        const l = await cli([...base, "--output", ref, "--runs-dir", model.runs, "--backend", "cpu"]);
        expect(l.code, l.stderr).toBe(0);

        const out = join(tmp(), "out");
        const runs = tmp();
        const args = [...base, "--output", out, "--runs-dir", runs, "--backend", "cpu", "--executor", "slurm"];
        const s = await cli([...args, "--shards", "2"]);
        expect(s.code, s.stderr).toBe(0);
        expect(s.stderr).toContain("5 of 5 cases to predict in 2 shards (slurm)");
        const dir = join(runs, "tiny-infer", readdirSync(join(runs, "tiny-infer"))[0]);
        await waitForJobs(dir);
        const want = folderBytes(ref);
        expect(want.size).toBe(5);
        const got = folderBytes(out);
        expect([...got.keys()]).toEqual([...want.keys()]);
        for (const [f, b] of want) expect(got.get(f)?.equals(b), f).toBe(true);
        expect(JSON.parse(readFileSync(join(dir, "check.json"), "utf8"))).toMatchObject({ total: 5, written: 5 });

        const [gone] = [...want.keys()];
        rmSync(join(out, gone));
        const again = await cli(args);
        expect(again.code, again.stderr).toBe(0);
        expect(again.stderr).toContain("1 of 5 cases to predict in 1 shard (slurm)");
        await waitForJobs(dir);
        expect(readFileSync(join(out, gone)).equals(want.get(gone)!)).toBe(true);
        const done = await cli(args);
        expect(done.stdout).toContain("5 of 5 cases written");
      },
      LIMIT,
    );
  });
});
