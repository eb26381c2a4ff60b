import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Codes, type VoxelpipeError } from "@voxelpipe/core";
import { afterAll, describe, expect, it } from "vitest";
import {
  parseSafetensors,
  readSafetensors,
  type StTensor,
  serializeSafetensors,
  writeSafetensors,
} from "../src/index.js";
import { FIXTURES, hasShared, SKIP_NOTE } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "vp-st-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sample = (): Map<string, StTensor> =>
  new Map<string, StTensor>([
    ["w", { dtype: "F32", shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-8, -0]) }],
    ["mask", { dtype: "U8", shape: [3], data: new Uint8Array([0, 1, 255]) }],
    ["step", { dtype: "I64", shape: [], data: new BigInt64Array([1234567890123n]) }],
    ["idx", { dtype: "I32", shape: [2], data: new Int32Array([-7, 2147483647]) }],
    ["empty", { dtype: "F32", shape: [0, 4], data: new Float32Array(0) }],
  ]);

/** catch a VoxelpipeError and return its first diagnostic */
function diag(f: () => unknown) {
  try {
    f();
  } catch (e) {
    return (e as VoxelpipeError).diagnostics[0];
  }
  throw new Error("expected an error");
}

describe("safetensors read/write", () => {
  it("round-trips F32, U8, I64, I32 and empty tensors with metadata; header is 8-byte aligned", () => {
    const bytes = serializeSafetensors(sample(), { format: "voxelpipe", note: "x" });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.w).toEqual({ dtype: "F32", shape: [2, 3], data_offsets: [0, 24] });
    expect(header.mask.data_offsets).toEqual([24, 27]);
    const back = parseSafetensors(bytes);
    expect(back.metadata).toEqual({ format: "voxelpipe", note: "x" });
    for (const [k, t] of sample()) {
      const r = back.tensors.get(k)!;
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      expect(Array.from(r.data as ArrayLike<number | bigint>)).toEqual(
        Array.from(t.data as ArrayLike<number | bigint>),
      );
    }
    expect(Object.is((back.tensors.get("w")!.data as Float32Array)[5], -0)).toBe(true);
  });

  it("writes atomically (no temp files left) and replaces an existing file", async () => {
    const p = join(dir, "sub", "a.safetensors");
    await writeSafetensors(p, sample());
    await writeSafetensors(p, new Map([["only", { dtype: "U8", shape: [1], data: new Uint8Array([9]) }]]));
    expect(readdirSync(join(dir, "sub"))).toEqual(["a.safetensors"]);
    expect([...(await readSafetensors(p)).tensors.keys()]).toEqual(["only"]);
  });

  it("names the file and the problem for truncated and corrupt files", async () => {
    const good = serializeSafetensors(sample());
    const f = "/data/ckpt.safetensors";
    let d = diag(() => parseSafetensors(good.subarray(0, 5), f));
    expect(d.code).toBe(Codes.fileInvalid);
    expect(d.message).toContain(f);
    expect(d.message).toMatch(/shorter than the 8-byte/);
    d = diag(() => parseSafetensors(good.subarray(0, 40), f));
    expect(d.message).toMatch(/header length points past the end/);
    d = diag(() => parseSafetensors(good.subarray(0, good.length - 3), f));
    expect(d.message).toMatch(/tensor "\w+" ends at byte \d+ of the data section/);
    expect(d.hint).toMatch(/truncated/);
    const garbled = good.slice();
    garbled[9] = 0x7b; // break the JSON
    garbled[10] = 0x7b;
    expect(diag(() => parseSafetensors(garbled, f)).message).toMatch(/not valid UTF-8 JSON/);
    const mk = (header: object) => {
      const h = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + h.length + 16);
      new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
      out.set(h, 8);
      return out;
    };
    d = diag(() => parseSafetensors(mk({ a: { dtype: "BF16", shape: [2], data_offsets: [0, 4] } }), f));
    expect(d.message).toMatch(/unsupported dtype "BF16"/);
    d = diag(() => parseSafetensors(mk({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }), f));
    expect([d.expected, d.got]).toEqual(["12 bytes", "8 bytes"]);
    d = diag(() =>
      parseSafetensors(
        mk({
          a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
          b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
        }),
        f,
      ),
    );
    expect(d.message).toMatch(/overlap/);
    await expect(readSafetensors(join(dir, "missing.safetensors"))).rejects.toMatchObject({
      diagnostics: [{ code: Codes.fileNotFound }],
    });
  });

  it.skipIf(!hasShared)(`reads the MONAI reference fixtures ${SKIP_NOTE}`, () => {
    const file = `${FIXTURES}/unetr.safetensors`;
    const { tensors, metadata } = parseSafetensors(readFileSync(file), file);
    expect(tensors.get("encoder2.transp_conv_init.conv.weight")!.shape).toEqual([48, 8, 2, 2, 2]);
    expect(JSON.parse(metadata.case).model).toBe("UNETR");
    // re-serialising keeps every tensor bit-identical
    const again = parseSafetensors(serializeSafetensors(tensors));
    for (const [k, t] of tensors) {
      expect(
        Buffer.from((again.tensors.get(k)!.data as Float32Array).buffer).equals(
          Buffer.from((t.data as Float32Array).buffer),
        ),
        k,
      ).toBe(true);
    }
    // a copy cut in the middle of the data reports the tensor and the file
    const cut = join(dir, "cut.safetensors");
    writeFileSync(cut, readFileSync(file).subarray(0, 100_000));
    return expect(readSafetensors(cut)).rejects.toThrow(/cut\.safetensors: tensor ".+" ends at byte/);
  });
});
