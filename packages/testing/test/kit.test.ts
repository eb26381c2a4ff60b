import {
  defineLoss,
  defineMetric,
  defineModel,
  definePlugin,
  defineStage,
  defineTransform,
  isVolume,
  type Metric,
  type NamedVariables,
  type Sample,
  tf,
  z,
} from "@voxelpipe/core";
import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../src/backend.js";
import { conformanceChecks, syntheticSample } from "../src/index.js";

/**
 * The kit must catch what it promises to catch: each component below breaks one contract, and the
 * check for it fails with a message that says so (a well-behaved twin passes the same checks).
 */
beforeAll(() => useBackend("cpu"));

async function failures(components: Parameters<typeof definePlugin>[0]["components"], options = {}) {
  const plugin = definePlugin({ meta: { name: "@t/broken", version: "0.0.1", namespace: "t" }, components });
  const out: string[] = [];
  for (const c of conformanceChecks(plugin, options)) {
    if (c.skipped !== undefined) {
      out.push(`${c.title} :: skipped: ${c.skipped}`);
      continue;
    }
    try {
      await c.run();
    } catch (e) {
      out.push(`${c.title} :: ${(e as Error).message}`);
    }
  }
  return out;
}

const mse = (o: { leak?: boolean; vector?: boolean; reduction?: "mean" | "sum"; detach?: boolean } = {}) =>
  defineLoss({
    name: "L",
    description: "test loss",
    args: z.object({}),
    create: () => ({
      batchReduction: o.reduction,
      compute: ([p, t]) => {
        const f = () => {
          const d = tf.sub(o.detach ? tf.round(p) : p, t);
          return (o.vector ? tf.mean(tf.square(d), 1) : tf.mean(tf.square(d))) as tf.Scalar;
        };
        return o.leak ? f() : tf.tidy(f);
      },
    }),
  });

describe("losses", () => {
  it("a well-behaved loss passes", async () => expect(await failures([mse({ reduction: "mean" })])).toEqual([]));
  it.each([
    [{ leak: true }, /compute\(\) leaks 2 tensor/],
    [{ vector: true }, /shape \[2\], not a scalar/],
    [{ detach: true }, /zero everywhere/],
    [{ reduction: "sum" as const }, /batchReduction "sum": the loss of the batch is .* but the sum/],
  ])("%o is caught", async (o, message) => {
    const f = await failures([mse(o)]);
    expect(f.join("\n")).toMatch(message);
  });
});

describe("arguments", () => {
  it("undocumented arguments and undocumented components are caught", async () => {
    const T = defineLoss({
      name: "U",
      args: z.object({ a: z.number().default(1) }),
      create: () => ({ compute: ([p]) => tf.sum(p) as tf.Scalar }),
    });
    const f = (await failures([T])).join("\n");
    expect(f).toMatch(/U has no description/);
  });
  it("a default that writing explicitly changes the config is caught", async () => {
    const T = defineLoss({
      name: "D",
      description: "d",
      args: z.object({
        n: z
          .number()
          .default(2)
          .transform((x) => x * 10)
          .describe("scaled"),
      }),
      create: () => ({ compute: ([p]) => tf.sum(p) as tf.Scalar }),
    });
    expect((await failures([T])).join("\n")).toMatch(
      /documents default 2|cannot be written as JSON Schema|do not parse back/,
    );
  });
});

const scale = (o: { mutate?: boolean; random?: boolean; dropMeta?: boolean; crop?: boolean; invert?: boolean }) =>
  defineTransform({
    name: "S",
    description: "test transform",
    args: z.object({}),
    ...(o.invert
      ? {
          spatial: {
            inverse: (vol, op) => ({
              ...vol,
              shape: [...op.before] as [number, number, number],
              data: new Float32Array(op.before[0] * op.before[1] * op.before[2] * vol.channels),
            }),
          },
        }
      : {}),
    create: () => ({
      random: !!o.random,
      apply(s: Sample, rng) {
        const v = s.image;
        if (!isVolume(v)) throw new Error("no image");
        if (o.mutate) {
          v.data[0] = 99;
          return s;
        }
        const k = o.random ? rng.uniform(0, 1) : Math.random() < 2 ? 2 : 0;
        if (o.crop) {
          const shape: [number, number, number] = [v.shape[0] - 1, v.shape[1], v.shape[2]];
          const applied = o.invert
            ? [...(v.meta.applied ?? []), { op: "S", params: {}, before: v.shape, affineBefore: v.affine }]
            : v.meta.applied;
          return {
            ...s,
            image: { ...v, shape, data: v.data.slice(0, shape[0] * shape[1] * shape[2]), meta: { ...v.meta, applied } },
          };
        }
        const meta = o.dropMeta ? { applied: [] } : { ...v.meta };
        return { ...s, image: { ...v, data: Float32Array.from(v.data, (x) => x * k), meta } };
      },
    }),
  });

describe("transforms", () => {
  it("a well-behaved transform passes, and a recorded crop with its inverse passes", async () => {
    expect(await failures([scale({})])).toEqual([]);
    expect(await failures([scale({ crop: true, invert: true })])).toEqual([]);
  });
  it.each([
    [{ mutate: true }, /modified its input sample/],
    [{ dropMeta: true }, /meta lost source, originalShape, originalAffine/],
    [{ crop: true }, /the grid changed .* but no record was added to meta.applied/],
  ])("%o is caught", async (o, message) => {
    expect((await failures([scale(o)])).join("\n")).toMatch(message);
  });
  it("drawing from anything but the rng stream is caught", async () => {
    const T = defineTransform({
      name: "R",
      description: "r",
      args: z.object({}),
      create: () => ({ random: true, apply: (s) => ({ ...s, r: Math.random() }) }),
    });
    expect((await failures([T])).join("\n")).toMatch(/seeded alike give different samples/);
  });
  it("the synthetic sample is what the kit documents", () => {
    const s = syntheticSample();
    expect(isVolume(s.image) && isVolume(s.label)).toBe(true);
  });
});

const model = (o: { unstable?: boolean; hidden?: boolean; badName?: boolean }) =>
  defineModel({
    name: "M",
    description: "m",
    args: z.object({}),
    create(_a, ctx) {
      const rng = ctx.rng("init");
      const name = o.unstable ? `w${Math.floor(Math.random() * 1e9)}` : o.badName ? "layer/0:w" : "layer.0.weight";
      const w = tf.tidy(() => tf.variable(tf.tensor2d([rng.uniform(-1, 1), rng.uniform(-1, 1)], [2, 1])));
      // a weight drawn outside params is not in the checkpoint
      const hidden = o.hidden ? tf.tidy(() => tf.variable(tf.scalar(Math.random()))) : undefined;
      const params: NamedVariables = new Map([[name, w]]);
      return {
        params,
        apply: (x) => (hidden ? tf.add(tf.matMul(x as tf.Tensor2D, w), hidden) : tf.matMul(x as tf.Tensor2D, w)),
        dispose: () => {
          w.dispose();
          hidden?.dispose();
        },
      };
    },
  });
const inputs = { M: { inputs: () => [tf.ones([3, 2])] } };

describe("models", () => {
  it("a well-behaved model passes; one without an input asks for one", async () => {
    expect(await failures([model({})], { components: inputs })).toEqual([]);
    expect((await failures([model({})])).join("\n")).toMatch(/give an input for the model/);
  });
  it.each([
    [{ unstable: true }, /different parameter names/],
    [{ hidden: true }, /checkpoint gives another forward pass/],
    [{ badName: true }, /dotted identifiers/],
  ])("%o is caught", async (o, message) => {
    expect((await failures([model(o)], { components: inputs })).join("\n")).toMatch(message);
  });
});

describe("metrics and stages", () => {
  it("a metric whose streaming result differs from one-shot is caught", async () => {
    const LastBatch = defineMetric({
      name: "Last",
      description: "keeps only the last batch (wrong)",
      args: z.object({}),
      create(): Metric {
        let v = Number.NaN;
        return {
          name: "last",
          update: (p, t) => {
            v = tf.tidy(() => tf.mean(tf.abs(tf.sub(p, t))).dataSync()[0]);
          },
          aggregate: () => ({ value: v }),
          reset: () => {
            v = Number.NaN;
          },
        };
      },
    });
    expect((await failures([LastBatch])).join("\n")).toMatch(/streaming over 2 batches gives/);
  });
  it("a stage kind with bad outputs is caught", async () => {
    const S = defineStage({
      name: "s",
      description: "stage",
      schema: () => z.object({}),
      outputs: ["best model", "best model"],
      run: async () => {},
    });
    expect((await failures([S])).join("\n")).toMatch(/outputs must be identifiers/);
  });
});

describe("skip", () => {
  it("a skipped component keeps its argument check; its contract checks are one SkippedCheck with no run", async () => {
    const plugin = definePlugin({
      meta: { name: "@t/skip", version: "0.0.1", namespace: "t" },
      components: [mse({ leak: true })],
    });
    const checks = conformanceChecks(plugin, { components: { L: { skip: "needs files" } } });
    expect(checks.map((c) => [c.title, c.skipped, typeof c.run])).toEqual([
      ["loss t/L: argument schema round-trips through JSON Schema; defaults are documented", undefined, "function"],
      ["loss t/L: contract checks", "needs files", "undefined"],
    ]);
    // the leaking loss is not run: skipped is reported as skipped, never as a pass or a failure
    expect(await failures([mse({ leak: true })], { components: { L: { skip: "needs files" } } })).toEqual([
      "loss t/L: contract checks :: skipped: needs files",
    ]);
  });
});
