import * as tf from "@tensorflow/tfjs-core";
import { createMemoryLogger, RandomState } from "@voxelpipe/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logParity, maxAbsDiff, relErr } from "../../../test-utils/compare.js";
import { loadFixture } from "../../../test-utils/fixtures.js";
import { FIXTURES, sharedOrSkip } from "../../../test-utils/gates.js";
import {
  applyInit,
  importanceMap,
  plugin,
  SlidingWindow,
  scanIntervals,
  slidingWindowInference,
  UNETR,
  windowGrid,
  windowStarts,
} from "../src/index.js";
import { BACKENDS, channelLast, useBackend } from "./helpers.js";

const need = sharedOrSkip("reference/fixtures/sliding_window.safetensors", "reference/fixtures/unetr.safetensors");

describe("sliding-window geometry (monai-semantics §5 worked examples)", () => {
  it("scan interval truncates roi·(1−overlap) and uses roi when roi == image", () => {
    expect(scanIntervals([239, 199, 137], [96, 96, 96], [0.25, 0.5, 0.8])).toEqual([72, 48, 19]);
    expect(scanIntervals([96, 100, 100], [96, 96, 96], [0.5, 0.5, 0.99])).toEqual([96, 48, 1]);
  });

  it("window starts end flush with the image", () => {
    expect(windowStarts(239, 96, 72)).toEqual([0, 72, 143]);
    expect(windowStarts(199, 96, 72)).toEqual([0, 72, 103]);
    expect(windowStarts(137, 96, 72)).toEqual([0, 41]);
    expect(windowStarts(96, 96, 96)).toEqual([0]);
  });

  it("window counts for (239,199,137): 18 @0.25, 32 @0.5, 252 @0.8; last dim fastest", () => {
    const img = [239, 199, 137];
    const roi = [96, 96, 96];
    const count = (o: number) => windowGrid(img, roi, scanIntervals(img, roi, [o, o, o])).length;
    expect([count(0.25), count(0.5), count(0.8)]).toEqual([18, 32, 252]);
    const g = windowGrid(img, roi, [72, 72, 72]);
    expect(g.slice(0, 3)).toEqual([
      [0, 0, 0],
      [0, 0, 41],
      [0, 72, 0],
    ]);
  });

  it("gaussian importance map: separable exp(−x²/2σ²), clamped to 1e-3, peak 0.9974 at 96³", () => {
    const m = importanceMap([4, 4, 4], "gaussian", 0.125); // σ = 0.5, x = ±0.5, ±1.5
    const g = [Math.exp(-4.5), Math.exp(-0.5), Math.exp(-0.5), Math.exp(-4.5)];
    const at = (a: number, b: number, c: number) => m[(a * 4 + b) * 4 + c];
    expect(at(1, 1, 1)).toBeCloseTo(g[1] ** 3, 6); // 0.22313
    expect(at(1, 2, 0)).toBeCloseTo(g[1] * g[2] * g[0], 6); // 0.0040868 > 1e-3: kept
    expect(at(0, 0, 0)).toBe(Math.fround(1e-3)); // 1.37e-6 → clamped
    expect(at(0, 3, 1)).toBe(Math.fround(1e-3)); // 7.5e-5 → clamped
    const big = importanceMap([96, 96, 96], "gaussian", 0.125);
    expect(big[(47 * 96 + 47) * 96 + 47]).toBeCloseTo(0.9974, 4);
    expect(importanceMap([2, 3, 1], "constant").every((v) => v === 1)).toBe(true);
  });
});

describe("sliding-window inference, hand-computed cases", () => {
  beforeAll(() => useBackend("cpu"));

  it("blends a per-window constant predictor as the hand-computed weighted average", async () => {
    // S0 = 6, roi 4, overlap 0.5 → interval 2, windows start at 0 and 2
    const x = tf.zeros([1, 6, 1, 1, 1]);
    let k = 0;
    const predictor = (b: tf.Tensor) => tf.fill(b.shape, k++);
    const outC = await slidingWindowInference(x, predictor, { roiSize: [4, 1, 1], overlap: 0.5, mode: "constant" });
    expect(Array.from(await outC.data())).toEqual([0, 0, 0.5, 0.5, 1, 1]);
    k = 0;
    const outG = await slidingWindowInference(x, predictor, { roiSize: [4, 1, 1], overlap: 0.5, mode: "gaussian" });
    // weights along S0 (σ = 0.5): [e^-4.5, e^-0.5, e^-0.5, e^-4.5]
    const a = Math.exp(-4.5);
    const b = Math.exp(-0.5);
    const ref = [0, 0, a / (a + b), b / (a + b), 1, 1];
    expect(maxAbsDiff(await outG.data(), ref)).toBeLessThan(1e-6);
    tf.dispose([x, outC, outG]);
  });

  it("an identity predictor reproduces the input (constant and gaussian), multi-channel", async () => {
    const x = tf.randomUniform([1, 10, 9, 7, 2], -1, 1, "float32", 3);
    for (const mode of ["constant", "gaussian"] as const) {
      const y = await slidingWindowInference(x, (b) => tf.clone(b), { roiSize: 4, overlap: 0.5, mode, swBatchSize: 3 });
      expect(y.shape).toEqual([1, 10, 9, 7, 2]);
      expect(maxAbsDiff(await y.data(), await x.data())).toBeLessThan(1e-6);
      y.dispose();
    }
    x.dispose();
  });

  it("pads dims smaller than the roi symmetrically with cval and crops back", async () => {
    const vol = tf.reshape(tf.range(1, 1 + 3 * 5 * 5), [1, 3, 5, 5, 1]);
    const seen: number[][] = [];
    const y = await slidingWindowInference(
      vol,
      async (b) => {
        // first and last S0 slab of the 5-long window are padding (pad 1 before, 1 after)
        const d = await b.data();
        seen.push([d[0], d[4 * 25], d[25]]);
        return tf.mul(b, 2);
      },
      { roiSize: [5, 5, 5], cval: -7 },
    );
    expect(seen).toEqual([[-7, -7, 1]]);
    expect(y.shape).toEqual([1, 3, 5, 5, 1]);
    expect(
      maxAbsDiff(
        await y.data(),
        Array.from(await vol.data(), (v) => 2 * v),
      ),
    ).toBe(0);
    tf.dispose([vol, y]);
  });

  it("replicate and reflect padding feed the predictor torch-style borders", async () => {
    const x = tf.tensor5d([3, 4], [1, 2, 1, 1, 1]);
    for (const [paddingMode, want] of [
      ["replicate", [3, 3, 4, 4]],
      ["reflect", [4, 3, 4, 3]],
      ["constant", [0, 3, 4, 0]],
    ] as const) {
      let seen: number[] = [];
      const y = await slidingWindowInference(
        x,
        async (b) => {
          seen = Array.from(await b.data());
          return tf.clone(b);
        },
        { roiSize: [4, 1, 1], paddingMode },
      );
      expect(seen, paddingMode).toEqual(want);
      expect(Array.from(await y.data())).toEqual([3, 4]);
      y.dispose();
    }
    x.dispose();
  });

  it("chunks windows of all batch items into sw_batch_size calls (a chunk may mix items)", async () => {
    const x = tf.stack([tf.fill([8, 4, 4, 1], 1), tf.fill([8, 4, 4, 1], 5)]) as tf.Tensor5D;
    const sizes: number[] = [];
    const firstValues: number[] = [];
    const y = await slidingWindowInference(
      x,
      async (b) => {
        sizes.push(b.shape[0]);
        const d = await b.data();
        for (let i = 0; i < b.shape[0]; i++) firstValues.push(d[i * 64]);
        return tf.clone(b);
      },
      { roiSize: [4, 4, 4], overlap: 0, swBatchSize: 3 },
    );
    expect(sizes).toEqual([3, 1]); // 2 items × 2 windows
    expect(firstValues).toEqual([1, 1, 5, 5]);
    expect(maxAbsDiff(await y.data(), await x.data())).toBe(0);
    tf.dispose([x, y]);
  });

  it("scales regions when the predictor changes the spatial size (×2 nearest upsampling)", async () => {
    const x = tf.randomUniform([1, 6, 4, 4, 1], 0, 1, "float32", 5);
    const up2 = (t: tf.Tensor) =>
      tf.tidy(() => {
        const [n, a, b, c, ch] = t.shape;
        const e = tf.reshape(t, [n, a, 1, b, 1, c, 1, ch]);
        return tf.reshape(tf.tile(e, [1, 1, 2, 1, 2, 1, 2, 1]), [n, 2 * a, 2 * b, 2 * c, ch]);
      });
    const y = await slidingWindowInference(x, up2, { roiSize: [4, 4, 4], overlap: 0.5 });
    expect(y.shape).toEqual([1, 12, 8, 8, 1]);
    const ref = up2(x);
    expect(maxAbsDiff(await y.data(), await ref.data())).toBeLessThan(1e-6);
    tf.dispose([x, y, ref]);
  });

  it("rejects bad overlap and predictor outputs with clear errors", async () => {
    const x = tf.zeros([1, 4, 4, 4, 1]);
    await expect(slidingWindowInference(x, (b) => b, { roiSize: 4, overlap: 1 })).rejects.toThrow(/overlap/);
    await expect(slidingWindowInference(x, () => tf.zeros([2, 2]), { roiSize: 4 })).rejects.toThrow(
      /predictor must return/,
    );
    x.dispose();
  });

  it("is registered as vp/SlidingWindow with MONAI defaults", () => {
    const def = plugin.components.find((c) => c.name === "SlidingWindow");
    expect(def?.kind).toBe("inferer");
    if (def?.kind !== "inferer") throw new Error("SlidingWindow is not an inferer");
    const a = def.args.parse({ roi_size: [96, 96, 96] });
    expect(a).toEqual({
      roi_size: [96, 96, 96],
      sw_batch_size: 1,
      overlap: 0.25,
      mode: "constant",
      sigma_scale: 0.125,
      padding_mode: "constant",
      cval: 0,
    });
    expect(() => def.args.parse({ roi_size: 96, overlapp: 0.5 })).toThrow();
  });
});

/** ‖ours − MONAI‖ / ‖MONAI‖ bounds: 10× the measured error rounded up (node 20, tfjs 4.22, 2026-12) */
const BOUND: Record<(typeof BACKENDS)[number], Record<string, number>> = {
  cpu: { constant: 4e-6, gaussian: 5e-6 }, // measured: constant 3.3e-7, gaussian 5.0e-7
  wasm: { constant: 4e-6, gaussian: 5e-6 }, // measured: constant 3.1e-7, gaussian 4.5e-7
};

describe.skipIf(!need.ok)(need.title("sliding window parity with MONAI 1.4 (sliding_window.safetensors)"), () => {
  for (const backend of BACKENDS) {
    describe(backend, () => {
      let net: UNETR;
      beforeAll(async () => {
        await useBackend(backend);
        net = new UNETR(
          {
            in_channels: 1,
            out_channels: 3,
            img_size: 32,
            feature_size: 4,
            hidden_size: 48,
            mlp_dim: 96,
            num_heads: 4,
          },
          new RandomState(0),
        );
        await applyInit(
          net,
          { from: `${FIXTURES}/unetr.safetensors`, format: "monai", exclude: ["io.*"], strict: true },
          createMemoryLogger(),
        );
      });
      afterAll(() => net?.dispose());

      // both blending modes on both backends (the cpu case costs ~20 s: ~1 s per 32³ UNETR window)
      it("constant @0.5 and gaussian @0.25 (sw_batch_size 2) match within BOUND", async () => {
        const fx = loadFixture("sliding_window");
        const x = channelLast(fx.tensors.get("io.input")!);
        const all = [
          ["constant", "io.out_constant_overlap0.5", { mode: "constant", overlap: 0.5 }],
          ["gaussian", "io.out_gaussian_overlap0.25", { mode: "gaussian", overlap: 0.25, sigma_scale: 0.125 }],
        ] as const;
        const errs: Record<string, number> = {};
        for (const [name, key, c] of all) {
          const inferer = new SlidingWindow({ roi_size: [32, 32, 32], sw_batch_size: 2, ...c });
          const y = await inferer.infer(x, (b) => net.apply(b));
          expect(y.shape).toEqual([1, 50, 40, 36, 3]);
          const ref = channelLast(fx.tensors.get(key)!);
          errs[name] = relErr(await y.data(), await ref.data());
          tf.dispose([y, ref]);
        }
        logParity(`${backend} sliding window`, errs);
        for (const [k, e] of Object.entries(errs))
          expect(e, `${backend} ${k} rel err ${e}`).toBeLessThanOrEqual(BOUND[backend][k]);
        x.dispose();
      });
    });
  }
});
