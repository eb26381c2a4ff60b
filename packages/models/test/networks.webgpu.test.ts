/**
 * MONAI parity of UNETR and ViTAutoEnc on the webgpu backend (`--backend webgpu`; SwiftShader here
 * and in CI), the same fixtures and bounds as unetr-parity / vitautoenc-parity on cpu and wasm.
 * Under CI a missing adapter or ../shared fails the file.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { createMemoryLogger, engine, RandomState } from "@voxelpipe/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { switchBackend } from "../../../test-utils/backend.js";
import { logParity, relDiff, relErr } from "../../../test-utils/compare.js";
import { loadFixture } from "../../../test-utils/fixtures.js";
import { FIXTURES, sharedOrSkip } from "../../../test-utils/gates.js";
import { webgpuOrSkip } from "../../../test-utils/webgpu.js";
import { applyInit, UNETR, unetrArgs, ViTAutoEnc, vitAutoEncArgs } from "../src/index.js";
import { channelLast, fixtureConfig } from "./helpers.js";

const need = sharedOrSkip("reference/fixtures/unetr.safetensors", "reference/fixtures/vitautoenc_ssl.safetensors");
const gpu = await webgpuOrSkip();

/** relative error bounds, ~10× the measured error (webgpu on SwiftShader, tfjs 4.22) */
const BOUND = {
  vit_out: 7e-6, // measured 6.5e-7
  hidden_3: 7e-6, // measured 7.2e-7
  hidden_6: 7e-6, // measured 6.9e-7
  hidden_9: 7e-6, // measured 7.0e-7
  logits: 7e-6, // measured 6.9e-7
  recon1: 2e-6, // measured 2.0e-7
  recon2: 2e-6, // measured 2.1e-7
  l1: 1e-6, // measured 7.4e-8
};

describe.skipIf(!need.ok || !gpu.ok)(
  need.title(gpu.title(`UNETR and ViTAutoEnc parity with MONAI 1.4 on webgpu`)),
  () => {
    let unetr: UNETR;
    let vae: ViTAutoEnc;
    beforeAll(async () => {
      const cfg = fixtureConfig(loadFixture("unetr"), unetrArgs);
      unetr = new UNETR(
        { ...cfg, proj_type: "conv", norm_name: "instance", res_block: true, conv_block: true },
        new RandomState(1),
      );
      const report = await applyInit(
        unetr,
        { from: `${FIXTURES}/unetr.safetensors`, format: "monai", exclude: ["io.*"], strict: true },
        createMemoryLogger(),
      );
      expect(report.missing).toEqual([]);
      const c2 = fixtureConfig(loadFixture("vitautoenc_ssl"), vitAutoEncArgs);
      vae = new ViTAutoEnc({ ...c2, proj_type: "conv" }, new RandomState(2));
      await applyInit(
        vae,
        { from: `${FIXTURES}/vitautoenc_ssl.safetensors`, format: "monai", exclude: ["io.*"], strict: true },
        createMemoryLogger(),
      );
    });
    afterAll(() => {
      unetr?.dispose();
      vae?.dispose();
    });

    it("UNETR: ViT output, hidden states 3/6/9 and logits within BOUND", async () => {
      const fx = loadFixture("unetr");
      const x = channelLast(fx.get("io.input"));
      const before = tf.memory().numTensors;
      const { logits, vitOut, hidden } = unetr.forwardWithHidden(x);
      const errs: Record<string, number> = {
        vit_out: relErr(await vitOut.data(), fx.f32("io.vit_out")),
        hidden_3: relErr(await hidden[3].data(), fx.f32("io.hidden_3")),
        hidden_6: relErr(await hidden[6].data(), fx.f32("io.hidden_6")),
        hidden_9: relErr(await hidden[9].data(), fx.f32("io.hidden_9")),
      };
      const ref = channelLast(fx.get("io.output"));
      errs.logits = relErr(await logits.data(), await ref.data());
      const peak = tf.tidy(() => tf.max(tf.abs(logits)));
      expect((await peak.data())[0]).toBeGreaterThan(0.1);
      tf.dispose([peak, logits, vitOut, ...hidden, ref]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      logParity("webgpu UNETR", errs);
      for (const [k, e] of Object.entries(errs))
        expect(e, `webgpu ${k}`).toBeLessThanOrEqual(BOUND[k as keyof typeof BOUND]);
      expect(engine.takeWebgpuErrors()).toEqual([]);
    });

    it("ViTAutoEnc: both views' reconstructions and the L1 within BOUND", async () => {
      const fx = loadFixture("vitautoenc_ssl");
      const gt = channelLast(fx.get("io.gt_image"));
      const errs: Record<string, number> = {};
      for (const [view, recon] of [
        ["io.view1", "recon1"],
        ["io.view2", "recon2"],
      ]) {
        const x = channelLast(fx.get(view));
        const y = vae.apply(x);
        errs[recon] = relErr(await y.data(), fx.f32(`io.${recon}`));
        if (recon === "recon1") {
          const l1 = tf.tidy(() => tf.mean(tf.abs(tf.sub(y, gt))));
          errs.l1 = relDiff((await l1.data())[0], fx.f32("io.l1")[0]);
          l1.dispose();
        }
        tf.dispose([x, y]);
      }
      gt.dispose();
      logParity("webgpu ViTAutoEnc", errs);
      for (const [k, e] of Object.entries(errs))
        expect(e, `webgpu ${k}`).toBeLessThanOrEqual(BOUND[k as keyof typeof BOUND]);
      expect(engine.takeWebgpuErrors()).toEqual([]);
    });
  },
);

describe.skipIf(!gpu.ok)(gpu.title(`UNETR gradients on webgpu = wasm`), () => {
  it("every parameter's gradient of a tiny UNETR (the CLI test's network) matches wasm", async () => {
    const cfg = {
      in_channels: 1,
      out_channels: 3,
      img_size: 16,
      feature_size: 2,
      hidden_size: 16,
      mlp_dim: 32,
      num_heads: 2,
    };
    const grads: Record<string, Float32Array[]> = {};
    for (const backend of ["webgpu", "wasm"]) {
      await switchBackend(backend);
      const net = new UNETR(cfg, new RandomState(3));
      const x = tf.tensor(
        Float32Array.from({ length: 16 ** 3 }, (_, i) => Math.sin(i * 0.37)),
        [1, 16, 16, 16, 1],
      );
      const target = tf.tensor(
        Float32Array.from({ length: 3 * 16 ** 3 }, (_, i) => Math.cos(i * 0.11)),
        [1, 16, 16, 16, 3],
      );
      const vars = [...net.params.values()].filter((v) => v.trainable);
      const { value, grads: g } = tf.variableGrads(
        () => tf.mean(tf.square(tf.sub(net.apply(x, { training: true }), target))) as tf.Scalar,
        vars,
      );
      // parameters in construction order (the same seed builds the same network on both backends)
      grads[backend] = [];
      for (const v of vars) grads[backend].push((await g[v.name].data()) as Float32Array);
      tf.dispose([value, x, target, ...Object.values(g)]);
      net.dispose();
    }
    await switchBackend("webgpu");
    expect(grads.webgpu.length).toBe(grads.wasm.length);
    expect(grads.wasm.length).toBeGreaterThan(50);
    // ‖Δ‖/‖g‖ over all gradients together, and the worst single parameter (a near-cancelling gradient, such as
    // a bias before an instance norm, has a larger relative error on any backend)
    let num = 0;
    let den = 0;
    let worst = 0;
    for (const [i, want] of grads.wasm.entries()) {
      const got = grads.webgpu[i];
      for (let j = 0; j < want.length; j++) {
        num += (got[j] - want[j]) ** 2;
        den += want[j] ** 2;
      }
      worst = Math.max(worst, relErr(got, want));
    }
    const all = Math.sqrt(num / den);
    logParity("webgpu vs wasm tiny UNETR gradients", { all: all, worst_parameter: worst });
    expect(all).toBeLessThan(1e-5); // measured 1.3e-6
    expect(worst).toBeLessThan(1e-4); // measured 1.2e-5
    expect(engine.takeWebgpuErrors()).toEqual([]);
  });
});
