import { existsSync } from "node:fs";
import { join } from "node:path";
import { MAX_IMAGE_BYTES_ENV } from "@voxelpipe/transforms";
import { describe, expect, it } from "vitest";
import { cli, tmp } from "./helpers.js";

/** the commands that take --backend and --threads, with what else each needs to get past its own checks */
const commands = (runs: string): Record<string, string[]> => ({
  run: ["run", "pipelines/example-regression.yaml", "--runs-dir", runs],
  infer: [
    "infer",
    "pipelines/example-regression.yaml",
    "--checkpoint",
    join(runs, "none.safetensors"),
    "--input",
    runs,
    "--output",
    join(runs, "out"),
    "--runs-dir",
    runs,
  ],
  sweep: ["sweep", "pipelines/example-regression.yaml", "--seeds", "0", "--runs-dir", runs],
});

describe("the flags every running command shares are parsed one way", () => {
  it("a misspelt --backend is VP180 at --backend before anything runs, for run, infer and sweep alike", async () => {
    const runs = tmp();
    for (const [name, args] of Object.entries(commands(runs))) {
      const r = await cli([...args, "--backend", "webgpuu"]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(1);
      expect(r.stderr, name).toContain('error[VP180]: unknown backend "webgpuu"');
      expect(r.stderr, name).toContain("= at: --backend");
      expect(r.stderr, name).toContain("expected: auto or one of tensorflow-gpu, tensorflow, webgpu, webgl, wasm, cpu");
    }
    expect(existsSync(join(runs, "out")), "nothing ran").toBe(false);
  });

  it("--threads takes a whole number ≥ 1 or auto on run and infer; anything else is VP111 at --threads", async () => {
    const runs = tmp();
    const { run, infer } = commands(runs);
    for (const args of [run, infer]) {
      for (const bad of ["0", "two", "1.5"]) {
        const r = await cli([...args, "--threads", bad]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("error[VP111]: --threads expects a whole number ≥ 1");
      }
    }
    // auto gets past the flags: infer then stops at its missing checkpoint, not at --threads
    const auto = await cli([...infer, "--threads", "auto", "--backend", "cpu"]);
    expect(auto.code).toBe(1);
    expect(auto.stderr).not.toContain("--threads");
    expect(auto.stderr).toContain("none.safetensors");
  });

  it("--max-image-bytes is checked before anything runs, and an infer leaves no limit behind in the process", async () => {
    const runs = tmp();
    const { run, infer } = commands(runs);
    for (const args of [run, infer]) {
      const r = await cli([...args, "--max-image-bytes", "8XB"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error[VP111]: --max-image-bytes "8XB" is not a size');
    }
    const before = process.env[MAX_IMAGE_BYTES_ENV];
    const r = await cli([...infer, "--max-image-bytes", "2GiB", "--backend", "cpu"]);
    expect(r.stderr).toContain("none.safetensors");
    expect(process.env[MAX_IMAGE_BYTES_ENV]).toBe(before);
  });
});
