/**
 * Issue 11 ("Trust"), part A: config paths are data, plugins load only from the project tree (or
 * with an explicit flag), extends reads only YAML files, limits give diagnostics, failures stay
 * contained (sweep variants, component errors, disk errors) and leave no empty run directories.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeNifti } from "@voxelpipe/transforms";
import { describe, expect, it } from "vitest";
import { buildChain } from "../src/data/chain-source.js";
import { builtinRegistries } from "../src/registries.js";
import { removeEmptyRunDirs, runDirMark, writeError } from "../src/run/run-dir.js";
import { cli, FIXTURES, REPO, tmp } from "./helpers.js";

const PIPE = "pipelines/example-regression.yaml";
const HOSTILE = "plugins.1=../packages/runner/test/fixtures/plugins/hostile";

describe("config paths are data", () => {
  it("--set __proto__.x and a sweep grid key __proto__.x are refused; Object.prototype is untouched", async () => {
    const r = await cli(["print", PIPE, "--set", "__proto__.polluted=yes"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[VP012]: "__proto__" cannot be used as a path segment');
    const s = await cli([
      "sweep",
      PIPE,
      "--set",
      'sweep={grid: {"__proto__.polluted": [1, 2]}}',
      "--metric",
      "fit.best",
    ]);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain("VP012");
    const g = await cli(["sweep", PIPE, "--grid", "constructor.prototype.x=1,2", "--metric", "fit.best"]);
    expect(g.stderr).toContain("VP012");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("list indices: an existing one or the end; negative and huge ones are errors", async () => {
    const neg = await cli(["validate", PIPE, "--set", "stages.fit.model.hidden.-1=3"]);
    expect(neg.code).toBe(1);
    expect(neg.stderr).toContain('"-1" is not an index');
    const huge = await cli(["validate", PIPE, "--set", "stages.fit.model.hidden.99999999=3"]);
    expect(huge.stderr).toContain("index 99999999 is past the end of stages.fit.model.hidden (2 items)");
    const ok = await cli([
      "print",
      PIPE,
      "--json",
      "--path",
      "stages.fit.model.hidden",
      "--set",
      "stages.fit.model.hidden.2=5",
    ]);
    expect(JSON.parse(ok.stdout)).toEqual([32, 32, 5]);
  });
});

describe("plugins are code: only from the project tree unless allowed", () => {
  const outside = tmp("vp-outside-");
  writeFileSync(join(outside, "evil.mjs"), "globalThis.__vpTrustEvil = true;\nexport default {};\n");
  const proj = tmp("vp-proj-");
  writeFileSync(join(proj, "package.json"), "{}");
  mkdirSync(join(proj, "pipes"));
  const pipeline = join(proj, "pipes", "p.yaml");
  writeFileSync(pipeline, `version: 1\nname: p\nplugins: [${join(outside, "evil.mjs")}]\nstages: {}\n`);

  it("refuses a plugin outside the project before importing it", async () => {
    const r = await cli(["validate", pipeline]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[VP151]");
    expect(r.stderr).toContain(`is outside this pipeline's project (${proj})`);
    expect(r.stderr).toContain("--allow-plugin");
    expect((globalThis as Record<string, unknown>).__vpTrustEvil).toBeUndefined();
  });

  it("--allow-plugin and --allow-plugins-anywhere let it load", async () => {
    for (const flags of [["--allow-plugin", outside], ["--allow-plugins-anywhere"]]) {
      const r = await cli(["validate", pipeline, ...flags]);
      // it loads (and is then reported for exporting no plugin)
      expect(r.stderr).toContain("is not a voxelpipe plugin");
    }
    expect((globalThis as Record<string, unknown>).__vpTrustEvil).toBe(true);
    delete (globalThis as Record<string, unknown>).__vpTrustEvil;
  });

  it("a package folder inside the tree whose entry points outside is refused; package names with .. are not names", async () => {
    mkdirSync(join(proj, "pkg"));
    writeFileSync(join(proj, "pkg", "package.json"), `{ "main": "${join(outside, "evil.mjs")}" }`);
    writeFileSync(pipeline, "version: 1\nname: p\nplugins: [../pkg, x/../../../../etc]\nstages: {}\n");
    const r = await cli(["validate", pipeline]);
    expect(r.stderr).toMatch(/plugin "..\/pkg" has its entry .*evil\.mjs outside this pipeline's project/);
    expect(r.stderr).toContain('plugin "x/../../../../etc" is neither an installed package name nor a path');
    expect((globalThis as Record<string, unknown>).__vpTrustEvil).toBeUndefined();
  });
});

describe("extends reads only YAML files under the size cap", () => {
  const dir = tmp("vp-ext-");
  it("refuses /dev/zero and /etc/passwd without printing their content", async () => {
    for (const target of ["/dev/zero", "/etc/passwd", "/etc/hostname"]) {
      const f = join(dir, "e.yaml");
      writeFileSync(f, `version: 1\nname: e\nextends: [${target}]\nstages: {}\n`);
      const r = await cli(["validate", f]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("error[VP004]");
      expect(r.stderr).toContain(`extends: [${target}]`); // the frame shows the pipeline, not the target
      expect(r.stderr).not.toContain("root:");
    }
  });

  it("a file over the cap is refused before parsing; the flag and the environment raise the cap", async () => {
    const f = join(dir, "big.yaml");
    writeFileSync(f, `version: 1\nname: big\nstages: {}\nvars: { s: "${"x".repeat(2 * 1024 * 1024)}" }\n`);
    const r = await cli(["validate", f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[VP013]");
    expect(r.stderr).toContain("--max-pipeline-bytes");
    const ok = await cli(["validate", f, "--max-pipeline-bytes", String(4 * 1024 * 1024)]);
    expect(ok.code, ok.stderr).toBe(0);
    process.env.VOXELPIPE_MAX_PIPELINE_BYTES = String(4 * 1024 * 1024);
    try {
      expect((await cli(["validate", f])).code).toBe(0);
    } finally {
      delete process.env.VOXELPIPE_MAX_PIPELINE_BYTES;
    }
  });
});

describe("failures stay contained", () => {
  it("option values that are not numbers are diagnostics", async () => {
    const r = await cli(["synth", "--cases", "abc"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[VP111]: --cases expects a whole number");
    expect(r.stderr).not.toContain("internal error");
  });

  it("an unknown sweep metric is an error with did-you-mean before anything runs", async () => {
    const runs = tmp();
    const r = await cli(["sweep", PIPE, "--metric", "fit.bestt", "--runs-dir", runs]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[VP190]");
    expect(r.stderr).toContain('did you mean "fit.best"?');
    expect(readdirSync(runs)).toEqual([]);
  });

  it("a loss returning a non-scalar names the loss and its step node; no empty run directory is left", async () => {
    const runs = tmp();
    const r = await cli([
      "run",
      PIPE,
      "--backend",
      "cpu",
      "--runs-dir",
      runs,
      "--set",
      HOSTILE,
      "--set",
      "stages.fit.step.mse.call.type=hostile/UnreducedLoss",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[VP201]: loss hostile/UnreducedLoss (step node "mse") returned a tensor of shape');
    expect(r.stderr).toContain("= at: stages.fit.step.mse");
    expect(readdirSync(runs)).toEqual([]);
  });

  it("a component that throws while being built is reported with its name and config path", async () => {
    const r = await cli([
      "run",
      PIPE,
      "--backend",
      "cpu",
      "--runs-dir",
      tmp(),
      "--set",
      HOSTILE,
      "--set",
      "stages.fit.step.mse.call.type=hostile/BrokenCtorLoss",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[VP201\]: loss hostile\/BrokenCtorLoss \(plugin [^)]+\) failed to build/);
    expect(r.stderr).toContain("= at: stages.fit.step.mse.call");
  });

  it("a failing sweep variant is recorded and the sweep goes on; the exit code says some failed", async () => {
    const runs = tmp();
    const r = await cli([
      "sweep",
      PIPE,
      "--backend",
      "cpu",
      "--runs-dir",
      runs,
      "--set",
      HOSTILE,
      "--set",
      "stages.fit.epochs=1",
      "--grid",
      "stages.fit.step.mse.call.type=MSELoss,hostile/ThrowingLoss",
      "--metric",
      "fit.best",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[VP270]: 1 of 2 sweep variants failed");
    expect(r.stdout).toContain("(1 run, 0 already finished, 1 failed)");
    const root = join(runs, "example-regression");
    const sweep = join(root, readdirSync(root).find((d) => d.startsWith("sweep-"))!);
    const summary = JSON.parse(readFileSync(join(sweep, "summary.json"), "utf8"));
    expect(summary.failed).toHaveLength(1);
    expect(summary.failed[0].diagnostics[0].code).toBe("VP201");
    expect(summary.rows[0].metrics["fit.best"].n).toBe(1);
    expect(summary.rows[1].failed[0].message).toContain("boom inside compute");
    expect(readFileSync(join(sweep, "summary.md"), "utf8")).toContain("Failed variants:");
    // the failed variant left no empty run directory
    const failedVariant = summary.failed[0].variant;
    expect(existsSync(join(sweep, failedVariant, "example-regression", "fit"))).toBe(false);
  });

  it("a runs dir that cannot be made names the path", async () => {
    const dir = tmp();
    const file = join(dir, "not-a-folder");
    writeFileSync(file, "x");
    const r = await cli(["run", PIPE, "--backend", "cpu", "--runs-dir", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[VP005]: cannot create the run directory");
    expect(r.stderr).toContain(file);
  });

  it("disk full and read-only become diagnostics that name the path", () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    expect(writeError("/runs/x/metrics.jsonl", enospc).diagnostics[0]).toMatchObject({
      code: "VP005",
      message: "cannot write /runs/x/metrics.jsonl: the disk is full (or the quota is used up)",
    });
    const erofs = Object.assign(new Error("EROFS"), { code: "EROFS" });
    expect(writeError("/ro/runs", erofs).message).toContain("/ro/runs: the file system is read-only");
  });

  it("removeEmptyRunDirs keeps runs that produced something", async () => {
    const mark = runDirMark();
    const runs = tmp();
    const { newRunDir } = await import("../src/run/run-dir.js");
    const empty = newRunDir(runs, "p", "a");
    writeFileSync(join(empty, "env.json"), "{}");
    const kept = newRunDir(runs, "p", "b");
    writeFileSync(join(kept, "metrics.jsonl"), '{"step":1}\n');
    expect(removeEmptyRunDirs(mark)).toEqual([empty]);
    expect(existsSync(join(runs, "p", "a"))).toBe(false);
    expect(existsSync(kept)).toBe(true);
  });
});

describe("REPO", () => {
  it("is the working copy the tests run in", () => expect(existsSync(join(REPO, PIPE))).toBe(true));
});

describe("worker threads reload plugins under the main thread's trust", () => {
  it("a chain built from a pipeline's data (as a worker does) refuses a plugin outside the tree unless it was allowed", async () => {
    const plugin = join(FIXTURES, "plugins", "other");
    const source = (trust?: { allow?: string[]; anywhere?: boolean }) => ({
      pipeline: { value: { plugins: [plugin], stages: { fit: {} } }, baseDir: tmp(), seed: 0, stageOutputs: {}, trust },
      stage: "fit",
      list: "transforms.train",
      rngSeed: 0,
      backend: "cpu",
    });
    for (const trust of [undefined, {}, { allow: [join(FIXTURES, "plugins", "hostile")] }]) {
      const err = await buildChain(source(trust), builtinRegistries()).catch((e) => e);
      expect(err?.diagnostics?.[0]?.code, JSON.stringify(trust)).toBe("VP151");
    }
    expect(await buildChain(source({ allow: [plugin] }), builtinRegistries())).toEqual([]);
    expect(await buildChain(source({ anywhere: true }), builtinRegistries())).toEqual([]);
  });

  it("the executor hands the trust it compiled with to stages (what worker sources carry)", async () => {
    const runs = tmp();
    const dir = tmp();
    const plugin = join(FIXTURES, "plugins", "other");
    const file = join(dir, "p.yaml");
    writeFileSync(
      file,
      `version: 1
name: workers
plugins: [${plugin}]
stages:
  pre:
    kind: preprocess
    data: { type: Datalist, datalist: ${join(dir, "dl.json")} }
    loader: { num_workers: 1 }
    transforms: [{ type: LoadImage, keys: [image] }]
`,
    );
    await writeNifti(join(dir, "a.nii.gz"), {
      data: new Float32Array(8),
      shape: [2, 2, 2],
      channels: 1,
      affine: Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
      meta: {},
    });
    writeFileSync(join(dir, "dl.json"), JSON.stringify({ training: [{ image: "a.nii.gz" }] }));
    const r = await cli(["run", file, "--runs-dir", runs, "--backend", "cpu", "--allow-plugin", plugin]);
    expect(r.code, r.stderr).toBe(0);
  });
});
