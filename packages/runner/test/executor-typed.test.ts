import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  compilePipeline,
  createMemoryLogger,
  defineLoss,
  definePlugin,
  defineStage,
  isCompiledEntry,
  tf,
  z,
} from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { builtinRegistries } from "../src/registries.js";
import { runPipeline } from "../src/run/executor.js";
import { cli, REPO, tmp } from "./helpers.js";

/** stage kinds that record what they receive, and a loss whose schema doubles `k` (counting its runs) */
function probePlugin() {
  const seen: Record<string, unknown> = {};
  const built: Record<string, unknown> = {};
  let parses = 0;
  const Scaled = defineLoss({
    name: "Scaled",
    args: z.object({
      k: z.number().transform((x) => {
        parses++;
        return x * 2;
      }),
      from: z.string().optional(),
    }),
    create: (a) => ({ args: a, compute: () => tf.scalar(0) }),
  });
  const emit = defineStage({
    name: "emit",
    outputs: ["out"],
    schema: () => z.object({ n: z.number().default(2) }),
    run: async (c, rt) => {
      seen[rt.name] = c;
      rt.artifacts.publish("out", join(rt.artifacts.dir, "made.txt"));
    },
  });
  const take = defineStage({
    name: "take",
    schema: (s) =>
      z.object({
        from: z.string(),
        tag: z.string().transform((t) => t.toUpperCase()),
        loss: s.component("loss"),
        splits: z.object({ train: z.string().default("training") }).prefault({}),
      }),
    run: async (c, rt) => {
      seen[rt.name] = c;
      built[rt.name] = await rt.build("loss", "loss");
    },
  });
  const plugin = definePlugin({
    meta: { name: "probe", version: "0", namespace: "probe" },
    components: [Scaled, emit, take],
  });
  return { plugin, seen, built, parses: () => parses };
}

describe("the executor runs the compiled configuration", () => {
  it("a stage receives the compiled object: defaults and schema transforms as compiled, outputs substituted, nothing parsed again", async () => {
    const dir = tmp();
    const file = join(dir, "p.yaml");
    writeFileSync(
      file,
      `version: 1
name: typed-run
stages:
  first: { kind: emit }
  second:
    kind: take
    needs: [first]
    from: "@stages.first.outputs.out"
    tag: hello
    loss: { type: Scaled, k: 3, from: "@stages.first.outputs.out" }
`,
    );
    const probe = probePlugin();
    const registries = builtinRegistries();
    registries.use(probe.plugin);
    const p = (await compilePipeline(file, { registries })).pipeline!;
    const parsesAtCompile = probe.parses();
    expect(parsesAtCompile).toBe(1);
    const runs = join(dir, "runs");
    const results = await runPipeline(p, registries, { runsDir: runs, backend: "cpu", logger: createMemoryLogger() });
    // without output references the stage gets the very object compilation made
    expect(probe.seen.first).toBe(p.stages.get("first")!.config);
    expect(probe.seen.first).toEqual({ n: 2 });
    const made = results[0].outputs.out;
    expect(probe.seen.second).toEqual({
      from: made,
      tag: "HELLO", // transformed once, at compile time (a second parse would fail: "HELLO" is fine, k would double twice)
      splits: { train: "training" },
      loss: { type: "Scaled", k: 6, from: made },
    });
    // the component was built from its compiled arguments: k doubled once, the output substituted
    expect((probe.built.second as { args: unknown }).args).toEqual({ k: 6, from: made });
    expect(probe.parses()).toBe(parsesAtCompile);
  });

  it("a train stage's step losses and optimizer come out of compilation parsed (defaults applied)", async () => {
    const p = (
      await compilePipeline(join(REPO, "pipelines", "example-regression.yaml"), { registries: builtinRegistries() })
    ).pipeline!;
    const c = p.stages.get("fit")!.config as {
      step: Record<string, { call: unknown }>;
      optimizer: Record<string, unknown>;
      splits: unknown;
    };
    expect(isCompiledEntry(c.step.huber.call)).toBe(true);
    expect(c.step.huber.call).toMatchObject({ type: "example/HuberLoss", delta: 0.5 });
    expect(isCompiledEntry(c.optimizer)).toBe(true);
    expect(Object.keys(c.optimizer).length).toBeGreaterThan(2); // lr plus the schema's defaults
    expect(c.splits).toEqual({ train: "training", val: "validation" });
  });

  it("a broken component reached through a reference stops `run` with a located diagnostic before any stage runs", async () => {
    const runs = tmp();
    const set = [
      "--set",
      "vars.m={type: MLP, in_features: four, hidden: [8]}",
      "--set",
      'stages.fit.model="@vars.m"',
      "--set",
      "vars.tf=[{type: NoSuchTransform}]",
    ];
    // (before: validation passed, and the run died in the component resolver with a ZodError, exit 70)
    const r = await cli(["run", "pipelines/example-regression.yaml", "--runs-dir", runs, "--backend", "cpu", ...set]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[VP111\][^\n]*in_features[\s\S]*stages\.fit\.model/);
    expect(r.stderr).toContain("--set #2");
    expect(r.stderr).not.toMatch(/internal error|ZodError/);
    expect(existsSync(join(runs, "example-regression"))).toBe(false);
    const v = await cli(["validate", "pipelines/example-regression.yaml", ...set]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/error\[VP111\]/);
  });

  it("a stage's list reference is parsed at compile time: a bad entry in it is a diagnostic, not a run-time ZodError", async () => {
    const dir = tmp();
    mkdirSync(join(dir, "in"));
    const file = join(dir, "p.yaml");
    writeFileSync(
      file,
      `version: 1
name: typed-list
vars:
  pre: [{ type: LoadImage, keys: [image] }, { type: ScaleIntensityRange, keys: [image], a_min: "zero", a_max: 1, b_min: 0, b_max: 1 }]
stages:
  predict:
    kind: infer
    model: { type: UNETR, in_channels: 1, out_channels: 2, img_size: [16, 16, 16], feature_size: 4, hidden_size: 24, mlp_dim: 48, num_heads: 2 }
    input: in
    transforms: "@vars.pre"
`,
    );
    const r = await compilePipeline(file, { registries: builtinRegistries() });
    expect(r.pipeline).toBeUndefined();
    expect(r.diagnostics.map((d) => [d.code, d.path, d.loc?.line])).toEqual([
      // located at the reference (line 10), the copied list's entry named in the path
      ["VP111", "stages.predict.transforms[1].a_min", 10],
    ]);
  });
});
