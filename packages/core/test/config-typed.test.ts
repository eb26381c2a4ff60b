import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { compilePipeline } from "../src/config/compile.js";
import { isCompiledEntry } from "../src/config/slots.js";
import { stageContainer } from "../src/di/components.js";
import { runContainer, Services } from "../src/di/tokens.js";
import type { VoxelpipeError } from "../src/errors.js";
import { createMemoryLogger } from "../src/logger.js";
import { defineLoss, definePlugin } from "../src/sdk/define.js";
import { Registries } from "../src/sdk/registry.js";
import { defineStage } from "../src/sdk/stage.js";

/** a loss whose `k` is doubled by its schema, counting how often the schema ran */
function probeRegistries() {
  const parses = { k: 0, tag: 0 };
  const Scaled = defineLoss({
    name: "Scaled",
    args: z.object({
      k: z.number().transform((x) => {
        parses.k++;
        return x * 2;
      }),
      from: z.string().optional(),
      size: z.number().default(4),
    }),
    create: (a, ctx) => ({ args: a, path: ctx.path, compute: () => tf.scalar(0) }),
  });
  const probe = defineStage({
    name: "probe",
    outputs: ["out"],
    schema: (s) =>
      z.object({
        loss: s.component("loss"),
        extra: z.array(s.component("loss")).default([]),
        n: z.number().int().default(3),
        tag: z.string().transform((t) => {
          parses.tag++;
          return t.toUpperCase();
        }),
        splits: z.object({ train: z.string().default("training"), val: z.string().default("validation") }).prefault({}),
      }),
    run: async () => {},
  });
  const registries = new Registries();
  registries.use(definePlugin({ meta: { name: "probe", version: "0", namespace: "p" }, components: [Scaled, probe] }));
  return { registries, parses };
}

function pipeline(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "vp-typed-"));
  const file = join(dir, "p.yaml");
  writeFileSync(file, yaml);
  return file;
}

describe("compilation returns the parsed, typed configuration", () => {
  it("top level and every stage as their schemas' output: defaults applied, transforms run once", async () => {
    const { registries, parses } = probeRegistries();
    const file = pipeline(`version: 1
name: typed
vars:
  shared: { type: Scaled, k: 5 }
  losses: [{ type: Scaled, k: 1 }, "@vars.shared"]
stages:
  a:
    kind: probe
    loss: { type: Scaled, k: 3, from: "@stages.a.outputs.out" }
    extra: "@vars.losses"
    tag: hello
`);
    const r = await compilePipeline(file, { registries });
    expect(r.diagnostics).toEqual([]);
    const p = r.pipeline!;
    // top-level defaults come from the schema, not from code
    expect(p.settings).toMatchObject({ name: "typed", seed: 0, backend: "auto", threads: "auto" });
    expect([p.seed, p.backend, p.threads]).toEqual([0, "auto", "auto"]);
    const c = p.stages.get("a")!.config as Record<string, unknown>;
    expect(c.n).toBe(3);
    expect(c.tag).toBe("HELLO");
    expect(c.splits).toEqual({ train: "training", val: "validation" });
    // a component entry holds its parsed arguments (defaults, transforms); output references wait for the run
    expect(c.loss).toEqual({ type: "Scaled", k: 6, size: 4, from: "@stages.a.outputs.out" });
    expect(isCompiledEntry(c.loss)).toBe(true);
    // a reference to a list became the parsed list; a reference to an entry stays a reference
    expect(c.extra).toEqual([{ type: "Scaled", k: 2, size: 4 }, "@vars.shared"]);
    // the raw form is kept for fingerprints and preflight
    expect(p.stages.get("a")!.raw.tag).toBe("hello");
    expect((p.compiled.stages as Record<string, { tag: string }>).a.tag).toBe("HELLO");
    // each schema ran once per value: k for the inline entry, the listed one and (checked at the slot) @vars.shared
    expect(parses.tag).toBe(1);
    expect(parses.k).toBe(3);
  });

  it("builds compiled entries without parsing them again; entries given as data are parsed when built", async () => {
    const { registries, parses } = probeRegistries();
    const file = pipeline(`version: 1
name: typed
vars:
  shared: { type: Scaled, k: 5 }
stages:
  a:
    kind: probe
    loss: { type: Scaled, k: 3, from: "@stages.up.outputs.out" }
    extra: ["@vars.shared", "@vars.shared"]
    tag: x
    needs: [up]
  up: { kind: probe, loss: { type: Scaled, k: 1 }, tag: y }
`);
    const p = (await compilePipeline(file, { registries })).pipeline!;
    const before = parses.k;
    const run = runContainer({
      registries,
      logger: createMemoryLogger(),
      seed: 1,
      backend: "cpu",
      config: { root: p.compiled, locs: p.locs, baseDir: p.baseDir },
    });
    const stage = stageContainer(run, { stageOutputs: (s, k) => (s === "up" ? `/runs/up/${k}` : undefined) });
    const resolver = stage.get(Services.components);
    expect(stage.get(Services.components)).toBe(resolver); // one resolver per stage container
    type Built = { args: { k: number; size: number; from?: string }; path: string };
    const loss = await resolver.build<Built>("loss", ["stages", "a", "loss"]);
    expect(loss.args).toEqual({ k: 6, size: 4, from: "/runs/up/out" });
    expect(parses.k).toBe(before); // not parsed again
    // both list items refer to one entry: one instance, registered in this stage's container
    const [x, y] = await Promise.all([0, 1].map((i) => resolver.build<Built>("loss", ["stages", "a", "extra", i])));
    expect(x).toBe(y);
    expect(x.path).toBe("vars.shared");
    expect(parses.k).toBe(before + 1); // @vars.shared lives outside the stages: its entry is parsed at build
    // another stage container is another lifetime: its own instances
    const other = stageContainer(run).get(Services.components);
    expect(await other.build("loss", ["vars", "shared"])).not.toBe(x);
    // an entry given as data (not compiled) is parsed, and a bad one is a located diagnostic, not a ZodError
    const made = await resolver.buildValue<Built>("loss", { type: "Scaled", k: 10 }, ["stages", "a", "made"]);
    expect(made.args.k).toBe(20);
    const bad = (await resolver
      .buildValue("loss", { type: "Scaled", k: "ten" }, ["stages", "a", "loss"])
      .catch((e) => e)) as VoxelpipeError;
    expect(bad.name).toBe("VoxelpipeError");
    expect(bad.diagnostics[0]).toMatchObject({ code: "VP111", path: "stages.a.loss.k" });
    expect(bad.diagnostics[0].loc?.line).toBe(8); // the `loss:` line
  });

  it("a broken entry reached through a reference is a located diagnostic at compile time", async () => {
    const { registries } = probeRegistries();
    const file = pipeline(`version: 1
name: typed
vars:
  broken: { type: Scaled, k: "three" }
  list: [{ type: Nope }]
stages:
  a:
    kind: probe
    loss: "@vars.broken"
    extra: "@vars.list"
    tag: x
`);
    const r = await compilePipeline(file, { registries });
    expect(r.pipeline).toBeUndefined();
    const at = r.diagnostics.map((d) => [d.code, d.path, d.loc?.line]);
    expect(at).toContainEqual(["VP111", "stages.a.loss", 9]);
    expect(at).toContainEqual(["VP100", "stages.a.extra[0].type", 10]);
    expect(r.diagnostics.find((d) => d.code === "VP111")?.message).toContain("@vars.broken");
  });
});
