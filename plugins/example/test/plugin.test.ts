import { CORE_API_VERSION, tf } from "@voxelpipe/core";
import { testContext } from "@voxelpipe/testing";
import "@tensorflow/tfjs-backend-cpu";
import { describe, expect, it } from "vitest";
import plugin, { HuberLossDef, MLPDef } from "../src/index.js";

const ctx = testContext({ seed: 1, path: "stages.fit.model" });

describe("the example plugin", () => {
  it("declares its components through the SDK under its own namespace", () => {
    expect(plugin.meta).toEqual({
      name: "@voxelpipe-example/plugin",
      version: "0.1.0",
      namespace: "example",
      api: CORE_API_VERSION,
    });
    expect(plugin.components.map((c) => `${c.kind}:${c.name}`)).toEqual(["model:MLP", "loss:HuberLoss"]);
    expect(() => MLPDef.args.parse({ in_features: 2, hiden: [3] })).toThrow(/Unrecognized key/);
  });

  it("HuberLoss is quadratic within delta and linear beyond (hand-computed)", async () => {
    await tf.setBackend("cpu");
    const loss = await HuberLossDef.create(HuberLossDef.args.parse({ delta: 1 }), ctx);
    // |d| = 0.5 → 0.125; |d| = 3 → 0.5 + (3 - 1) = 2.5; mean = 1.3125
    const v = loss.compute([tf.tensor1d([0.5, 3]), tf.tensor1d([0, 0])]);
    expect(v.dataSync()[0]).toBeCloseTo(1.3125, 6);
  });

  it("MLP is deterministic from its RNG stream and maps [B, in] → [B, out]", async () => {
    const a = await MLPDef.create(MLPDef.args.parse({ in_features: 3, hidden: [4], out_features: 2 }), ctx);
    const b = await MLPDef.create(MLPDef.args.parse({ in_features: 3, hidden: [4], out_features: 2 }), ctx);
    const x = tf.tensor2d([[1, 2, 3]]);
    const ya = a.apply(x);
    expect(ya.shape).toEqual([1, 2]);
    expect([...ya.dataSync()]).toEqual([...b.apply(x).dataSync()]);
    expect(a.params.size).toBe(4);
  });
});
