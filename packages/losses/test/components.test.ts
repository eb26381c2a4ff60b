import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { type ComponentContext, createMemoryLogger, type Loss, RandomState, Registries } from "@voxelpipe/core";
import { beforeAll, describe, expect, it } from "vitest";
import { ContrastiveLossDef, DiceCELossDef, plugin } from "../src/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function ctx(): ComponentContext & { lines: string[] } {
  const logger = createMemoryLogger();
  return {
    logger,
    lines: logger.lines,
    path: "stages.finetune.loss",
    seed: 0,
    rng: () => new RandomState(0),
    backend: "cpu",
    baseDir: ".",
    build: async () => {
      throw new Error("not used");
    },
  };
}

async function make(name: string, args: Record<string, unknown>, c = ctx()): Promise<Loss> {
  const def = plugin.components.find((d) => d.name === name);
  if (def?.kind !== "loss") throw new Error(`no loss ${name}`);
  return (await def.create(def.args.parse(args), c)) as Loss;
}

describe("@voxelpipe/losses plugin", () => {
  it("registers the five losses under vp/", () => {
    const regs = new Registries();
    regs.use(plugin);
    const keys = regs
      .of("loss")
      .entries()
      .map((e) => e.key)
      .sort();
    expect(keys).toEqual(["vp/ContrastiveLoss", "vp/DiceCELoss", "vp/DiceLoss", "vp/L1Loss", "vp/MSELoss"]);
    expect(plugin.meta).toMatchObject({ name: "@voxelpipe/losses", version: "0.1.0", namespace: "vp" });
  });

  it("args have MONAI defaults and reject unknown keys", () => {
    const dice = DiceCELossDef;
    const a = dice.args.parse({}) as Record<string, unknown>;
    expect(a).toMatchObject({
      include_background: true,
      to_onehot_y: false,
      softmax: false,
      smooth_nr: 1e-5,
      smooth_dr: 1e-5,
      lambda_dice: 1,
      lambda_ce: 1,
      label_smoothing: 0,
      reduction: "mean",
    });
    expect(() => dice.args.parse({ to_onehot: true })).toThrow();
    expect(() => dice.args.parse({ lambda_ce: -1 })).toThrow();
    expect(() => dice.args.parse({ reduction: "none" })).toThrow(); // MONAI DiceCELoss: mean|sum only
    const cl = ContrastiveLossDef;
    expect((cl.args.parse({}) as { temperature: number }).temperature).toBe(0.5);
    expect(() => cl.args.parse({ temperature: 0 })).toThrow();
  });

  it("compute() takes [prediction, target] and returns a scalar with the pure function's value", async () => {
    const l1 = await make("L1Loss", {});
    const v = l1.compute([tf.tensor1d([1, 2, 3]), tf.tensor1d([2, 2, 5])]);
    expect(v.rank).toBe(0);
    expect(v.dataSync()[0]).toBeCloseTo(1, 6);
    const mseSum = await make("MSELoss", { reduction: "sum" });
    expect(mseSum.compute([tf.tensor1d([1, 2, 3]), tf.tensor1d([2, 2, 5])]).dataSync()[0]).toBeCloseTo(5, 6);
    const mseNone = await make("MSELoss", { reduction: "none" });
    expect(mseNone.compute([tf.tensor1d([1, 2, 3]), tf.tensor1d([2, 2, 5])]).dataSync()[0]).toBeCloseTo(5 / 3, 6);
    const dce = await make("DiceCELoss", { to_onehot_y: true, softmax: true });
    const s = dce.compute([tf.zeros([1, 2, 2, 2, 3]), tf.zeros([1, 2, 2, 2, 1])]);
    // uniform softmax: Dice per class, CE = ln 3
    const dBg = 1 - (2 * (8 / 3) + 1e-5) / (8 + 8 / 3 + 1e-5);
    const dFg = 1 - 1e-5 / (8 / 3 + 1e-5);
    expect(s.dataSync()[0]).toBeCloseTo((dBg + 2 * dFg) / 3 + Math.log(3), 5);
  });

  it("a wrong number of inputs is a step-graph error with a hint", async () => {
    const l1 = await make("ContrastiveLoss", {});
    expect(() => l1.compute([tf.zeros([2, 3])])).toThrow(/two inputs/);
  });

  it("MONAI warnings go to the logger once, prefixed with the config path", async () => {
    const c = ctx();
    const dice = await make("DiceLoss", { softmax: true }, c);
    for (let i = 0; i < 3; i++) dice.compute([tf.ones([1, 2, 2, 2, 1]), tf.ones([1, 2, 2, 2, 1])]);
    const warns = c.lines.filter((l) => l.includes("softmax=True` ignored"));
    expect(warns).toHaveLength(1);
    expect(warns[0]).toContain("stages.finetune.loss");
  });
});
