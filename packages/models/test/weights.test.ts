import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { Codes, createMemoryLogger, RandomState, readSafetensors, type VoxelpipeError } from "@voxelpipe/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { loadFixture } from "../../../test-utils/fixtures.js";
import { FIXTURES, sharedOrSkip } from "../../../test-utils/gates.js";
import {
  applyCheckpoint,
  applyInit,
  exportMonaiStateDict,
  fromTorchLayout,
  importMonaiStateDict,
  initSchema,
  isUnusedMonaiKey,
  loadCheckpoint,
  permuteArray,
  saveCheckpoint,
  saveMonaiSafetensors,
  toTorchLayout,
  UNETR,
  ViTAutoEnc,
} from "../src/index.js";
import { useBackend } from "./helpers.js";

const need = sharedOrSkip("reference/fixtures/unetr.safetensors", "reference/fixtures/vitautoenc_ssl.safetensors");

const dir = mkdtempSync(join(tmpdir(), "vp-w-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => useBackend("cpu"));

const unetrCfg = {
  in_channels: 1,
  out_channels: 3,
  img_size: 32,
  feature_size: 4,
  hidden_size: 48,
  mlp_dim: 96,
  num_heads: 4,
};
const aeCfg = { in_channels: 1, img_size: 32, patch_size: 16, hidden_size: 48, mlp_dim: 96, num_heads: 4 };
const bytesOf = (d: ArrayBufferView) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
const values = async (v: tf.Tensor) => Array.from(await v.data());

describe("layout permutations (monai-semantics §3.6)", () => {
  it("Conv3d [O,I,k0,k1,k2] → [k0,k1,k2,I,O], Linear transposed, inverse restores", () => {
    // conv weight O=2, I=1, k=(1,1,2): value = 10·o + k2
    const conv = { dtype: "F32" as const, shape: [2, 1, 1, 1, 2], data: new Float32Array([0, 1, 10, 11]) };
    const ours = fromTorchLayout(conv, "conv");
    expect(ours.shape).toEqual([1, 1, 2, 1, 2]);
    expect(Array.from(ours.data as Float32Array)).toEqual([0, 10, 1, 11]); // [k2][o]
    expect(Array.from(toTorchLayout(ours, "conv").data as Float32Array)).toEqual([0, 1, 10, 11]);
    const lin = { dtype: "F32" as const, shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) };
    expect(Array.from(fromTorchLayout(lin, "linear").data as Float32Array)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(permuteArray(new Float32Array([0, 1, 2, 3, 4, 5]), [1, 2, 3], [2, 0, 1]))).toEqual([
      0, 3, 1, 4, 2, 5,
    ]);
    expect(() => fromTorchLayout(lin, "conv", "k")).toThrow(/k: expected a rank-5 tensor/);
    expect(isUnusedMonaiKey("vit.blocks.3.cross_attn.to_q.weight")).toBe(true);
    expect(isUnusedMonaiKey("blocks.0.norm_cross_attn.bias")).toBe(true);
    expect(isUnusedMonaiKey("vit.blocks.3.attn.qkv.weight")).toBe(false);
  });
});

describe.skipIf(!need.ok)(need.title("MONAI weights and checkpoints"), () => {
  it("MONAI-keyed safetensors → our UNETR → export: every tensor byte-identical", async () => {
    const fx = loadFixture("unetr");
    const net = new UNETR(unetrCfg, new RandomState(0));
    const sd = new Map([...fx.tensors].filter(([k]) => !k.startsWith("io.")));
    // cross-attention keys MONAI 1.4 adds are dropped on import
    sd.set("vit.blocks.0.cross_attn.out_proj.bias", { dtype: "F32", shape: [48], data: new Float32Array(48) });
    const { tensors, ignored } = importMonaiStateDict(sd, net.paramInfo);
    expect(ignored).toEqual(["vit.blocks.0.cross_attn.out_proj.bias"]);
    for (const [k, t] of tensors) net.params.get(k)!.assign(tf.tensor(t.data as Float32Array, t.shape));
    const out = await exportMonaiStateDict(net);
    expect(out.size).toBe(sd.size - 1);
    for (const [k, t] of out) {
      expect(t.shape, k).toEqual(fx.tensors.get(k)!.shape);
      expect(bytesOf(t.data).equals(bytesOf(fx.tensors.get(k)!.data)), k).toBe(true);
    }
    // and through a file
    const p = join(dir, "unetr_monai.safetensors");
    await saveMonaiSafetensors(p, net);
    const again = (await readSafetensors(p)).tensors;
    for (const [k, t] of again) expect(bytesOf(t.data).equals(bytesOf(fx.tensors.get(k)!.data)), k).toBe(true);
    net.dispose();
  });

  it("saveCheckpoint / loadCheckpoint keep metadata and values; init format voxelpipe restores a model", async () => {
    const a = new UNETR(unetrCfg, new RandomState(1));
    const p = join(dir, "ckpt", "best.safetensors");
    // optimizer slots stored alongside (as the runner's Checkpointer does) are not parameters
    const slot = { dtype: "F32" as const, shape: [2], data: new Float32Array([1, 2]) };
    await saveCheckpoint(
      p,
      a,
      { component: "UNETR", args: a.config, epoch: 7 },
      new Map([["optimizer/m/out.conv.conv.bias", slot]]),
    );
    const ck = await loadCheckpoint(p);
    expect(ck.metadata.format).toBe("voxelpipe-checkpoint/1");
    expect(ck.meta?.component).toBe("UNETR");
    expect((ck.meta!.args as { feature_size: number }).feature_size).toBe(4);
    expect(ck.meta?.epoch).toBe(7);
    expect(ck.meta?.versions["@tensorflow/tfjs-core"]).toBe("4.22.0");
    expect(ck.tensors.size).toBe(a.params.size + 1);
    const b = new UNETR(unetrCfg, new RandomState(2));
    const logger = createMemoryLogger();
    const rep = await applyInit(b, { from: p, strict: true }, logger);
    expect(rep.loaded.length).toBe(a.params.size);
    expect(rep.ignored).toEqual(["optimizer/m/out.conv.conv.bias"]);
    for (const [k, v] of a.params) expect(await values(b.params.get(k)!), k).toEqual(await values(v));
    expect(logger.lines.some((l) => /loaded \d+ tensors, missing 0, unexpected 0/.test(l))).toBe(true);
    a.dispose();
    b.dispose();
  });

  it("SSL transfer from YAML: ViTAutoEnc encoder → UNETR vit.*, decoder untouched (137 keys)", async () => {
    // pre-training result: a ViTAutoEnc (fixture weights) saved as a voxelpipe checkpoint
    const ae = new ViTAutoEnc(aeCfg, new RandomState(3));
    await applyInit(
      ae,
      { from: `${FIXTURES}/vitautoenc_ssl.safetensors`, format: "monai", exclude: ["io.*"] },
      createMemoryLogger(),
    );
    const ssl = join(dir, "ssl_best.safetensors");
    await saveCheckpoint(ssl, ae, { component: "ViTAutoEnc", args: ae.config });

    const yaml = `
init:
  from: ssl_best.safetensors
  include: ["patch_embedding.*", "blocks.*", "norm.*"]
  rename: { "": "vit." }
`;
    const init = initSchema.parse(parseYaml(yaml).init);
    const net = new UNETR(unetrCfg, new RandomState(4));
    const decoderBefore = new Map<string, number[]>();
    for (const [k, v] of net.params) if (!k.startsWith("vit.")) decoderBefore.set(k, await values(v));
    const logger = createMemoryLogger();
    const rep = await applyInit(net, init, logger, { baseDir: dir });
    expect(rep.loaded.length).toBe(137);
    expect(rep.filtered.sort()).toEqual([
      "conv3d_transpose.bias",
      "conv3d_transpose.weight",
      "conv3d_transpose_1.bias",
      "conv3d_transpose_1.weight",
    ]);
    expect(rep.unexpected).toEqual([]);
    expect(rep.missing.every((k) => !k.startsWith("vit."))).toBe(true);
    for (const [k, v] of ae.params) {
      if (k.startsWith("conv3d_transpose")) continue;
      expect(await values(net.params.get(`vit.${k}`)!), k).toEqual(await values(v));
    }
    for (const [k, before] of decoderBefore) expect(await values(net.params.get(k)!), k).toEqual(before);
    expect(logger.lines.find((l) => l.includes("loaded 137 tensors"))).toMatch(/filtered out 4/);
    expect(logger.lines.some((l) => l.startsWith("init: missing (kept current values): encoder1."))).toBe(true);
    ae.dispose();
    net.dispose();
  });

  it("the same transfer straight from a MONAI state dict (format monai)", async () => {
    const fx = loadFixture("vitautoenc_ssl");
    const net = new UNETR(unetrCfg, new RandomState(5));
    const rep = await applyInit(
      net,
      {
        from: `${FIXTURES}/vitautoenc_ssl.safetensors`,
        format: "monai",
        include: ["patch_embedding.*", "blocks.*", "norm.*"],
        rename: { "": "vit." },
      },
      createMemoryLogger(),
    );
    expect(rep.loaded.length).toBe(137);
    const k = "blocks.4.attn.qkv.weight";
    const ours = fromTorchLayout(fx.tensors.get(k)!, "linear");
    expect(await values(net.params.get(`vit.${k}`)!)).toEqual(Array.from(ours.data as Float32Array));
    net.dispose();
  });

  it("errors: shape mismatch names key and shapes; PyTorch layout hint; strict; nothing assigned on error", async () => {
    const small = new UNETR({ ...unetrCfg, hidden_size: 24, mlp_dim: 48 }, new RandomState(6));
    const before = await values(small.params.get("encoder1.layer.conv1.conv.weight")!);
    const err = (await applyInit(
      small,
      { from: `${FIXTURES}/unetr.safetensors`, format: "monai", exclude: ["io.*"] },
      createMemoryLogger(),
    ).catch((e) => e)) as VoxelpipeError;
    const d = err.diagnostics.find((x) => x.message.includes('"vit.norm.weight"'))!;
    expect(d.expected).toBe("[24]");
    expect(d.got).toBe("[48]");
    expect(err.diagnostics.some((x) => x.message.includes("position_embeddings"))).toBe(true);
    // encoder1 shapes do match, but nothing is assigned when any tensor fails
    expect(await values(small.params.get("encoder1.layer.conv1.conv.weight")!)).toEqual(before);
    small.dispose();

    const net = new UNETR(unetrCfg, new RandomState(7));
    const e2 = (await applyInit(
      net,
      { from: `${FIXTURES}/unetr.safetensors`, exclude: ["io.*"] },
      createMemoryLogger(),
    ).catch((e) => e)) as VoxelpipeError;
    const conv = e2.diagnostics.find((x) => x.message.includes('"encoder1.layer.conv1.conv.weight"'))!;
    expect([conv.expected, conv.got]).toEqual(["[3, 3, 3, 1, 4]", "[4, 1, 3, 3, 3]"]);
    expect(conv.hint).toMatch(/init\.format: monai/);

    const e3 = (await applyInit(
      net,
      { from: `${FIXTURES}/vitautoenc_ssl.safetensors`, format: "monai", rename: { "": "vit." }, strict: true },
      createMemoryLogger(),
    ).catch((e) => e)) as VoxelpipeError;
    expect(e3.diagnostics.map((x) => x.message).join("\n")).toMatch(/strict.*model parameters are not in/);
    expect(e3.diagnostics.map((x) => x.message).join("\n")).toMatch(
      /checkpoint tensors match no model parameter: vit\.conv3d/,
    );

    const e4 = (await applyInit(
      net,
      {
        from: `${FIXTURES}/unetr.safetensors`,
        format: "monai",
        include: ["vit.norm.*"],
        rename: { "vit.norm.weight": "vit.norm.bias" },
      },
      createMemoryLogger(),
    ).catch((e) => e)) as VoxelpipeError;
    expect(e4.diagnostics[0].message).toMatch(/both map to model key "vit.norm.bias"/);
    expect(() => initSchema.parse({ from: "x", map: "vit" })).toThrow();
    net.dispose();
  });

  it("applyCheckpoint (infer, export web): a checkpoint lacking any model parameter is refused, naming how to set the format", async () => {
    const net = new UNETR(unetrCfg, new RandomState(8));
    // a ViTAutoEnc's state dict: its keys are not UNETR's (no vit. prefix), so every parameter is missing
    const partial = { from: `${FIXTURES}/vitautoenc_ssl.safetensors`, format: "monai" as const };
    const e = (await applyCheckpoint(net, partial, createMemoryLogger(), { formatOption: "--checkpoint-format" }).catch(
      (x) => x,
    )) as VoxelpipeError;
    expect(e.code).toBe(Codes.invalidValue);
    expect(e.message).toMatch(/vitautoenc_ssl\.safetensors lacks \d+ of the model's parameters \(vit\.patch_embedding/);
    expect(e.diagnostics[0].hint).toContain("needs --checkpoint-format monai");
    // the whole network: loads, nothing missing
    const full = await applyCheckpoint(
      net,
      { from: `${FIXTURES}/unetr.safetensors`, format: "monai" },
      createMemoryLogger(),
      { formatOption: "checkpoint_format:" },
    );
    expect(full.missing).toEqual([]);
    net.dispose();
  });
});
