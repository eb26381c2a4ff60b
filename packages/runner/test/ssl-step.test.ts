import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ComponentResolver,
  compilePipeline,
  createMemoryLogger,
  decodeSafetensors,
  type Loss,
  type Model,
  runContainer,
  tf,
} from "@voxelpipe/core";
import "@tensorflow/tfjs-backend-cpu";
import { describe, expect, it } from "vitest";
import { builtinRegistries } from "../src/registries.js";
import { StepGraph } from "../src/train/step-graph.js";
import { REPO, SHARED } from "./helpers.js";

const FIX = join(SHARED, "reference", "fixtures", "vitautoenc_ssl.safetensors");

/** fixture tensors are channel-first [B, C, S0, S1, S2]: ours are channel-last */
function channelLast(t: { shape: number[]; data: Float32Array }): tf.Tensor {
  return tf.tidy(() => tf.transpose(tf.tensor(t.data, t.shape), [0, 2, 3, 4, 1]));
}

describe.skipIf(!existsSync(FIX))(
  "the SSL step of pipelines/ssl-vit-pretrain.yaml on MONAI's fixture (needs ../shared; skipped: ../shared not found)",
  () => {
    it("reproduces the fixture's L1, contrastive and total loss through the YAML step graph", async () => {
      await tf.setBackend("cpu");
      const registries = builtinRegistries();
      const model = `{type: ViTAutoEnc, in_channels: 1, img_size: [32, 32, 32], patch_size: [16, 16, 16], hidden_size: 48, mlp_dim: 96, num_heads: 4, init: {from: "${FIX}", format: monai, exclude: ["io.*"], strict: true}}`;
      const r = await compilePipeline(join(REPO, "pipelines", "ssl-vit-pretrain.yaml"), {
        registries,
        overrides: [`stages.pretrain.model=${model}`],
      });
      expect(r.diagnostics).toEqual([]);
      const p = r.pipeline!;
      const container = runContainer({ registries, logger: createMemoryLogger(), seed: p.seed, backend: "cpu" });
      const resolver = new ComponentResolver({
        container,
        root: p.value,
        baseDir: p.baseDir,
        stageOutputs: () => undefined,
      });
      const net = await resolver.build<Model>("model", ["stages", "pretrain", "model"]);
      const stage = p.stages.get("pretrain")!;
      const graph = await StepGraph.compile(stage.config.step as never, (entry, name) =>
        resolver.buildValue<Loss>("loss", entry, ["stages", "pretrain", "step", name, "call"]),
      );
      const fx = decodeSafetensors(readFileSync(FIX)).tensors;
      const get = (k: string) => fx.get(k) as { shape: number[]; data: Float32Array };
      const batch = {
        image: channelLast(get("io.view1")),
        image_2: channelLast(get("io.view2")),
        gt_image: channelLast(get("io.gt_image")),
      };
      const env = graph.run(batch, { model: net }, { training: false });
      const got = {
        l1: env.get("l1")!.dataSync()[0],
        cl: env.get("cl")!.dataSync()[0],
        loss: env.get("loss")!.dataSync()[0],
      };
      const want = { l1: get("io.l1").data[0], cl: get("io.contrastive").data[0], loss: get("io.total").data[0] };
      for (const k of ["l1", "cl", "loss"] as const)
        expect(Math.abs(got[k] - want[k]) / Math.abs(want[k]), k).toBeLessThan(1e-5);
    });
  },
);
