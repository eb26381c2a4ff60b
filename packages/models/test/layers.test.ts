import * as tf from "@tensorflow/tfjs-core";
import { RandomState } from "@voxelpipe/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { maxAbsDiff } from "../../../test-utils/compare.js";
import {
  gelu,
  INFERENCE,
  instanceNorm,
  LayerNorm,
  ParamStore,
  PatchEmbedding,
  SelfAttention,
  sincosPositionEmbedding,
} from "../src/index.js";
import { BACKENDS, useBackend } from "./helpers.js";

const store = () => ParamStore.create(new RandomState(7));
const disposeAll = (ps: ParamStore) => {
  for (const v of ps.vars.values()) v.dispose();
};

for (const backend of BACKENDS) {
  describe(`layers on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    let ps: ParamStore;
    afterEach(() => ps && disposeAll(ps));

    it("LayerNorm: biased variance, eps 1e-5, affine", async () => {
      ps = store();
      const ln = new LayerNorm(ps, 4);
      ln.weight.assign(tf.tensor1d([1, 2, 1, 1]));
      ln.bias.assign(tf.tensor1d([0, 0, 0, 10]));
      const y = ln.apply(tf.tensor2d([[1, 2, 3, 4]]));
      const s = Math.sqrt(1.25 + 1e-5); // mean 2.5, biased var 1.25
      const ref = [-1.5 / s, (2 * -0.5) / s, 0.5 / s, 1.5 / s + 10];
      expect(maxAbsDiff(await y.data(), ref)).toBeLessThan(1e-5);
      expect(ps.info.get("weight")).toEqual({ layout: "plain", trainable: true });
    });

    it("InstanceNorm: per sample and channel over the spatial axes, no affine", async () => {
      // [1, 2, 1, 1, 2]: channel 0 = [1, 3], channel 1 = [10, 10] (zero variance → 0)
      const x = tf.tensor5d([1, 10, 3, 10], [1, 2, 1, 1, 2]);
      const y = instanceNorm(x);
      const a = 1 / Math.sqrt(1 + 1e-5);
      expect(maxAbsDiff(await y.data(), [-a, 0, a, 0])).toBeLessThan(1e-6);
      tf.dispose([x, y]);
      ps = store();
    });

    it("GELU is the exact erf form (the tanh approximation differs by 1.5e-4 at x = 1)", async () => {
      const y = gelu(tf.tensor1d([-1, 0, 1, 2.5]));
      // 0.5·x·(1 + erf(x/√2)) from Python math.erf; tanh form: -0.158808, 0, 0.841192, 2.484916
      expect(maxAbsDiff(await y.data(), [-0.15865525, 0, 0.84134475, 2.48447584])).toBeLessThan(1e-6);
      y.dispose();
      ps = store();
    });

    it("SelfAttention unpacks qkv as MONAI's 'b n (qkv l d)' and matches a naive reference", async () => {
      ps = store();
      const [n, hdim, heads] = [3, 4, 2];
      const dh = hdim / heads;
      const att = new SelfAttention(ps, hdim, heads, 0, false);
      expect([...ps.vars.keys()]).toEqual(["qkv.weight", "out_proj.weight", "out_proj.bias"]);
      const xs = Array.from({ length: n * hdim }, (_, i) => Math.sin(i + 1));
      const x = tf.tensor3d(xs, [1, n, hdim]);
      const y = await att.apply(x, INFERENCE).data();
      const wq = await att.qkv.weight.data(); // [in, 3H]
      const wo = await att.outProj.weight.data(); // [H, H]
      const bo = await att.outProj.bias!.data();
      // qkv[t][i][f]: feature f = t·H + h·dh + d of token i
      const proj = (i: number, f: number) => {
        let s = 0;
        for (let k = 0; k < hdim; k++) s += xs[i * hdim + k] * wq[k * 3 * hdim + f];
        return s;
      };
      const merged = new Float64Array(n * hdim);
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < n; i++) {
          const logits = [];
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let d = 0; d < dh; d++) s += proj(i, 0 * hdim + h * dh + d) * proj(j, 1 * hdim + h * dh + d);
            logits.push(s / Math.sqrt(dh));
          }
          const m = Math.max(...logits);
          const e = logits.map((l) => Math.exp(l - m));
          const z = e.reduce((a, b) => a + b, 0);
          for (let d = 0; d < dh; d++) {
            let s = 0;
            for (let j = 0; j < n; j++) s += (e[j] / z) * proj(j, 2 * hdim + h * dh + d);
            merged[i * hdim + h * dh + d] = s; // heads re-concatenated head-major
          }
        }
      const ref = new Float64Array(n * hdim);
      for (let i = 0; i < n; i++)
        for (let o = 0; o < hdim; o++) {
          let s = bo[o];
          for (let k = 0; k < hdim; k++) s += merged[i * hdim + k] * wo[k * hdim + o];
          ref[i * hdim + o] = s;
        }
      expect(maxAbsDiff(y, ref)).toBeLessThan(1e-5);
      x.dispose();
    });

    it("conv and perceptron patch embeddings equal a naive strided conv (tokens S0-major)", async () => {
      ps = store();
      const cfg = {
        inChannels: 2,
        imgSize: [4, 4, 2] as [number, number, number],
        patchSize: [2, 2, 1] as [number, number, number],
        hiddenSize: 3,
        posEmbedType: "learnable" as const,
        dropoutRate: 0,
      };
      const conv = new PatchEmbedding(ps.child("a"), { ...cfg, projType: "conv" });
      const perc = new PatchEmbedding(ps.child("b"), { ...cfg, projType: "perceptron" });
      expect([...ps.vars.keys()]).toEqual([
        "a.position_embeddings",
        "a.patch_embeddings.weight",
        "a.patch_embeddings.bias",
        "b.position_embeddings",
        "b.patch_embeddings.1.weight",
        "b.patch_embeddings.1.bias",
      ]);
      expect(conv.weight.shape).toEqual([2, 2, 1, 2, 3]);
      expect(perc.weight.shape).toEqual([8, 3]); // (p1 p2 p3 c) × hidden
      // same numbers in both: the conv kernel flattens in the perceptron's (p1 p2 p3 c) order
      perc.weight.assign(tf.reshape(conv.weight, [8, 3]));
      perc.bias.assign(conv.bias);
      perc.posEmbed.assign(conv.posEmbed);
      const xs = Array.from({ length: 4 * 4 * 2 * 2 }, (_, i) => Math.cos(i));
      const x = tf.tensor5d(xs, [1, 4, 4, 2, 2]);
      const yc = await conv.apply(x, INFERENCE).data();
      const yp = await perc.apply(x, INFERENCE).data();
      const w = await conv.weight.data();
      const b = await conv.bias.data();
      const pe = await conv.posEmbed.data();
      const ref: number[] = [];
      for (let t0 = 0; t0 < 2; t0++)
        for (let t1 = 0; t1 < 2; t1++)
          for (let t2 = 0; t2 < 2; t2++) {
            const tok = (t0 * 2 + t1) * 2 + t2;
            for (let o = 0; o < 3; o++) {
              let s = b[o] + pe[tok * 3 + o];
              for (let a = 0; a < 2; a++)
                for (let c = 0; c < 2; c++)
                  for (let ci = 0; ci < 2; ci++) {
                    const xi = (((t0 * 2 + a) * 4 + (t1 * 2 + c)) * 2 + t2) * 2 + ci;
                    s += xs[xi] * w[((a * 2 + c) * 1 * 2 + ci) * 3 + o];
                  }
              ref.push(s);
            }
          }
      expect(maxAbsDiff(yc, ref)).toBeLessThan(1e-5);
      expect(maxAbsDiff(yp, ref)).toBeLessThan(1e-5);
      x.dispose();
    });
  });
}

describe("position embeddings", () => {
  it("sincos follows MONAI's [sin w, cos w, sin h, cos h, sin d, cos d] layout and is frozen", async () => {
    await useBackend("cpu");
    const t = sincosPositionEmbedding([2, 3, 1], 6); // pos_dim 1, ω = [1]
    const row = (h: number, w: number) => Array.from(t.slice((h * 3 + w) * 6, (h * 3 + w + 1) * 6));
    expect(maxAbsDiff(row(1, 2), [Math.sin(2), Math.cos(2), Math.sin(1), Math.cos(1), 0, 1])).toBeLessThan(1e-7);
    const t2 = sincosPositionEmbedding([1, 1, 4], 12); // pos_dim 2, ω = [1, 1/100]
    const r3 = Array.from(t2.slice(3 * 12, 4 * 12));
    expect(maxAbsDiff(r3.slice(8, 12), [Math.sin(3), Math.sin(0.03), Math.cos(3), Math.cos(0.03)])).toBeLessThan(1e-7);
    expect(() => sincosPositionEmbedding([1, 1, 1], 8)).toThrow(/divisible by 6/);
    const ps = store();
    const pe = new PatchEmbedding(ps, {
      inChannels: 1,
      imgSize: [4, 6, 2],
      patchSize: [2, 2, 2],
      hiddenSize: 6,
      projType: "conv",
      posEmbedType: "sincos",
      dropoutRate: 0,
    });
    expect(pe.posEmbed.trainable).toBe(false);
    expect(Array.from(await pe.posEmbed.data())).toEqual(Array.from(t));
    disposeAll(ps);
  });
});
