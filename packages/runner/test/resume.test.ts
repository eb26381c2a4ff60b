import { spawn } from "node:child_process";
import { appendFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeSafetensors } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { cli, REPO, tmp } from "./helpers.js";

const BIN = join(REPO, "packages", "runner", "bin", "voxelpipe.js");
// slow enough per epoch that the kill lands mid-run
const SET = [
  "--set",
  "stages.fit.data.train=2048",
  "--set",
  "stages.fit.model.hidden=[128, 128]",
  "--set",
  "stages.fit.epochs=6",
];

function onlyRun(runs: string): string {
  const root = join(runs, "example-regression", "fit");
  const dirs = readdirSync(root);
  expect(dirs).toHaveLength(1);
  return join(root, dirs[0]);
}

function checkpointEpoch(file: string): number {
  try {
    return JSON.parse(decodeSafetensors(readFileSync(file)).metadata.voxelpipe).state.epoch;
  } catch {
    return 0; // not there yet (atomic rename: never torn)
  }
}

const base = ["run", "pipelines/example-regression.yaml", "--backend", "cpu", ...SET];
let straightRun: Promise<string> | undefined;
/** one uninterrupted run, shared by the tests */
function straight(): Promise<string> {
  straightRun ??= (async () => {
    const runs = tmp();
    expect((await cli([...base, "--runs-dir", runs])).code).toBe(0);
    return onlyRun(runs);
  })();
  return straightRun;
}

/** start a run in a child process and SIGKILL it once `when(runDir)` holds */
async function killWhen(runs: string, when: (dir: string) => boolean): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...base, "--runs-dir", runs], { cwd: REPO, stdio: "ignore" });
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on("exit", (_c, sig) => res(sig)));
  let sig: NodeJS.Signals | null = null;
  for (;;) {
    const root = join(runs, "example-regression", "fit");
    const dir = existsSync(root) ? readdirSync(root)[0] : undefined;
    if (dir && when(join(root, dir))) {
      child.kill("SIGKILL");
      sig = await exited;
      break;
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(sig, "the run finished before it could be killed").toBe("SIGKILL");
  expect(existsSync(join(onlyRun(runs), "outputs.json"))).toBe(false);
}

/** metrics.jsonl and both checkpoints byte-identical to the uninterrupted run's */
async function expectSameAsStraight(runs: string): Promise<void> {
  const a = await straight();
  const b = onlyRun(runs);
  expect(readFileSync(join(b, "metrics.jsonl"), "utf8")).toBe(readFileSync(join(a, "metrics.jsonl"), "utf8"));
  for (const which of ["last", "best"]) {
    const wa = decodeSafetensors(readFileSync(join(a, "checkpoints", `${which}.safetensors`)));
    const wb = decodeSafetensors(readFileSync(join(b, "checkpoints", `${which}.safetensors`)));
    expect([...wb.tensors.keys()]).toEqual([...wa.tensors.keys()]);
    for (const [k, t] of wa.tensors)
      expect(Buffer.from(wb.tensors.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
  }
  expect(existsSync(join(b, "run.lock")), "the lock is released").toBe(false);
}

function lines(file: string): number {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0;
}

describe("resume", () => {
  it("a run killed with SIGKILL after a checkpoint and resumed ends exactly like an uninterrupted run", async () => {
    const killed = tmp();
    await killWhen(killed, (d) => checkpointEpoch(join(d, "checkpoints", "last.safetensors")) >= 2);

    const resumed = await cli([...base, "--runs-dir", killed, "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed from iteration \d+ \(epoch [2-5]\)/);
    await expectSameAsStraight(killed);

    // a finished run is not redone
    const again = await cli([...base, "--runs-dir", killed, "--resume"]);
    expect(again.stdout).toContain("fit: already finished in");

    // ... unless it was made with other settings: refused, with the differing key
    const changed = await cli([...base, "--runs-dir", killed, "--resume", "--set", "stages.fit.optimizer.lr=0.1"]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain("VP230");
    expect(changed.stderr).toContain("stages.fit.optimizer.lr: 0.003 → 0.1");
    expect(changed.stderr).not.toContain("already finished");
    // --new-on-change starts a new run for it instead
    const fresh = await cli([
      ...base,
      "--runs-dir",
      killed,
      "--resume",
      "--new-on-change",
      "--set",
      "stages.fit.optimizer.lr=0.1",
      "--set",
      "stages.fit.epochs=1",
    ]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(readdirSync(join(killed, "example-regression", "fit"))).toHaveLength(2);
  });

  it("killed before the first checkpoint with a torn last line, then two concurrent resumes: one run, identical files", async () => {
    const killed = tmp();
    await killWhen(
      killed,
      (d) => lines(join(d, "metrics.jsonl")) >= 2 && !existsSync(join(d, "checkpoints", "last.safetensors")),
    );
    const dir = onlyRun(killed);
    expect(existsSync(join(dir, "run.lock")), "a killed run leaves its lock behind").toBe(true);
    appendFileSync(join(dir, "metrics.jsonl"), '{"stage":"fit","epoch":1,"itera'); // torn by the kill
    const resume = () =>
      new Promise<{ code: number | null; stderr: string }>((res) => {
        const c = spawn(process.execPath, [BIN, ...base, "--runs-dir", killed, "--resume"], { cwd: REPO });
        let stderr = "";
        c.stderr.on("data", (d) => {
          stderr += d;
        });
        c.on("exit", (code) => res({ code, stderr }));
      });
    const both = await Promise.all([resume(), resume()]);
    // one resumes (the stale lock of the killed process is broken); the other is refused while it
    // runs (VP231), or finds it finished
    const ok = both.filter((r) => r.code === 0);
    expect(ok.length, both.map((r) => r.stderr).join("\n---\n")).toBeGreaterThanOrEqual(1);
    for (const r of both) if (r.code !== 0) expect(r.stderr).toContain("VP231");
    expect(both.map((r) => r.stderr).join("")).not.toMatch(/VP0?70|internal error|at .*\.js:\d+/);
    await expectSameAsStraight(killed);
  });
});
