import * as tf from "@tensorflow/tfjs-core";
import { RandomState, type VoxelpipeError } from "@voxelpipe/core";
import { beforeAll, describe, expect, it } from "vitest";
import { relErr } from "../../../test-utils/compare.js";
import { countParams, UNETR, ViT, ViTAutoEnc } from "../src/index.js";
import { useBackend } from "./helpers.js";

const sumWhere = (vars: Map<string, tf.Variable>, prefix: string) =>
  [...vars].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v.size, 0);

describe("parameter counts at the BTCV config (monai-semantics §3.2–3.4, no unused cross-attn)", () => {
  beforeAll(() => useBackend("cpu"));

  it("ViT = 88,340,736 (conv and perceptron)", () => {
    for (const proj_type of ["conv", "perceptron"] as const) {
      const vit = new ViT({ in_channels: 1, img_size: 96, patch_size: 16, proj_type });
      expect(countParams(vit.params)).toBe(88_340_736);
      vit.dispose();
    }
  });

  it("UNETR = 92,784,046 with MONAI's per-module split", () => {
    const net = new UNETR({ in_channels: 1, out_channels: 14, img_size: [96, 96, 96], feature_size: 16 });
    expect(countParams(net.params)).toBe(92_784_046);
    const modules: [string, number][] = [
      ["vit.", 88_340_736],
      ["encoder1.", 7_360],
      ["encoder2.", 323_584],
      ["encoder3.", 647_168],
      ["encoder4.", 786_432],
      ["decoder5.", 2_146_304],
      ["decoder4.", 405_504],
      ["decoder3.", 101_376],
      ["decoder2.", 25_344],
      ["out.", 238],
    ];
    for (const [p, n] of modules) expect(sumWhere(net.params, p), p).toBe(n);
    // MONAI names and PyTorch-derived shapes in our layout (§3.4 list, permuted per §3.6)
    const shape = (k: string) => net.params.get(k)?.shape;
    expect(shape("encoder1.layer.conv3.conv.weight")).toEqual([1, 1, 1, 1, 16]);
    expect(shape("encoder2.transp_conv_init.conv.weight")).toEqual([2, 2, 2, 32, 768]);
    expect(shape("encoder2.blocks.1.1.conv2.conv.weight")).toEqual([3, 3, 3, 32, 32]);
    expect(shape("decoder5.conv_block.conv1.conv.weight")).toEqual([3, 3, 3, 256, 128]);
    expect(shape("vit.blocks.11.attn.qkv.weight")).toEqual([768, 2304]);
    expect(shape("vit.patch_embedding.position_embeddings")).toEqual([1, 216, 768]);
    expect(shape("out.conv.conv.bias")).toEqual([14]);
    expect(net.params.has("vit.blocks.0.attn.qkv.bias")).toBe(false);
    expect(net.paramInfo.get("decoder2.transp_conv.conv.weight")?.layout).toBe("convTranspose");
    expect(net.paramInfo.get("vit.blocks.0.mlp.linear1.weight")?.layout).toBe("linear");
    net.dispose();
  });

  it("ViTAutoEnc = 89,128,209", () => {
    const net = new ViTAutoEnc({ in_channels: 1, img_size: 96, patch_size: 16 });
    expect(countParams(net.params)).toBe(89_128_209);
    expect(net.params.get("conv3d_transpose.weight")?.shape).toEqual([4, 4, 4, 16, 768]);
    expect(net.params.get("conv3d_transpose_1.weight")?.shape).toEqual([4, 4, 4, 1, 16]);
    net.dispose();
  });
});

const tiny = {
  in_channels: 1,
  out_channels: 2,
  img_size: 16,
  feature_size: 2,
  hidden_size: 12,
  mlp_dim: 8,
  num_heads: 2,
};

describe("construction and forward behaviour", () => {
  beforeAll(() => useBackend("cpu"));

  it("initialisation is deterministic per seed", async () => {
    const a = new UNETR(tiny, new RandomState(5));
    const b = new UNETR(tiny, new RandomState(5));
    const c = new UNETR(tiny, new RandomState(6));
    const k = "vit.blocks.2.attn.qkv.weight";
    expect(Array.from(await a.params.get(k)!.data())).toEqual(Array.from(await b.params.get(k)!.data()));
    expect(Array.from(await a.params.get(k)!.data())).not.toEqual(Array.from(await c.params.get(k)!.data()));
    // PyTorch-default bound U(±1/√fan_in) for Linear; trunc-normal(0.02) for the position embedding
    const w = await a.params.get(k)!.data();
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(12));
    const pe = await a.params.get("vit.patch_embedding.position_embeddings")!.data();
    expect(Math.max(...Array.from(pe, Math.abs))).toBeLessThan(0.1);
    for (const n of [a, b, c]) n.dispose();
  });

  it("ViT classification: cls token, Tanh head under MONAI's names, output in (-1, 1)", async () => {
    const vit = new ViT(
      {
        in_channels: 1,
        img_size: 16,
        patch_size: 8,
        hidden_size: 12,
        mlp_dim: 8,
        num_heads: 2,
        num_layers: 2,
        classification: true,
        num_classes: 3,
      },
      new RandomState(1),
    );
    expect(vit.params.get("cls_token")?.shape).toEqual([1, 1, 12]);
    expect(vit.params.has("classification_head.0.weight")).toBe(true);
    const x = tf.randomUniform([2, 16, 16, 16, 1], 0, 1, "float32", 1);
    const { out, hidden } = vit.forwardWithHidden(x);
    expect(out.shape).toEqual([2, 3]);
    expect(hidden[0].shape).toEqual([2, 9, 12]); // 8 patches + cls
    expect(Math.max(...Array.from(await out.data(), Math.abs))).toBeLessThan(1);
    tf.dispose([x, out, ...hidden]);
    vit.dispose();
  });

  it("dropout acts only in training and is reproducible for a seed", async () => {
    const mk = () => new ViT({ ...tiny, patch_size: 8, num_layers: 2, dropout_rate: 0.5 }, new RandomState(3));
    const [a, b] = [mk(), mk()];
    const x = tf.randomUniform([1, 16, 16, 16, 1], 0, 1, "float32", 2);
    const e1 = await a.apply(x).data();
    const e2 = await a.apply(x).data();
    expect(Array.from(e1)).toEqual(Array.from(e2));
    const t1 = await a.apply(x, { training: true }).data();
    const t2 = await b.apply(x, { training: true }).data();
    expect(relErr(t1, e1)).toBeGreaterThan(1e-2);
    expect(Array.from(t1)).toEqual(Array.from(t2));
    tf.dispose(x);
    a.dispose();
    b.dispose();
  });

  it("res_block=false uses UnetBasicBlock (no conv3); conv_block=false keeps only PrUp transposed convs", () => {
    const keys = (n: UNETR) => [...n.params.keys()];
    const res = new UNETR(tiny, new RandomState(0));
    const basic = new UNETR({ ...tiny, res_block: false }, new RandomState(0));
    const bare = new UNETR({ ...tiny, conv_block: false }, new RandomState(0));
    expect(keys(basic)).toEqual(keys(res).filter((k) => !k.includes(".conv3.")));
    const expectedBare = keys(res)
      .filter((k) => !/^encoder[23]\.blocks\.\d+\.1\./.test(k))
      .map((k) => k.replace(/^(encoder[23]\.blocks\.\d+)\.0\.conv\./, "$1.conv."));
    expect(keys(bare)).toEqual(expectedBare);
    for (const n of [basic, bare]) {
      const x = tf.randomUniform([1, 16, 16, 16, 1], 0, 1, "float32", 9);
      const y = n.apply(x);
      expect(y.shape).toEqual([1, 16, 16, 16, 2]);
      tf.dispose([x, y]);
    }
    for (const n of [res, basic, bare]) n.dispose();
  });

  it("rejects channel-first input and bad configs with clear errors", () => {
    const net = new UNETR(tiny, new RandomState(0));
    const x = tf.zeros([1, 1, 16, 16, 16]);
    try {
      net.apply(x);
      expect.unreachable();
    } catch (e) {
      const d = (e as VoxelpipeError).diagnostics[0];
      expect(d.expected).toBe("[B, 16, 16, 16, 1] (channel-last)");
      expect(d.hint).toMatch(/channel-first/);
    }
    x.dispose();
    net.dispose();
    expect(() => new UNETR({ ...tiny, img_size: 24 })).toThrow(/divisible by 16/);
    expect(() => new UNETR({ ...tiny, num_heads: 5 })).toThrow(/divisible by num_heads/);
    expect(() => new ViT({ in_channels: 1, img_size: 20, patch_size: 16 })).toThrow(/divisible/);
  });
});

describe("gradients: every UNETR parameter is trained, and wasm agrees with cpu", () => {
  it("variableGrads on a tiny UNETR give the same finite gradients on cpu and wasm", async () => {
    const grads: Record<string, Record<string, Float32Array>> = {};
    for (const backend of ["cpu", "wasm"]) {
      await useBackend(backend);
      const net = new UNETR(tiny, new RandomState(11));
      const x = tf.randomUniform([1, 16, 16, 16, 1], 0, 1, "float32", 4);
      const target = tf.randomUniform([1, 16, 16, 16, 2], 0, 1, "float32", 5);
      const { value, grads: g } = tf.variableGrads(() =>
        tf.mean(tf.square(tf.sub(net.apply(x, { training: true }), target))),
      );
      grads[backend] = {};
      for (const [k, v] of net.params) {
        const gv = g[v.name];
        expect(gv, `gradient for ${k}`).toBeDefined();
        grads[backend][k] = (await gv.data()) as Float32Array;
      }
      tf.dispose([value, x, target, ...Object.values(g)]);
      net.dispose();
    }
    let zero = 0;
    for (const k of Object.keys(grads.cpu)) {
      const c = grads.cpu[k];
      expect(c.every(Number.isFinite), k).toBe(true);
      if (c.every((v) => v === 0)) zero++;
      else {
        // ‖Δ‖/‖g‖ ≤ 1e-4, or an absolute ‖Δ‖ ≤ 1e-6 for gradients that are float32 noise by construction
        // (a 1-input-channel conv followed by InstanceNorm is scale-invariant: encoder1.layer.conv3)
        const rel = relErr(grads.wasm[k], c);
        const norm = Math.sqrt(c.reduce((a, v) => a + v * v, 0));
        expect(rel < 1e-4 || rel * norm < 1e-6, `${k} wasm vs cpu: rel ${rel}, ‖g‖ ${norm}`).toBe(true);
      }
    }
    expect(zero).toBe(0);
  });
});
