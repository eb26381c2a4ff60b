import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors, readSafetensors } from "../src/io/safetensors.js";

describe("safetensors", () => {
  it("round-trips tensors of several dtypes and metadata through a file (Buffer input)", () => {
    const a = Float32Array.from([1.5, -2, 3.25, 4, 5, 6]);
    const b = Uint8Array.from([1, 2, 3]);
    const c = BigInt64Array.from([7n, -8n]);
    const bytes = encodeSafetensors(
      [
        ["a", { shape: [2, 3], data: a }],
        ["b", { shape: [3], data: b }],
        ["c", { shape: [2], data: c }],
      ],
      { case: '{"x":1}' },
    );
    const file = join(mkdtempSync(join(tmpdir(), "vp-st-")), "t.safetensors");
    writeFileSync(file, bytes);
    const r = readSafetensors(file);
    expect(r.metadata).toEqual({ case: '{"x":1}' });
    expect(r.tensors.get("a")).toEqual({ dtype: "F32", shape: [2, 3], data: a });
    expect(r.tensors.get("b")).toEqual({ dtype: "U8", shape: [3], data: b });
    expect(r.tensors.get("c")).toEqual({ dtype: "I64", shape: [2], data: c });
    // the header length is 8-byte aligned so data can be viewed in place
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    expect(decodeSafetensors(readFileSync(file)).tensors.get("a")?.data).toEqual(a);
  });

  it("rejects truncated and corrupt files with the file named", () => {
    const good = encodeSafetensors([["w", { shape: [4], data: new Float32Array(4) }]]);
    expect(() => decodeSafetensors(good.subarray(0, 5), "x.safetensors")).toThrow(/x\.safetensors: file is 5 bytes/);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 4), "x.safetensors")).toThrow(
      /x\.safetensors: tensor "w" \(F32 4\) needs bytes 0\.\.16/,
    );
    const bad = new Uint8Array(good);
    bad[8] = 0x5d; // "]" where the JSON object starts
    expect(() => decodeSafetensors(bad, "y.safetensors")).toThrow(/y\.safetensors: header is not valid JSON/);
    expect(() => readSafetensors("/nonexistent/z.safetensors")).toThrow(
      /cannot read \/nonexistent\/z\.safetensors: no such file/,
    );
  });
});
