import * as tf from "@tensorflow/tfjs-core";
import {
  Codes,
  type ComponentContext,
  createMemoryLogger,
  deriveSeed,
  RandomState,
  type VoxelpipeError,
} from "@voxelpipe/core";
import { beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { loadFixture } from "../../../test-utils/fixtures.js";
import { FIXTURES, sharedOrSkip } from "../../../test-utils/gates.js";
import { fromTorchLayout, plugin, type UNETR } from "../src/index.js";
import { useBackend } from "./helpers.js";

const need = sharedOrSkip("reference/fixtures/unetr.safetensors");

function ctx(seed = 0): ComponentContext & { logger: ReturnType<typeof createMemoryLogger> } {
  return {
    logger: createMemoryLogger(),
    path: "stages.finetune.model",
    seed,
    rng: (...parts) => new RandomState(deriveSeed(seed, "stages.finetune.model", ...parts)),
    backend: "cpu",
    baseDir: FIXTURES,
    build: async () => {
      throw new Error("not used");
    },
  };
}

const def = (name: string) =>
  plugin.components.find((c) => c.name === name)! as {
    kind: string;
    args: z.ZodType;
    create: (a: unknown, c: ComponentContext) => Promise<unknown>;
  };

describe("registered components", () => {
  beforeAll(() => useBackend("cpu"));

  it("the plugin registers ViT, ViTAutoEnc, UNETR (models) and SlidingWindow (inferer) under vp", () => {
    expect(plugin.meta).toMatchObject({ name: "@voxelpipe/models", namespace: "vp" });
    expect(plugin.components.map((c) => `${c.kind}:${c.name}`)).toEqual([
      "model:ViT",
      "model:ViTAutoEnc",
      "model:UNETR",
      "inferer:SlidingWindow",
    ]);
  });

  it("UNETR args carry MONAI's names and defaults; unknown keys are rejected", () => {
    const a = def("UNETR").args.parse({ in_channels: 1, out_channels: 14, img_size: [96, 96, 96] });
    expect(a).toEqual({
      in_channels: 1,
      out_channels: 14,
      img_size: [96, 96, 96],
      feature_size: 16,
      hidden_size: 768,
      mlp_dim: 3072,
      num_heads: 12,
      proj_type: "conv",
      norm_name: "instance",
      conv_block: true,
      res_block: true,
      dropout_rate: 0,
      spatial_dims: 3,
      qkv_bias: false,
    });
    expect(() => def("UNETR").args.parse({ in_channels: 1, out_channels: 14, img_size: 96, hiden_size: 8 })).toThrow();
    expect(() =>
      def("UNETR").args.parse({ in_channels: 1, out_channels: 14, img_size: 96, init: { from: "x", map: "vit" } }),
    ).toThrow();
    const v = def("ViTAutoEnc").args.parse({ in_channels: 1, img_size: 96, patch_size: 16 });
    expect(v).toMatchObject({ out_channels: 1, deconv_chns: 16, num_layers: 12 });
  });

  it("create() is seeded by the context and maps config errors to the entry's path", async () => {
    const args = def("UNETR").args.parse({
      in_channels: 1,
      out_channels: 2,
      img_size: 16,
      feature_size: 2,
      hidden_size: 12,
      mlp_dim: 8,
      num_heads: 2,
    });
    const a = (await def("UNETR").create(args, ctx(1))) as UNETR;
    const b = (await def("UNETR").create(args, ctx(1))) as UNETR;
    const k = "decoder2.conv_block.conv1.conv.weight";
    expect(Array.from(await a.params.get(k)!.data())).toEqual(Array.from(await b.params.get(k)!.data()));
    a.dispose();
    b.dispose();
    const bad = def("UNETR").args.parse({ in_channels: 1, out_channels: 2, img_size: 20 });
    const e = (await def("UNETR")
      .create(bad, ctx())
      .catch((x) => x)) as VoxelpipeError;
    expect(e.diagnostics[0]).toMatchObject({ code: Codes.invalidValue, path: "stages.finetune.model" });
    expect(e.diagnostics[0].message).toMatch(/divisible by 16/);
  });

  it.skipIf(!need.ok)(need.title("create() loads init (relative path, monai format)"), async () => {
    const c = ctx();
    const args = def("UNETR").args.parse({
      in_channels: 1,
      out_channels: 3,
      img_size: 32,
      feature_size: 4,
      hidden_size: 48,
      mlp_dim: 96,
      num_heads: 4,
      init: { from: "unetr.safetensors", format: "monai", exclude: ["io.*"], strict: true },
    });
    const net = (await def("UNETR").create(args, c)) as UNETR;
    const fx = loadFixture("unetr");
    const k = "decoder3.conv_block.conv1.conv.weight";
    const ref = fromTorchLayout(fx.tensors.get(k)!, "conv");
    expect(Array.from(await net.params.get(k)!.data())).toEqual(Array.from(ref.data as Float32Array));
    expect(c.logger.lines.some((l) => l.includes("init UNETR from") && l.includes("missing 0"))).toBe(true);
    const y = net.apply(tf.zeros([1, 32, 32, 32, 1]));
    expect(y.shape).toEqual([1, 32, 32, 32, 3]);
    y.dispose();
    net.dispose();
  });
});
