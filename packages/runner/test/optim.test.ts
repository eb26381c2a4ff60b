import {
  createMemoryLogger,
  type NamedVariables,
  type OptimizerFactory,
  RandomState,
  type Scheduler,
  tf,
} from "@voxelpipe/core";
import "@tensorflow/tfjs-backend-cpu";
import { beforeAll, describe, expect, it } from "vitest";
import { AdamDef, AdamWDef, SGDDef } from "../src/builtins/optimizers.js";
import { ConstantLRDef, StepLRDef, WarmupCosineDef } from "../src/builtins/schedulers.js";
import { clipByGlobalNorm } from "../src/train/clip.js";

const ctx = {
  logger: createMemoryLogger(),
  path: "x",
  seed: 0,
  rng: () => new RandomState(0),
  backend: "cpu",
  baseDir: "/",
  build: async () => undefined as never,
};

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** two steps with a constant gradient 0.5 on a parameter starting at 1 */
async function twoSteps(
  def: typeof AdamDef | typeof AdamWDef | typeof SGDDef,
  args: Record<string, unknown>,
): Promise<number[]> {
  const factory = (await def.create(def.args.parse(args) as never, ctx)) as OptimizerFactory;
  const params: NamedVariables = new Map([["w", tf.variable(tf.scalar(1))]]);
  const opt = factory(params);
  const out: number[] = [];
  for (let i = 0; i < 2; i++) {
    opt.apply(params, { w: tf.scalar(0.5) });
    out.push(params.get("w")!.dataSync()[0]);
  }
  return out;
}

describe("optimizers (PyTorch semantics, hand-computed)", () => {
  it("Adam: bias-corrected steps of lr for a constant gradient; weight_decay is L2 on the gradient", async () => {
    const a = await twoSteps(AdamDef, { lr: 0.1 });
    expect(a[0]).toBeCloseTo(0.9, 6);
    expect(a[1]).toBeCloseTo(0.8, 6);
    const l2 = await twoSteps(AdamDef, { lr: 0.1, weight_decay: 0.1 });
    expect(l2[0]).toBeCloseTo(0.9, 6); // g' = 0.5 + 0.1·1: still a unit step after normalisation
  });

  it("AdamW: decoupled decay p·(1 − lr·wd) before the Adam step", async () => {
    const w = await twoSteps(AdamWDef, { lr: 0.1, weight_decay: 0.1 });
    expect(w[0]).toBeCloseTo(1 * 0.99 - 0.1, 6);
    expect(w[1]).toBeCloseTo(0.89 * 0.99 - 0.1, 6);
  });

  it("SGD with momentum and Nesterov", async () => {
    const m = await twoSteps(SGDDef, { lr: 0.1, momentum: 0.9 });
    expect(m[0]).toBeCloseTo(0.95, 6);
    expect(m[1]).toBeCloseTo(0.855, 6);
    const n = await twoSteps(SGDDef, { lr: 0.1, momentum: 0.9, nesterov: true });
    expect(n[0]).toBeCloseTo(1 - 0.1 * (0.5 + 0.9 * 0.5), 6);
  });

  it("state round-trips: a restored optimizer continues identically", async () => {
    const factory = (await AdamDef.create(AdamDef.args.parse({ lr: 0.05 }), ctx)) as OptimizerFactory;
    const p1: NamedVariables = new Map([["w", tf.variable(tf.tensor1d([1, -2]))]]);
    const o1 = factory(p1);
    o1.apply(p1, { w: tf.tensor1d([0.3, -0.7]) });
    const p2: NamedVariables = new Map([["w", tf.variable(p1.get("w")!.clone())]]);
    const o2 = factory(p2);
    o2.setState(o1.getState(), p2);
    o1.apply(p1, { w: tf.tensor1d([0.1, 0.2]) });
    o2.apply(p2, { w: tf.tensor1d([0.1, 0.2]) });
    expect([...p2.get("w")!.dataSync()]).toEqual([...p1.get("w")!.dataSync()]);
  });
});

describe("learning-rate schedules and clipping", () => {
  it("constant, step and warm-up cosine", async () => {
    const c = (await ConstantLRDef.create({}, ctx)) as Scheduler;
    expect(c.lrAt(7, 10, 0.3)).toBe(0.3);
    const s = (await StepLRDef.create(StepLRDef.args.parse({ step_size: 3, gamma: 0.1 }), ctx)) as Scheduler;
    expect([0, 2, 3, 6].map((i) => s.lrAt(i, 10, 1))).toEqual([1, 1, 0.1, 0.1 ** 2].map((v) => expect.closeTo(v, 12)));
    const w = (await WarmupCosineDef.create(WarmupCosineDef.args.parse({ warmup_steps: 2 }), ctx)) as Scheduler;
    expect([0, 1, 2, 6, 10].map((i) => w.lrAt(i, 10, 1))).toEqual(
      [0.5, 1, 1, 0.5, 0].map((v) => expect.closeTo(v, 12)),
    );
  });

  it("clip_grad_norm scales all gradients together to the global norm", async () => {
    const g = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) }; // global norm 5
    await clipByGlobalNorm(g, 1);
    expect([...g.a.dataSync(), ...g.b.dataSync()].map((v) => +v.toFixed(5))).toEqual([0.6, 0, 0, 0.8]);
    const small = { a: tf.tensor1d([0.1]) };
    await clipByGlobalNorm(small, 1);
    expect(small.a.dataSync()[0]).toBeCloseTo(0.1, 7);
  });
});
