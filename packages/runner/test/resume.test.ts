import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
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

describe("resume", () => {
  it("a run killed with SIGKILL after a checkpoint and resumed ends exactly like an uninterrupted run", async () => {
    const base = ["run", "pipelines/example-regression.yaml", "--backend", "cpu", ...SET];
    const straight = tmp();
    expect((await cli([...base, "--runs-dir", straight])).code).toBe(0);

    const killed = tmp();
    const child = spawn(process.execPath, [BIN, ...base, "--runs-dir", killed], { cwd: REPO, stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on("exit", (_c, sig) => res(sig)));
    let sig: NodeJS.Signals | null = null;
    for (;;) {
      const root = join(killed, "example-regression", "fit");
      const dir = existsSync(root) ? readdirSync(root)[0] : undefined;
      if (dir && checkpointEpoch(join(root, dir, "checkpoints", "last.safetensors")) >= 2) {
        child.kill("SIGKILL");
        sig = await exited;
        break;
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(sig, "the run finished before it could be killed").toBe("SIGKILL");
    const dir = onlyRun(killed);
    expect(existsSync(join(dir, "outputs.json"))).toBe(false);

    const resumed = await cli([...base, "--runs-dir", killed, "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed from iteration \d+ \(epoch [2-5]\)/);
    const a = onlyRun(straight);
    const b = onlyRun(killed);
    expect(readFileSync(join(b, "metrics.jsonl"), "utf8")).toBe(readFileSync(join(a, "metrics.jsonl"), "utf8"));
    const wa = decodeSafetensors(readFileSync(join(a, "checkpoints", "last.safetensors")));
    const wb = decodeSafetensors(readFileSync(join(b, "checkpoints", "last.safetensors")));
    expect([...wb.tensors.keys()]).toEqual([...wa.tensors.keys()]);
    for (const [k, t] of wa.tensors)
      expect(Buffer.from(wb.tensors.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);

    // a finished run is not redone
    const again = await cli([...base, "--runs-dir", killed, "--resume"]);
    expect(again.stdout).toContain("fit: already finished in");
  });
});
