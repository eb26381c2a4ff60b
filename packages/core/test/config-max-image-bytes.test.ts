import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { BYTE_SIZE_PATTERN, parseByteSize } from "../src/config/byte-size.js";
import { compilePipeline } from "../src/config/compile.js";
import { pipelineJsonSchema } from "../src/config/json-schema.js";
import { Registries } from "../src/sdk/registry.js";

function pipeline(limit: string): string {
  const dir = mkdtempSync(join(tmpdir(), "vp-limit-"));
  const file = join(dir, "p.yaml");
  writeFileSync(file, `version: 1\nname: p\nseed: 1\nmax_image_bytes: ${limit}\nstages: {}\n`);
  return file;
}

const compile = (limit: string) => compilePipeline(pipeline(limit), { registries: new Registries() });

describe("max_image_bytes: in a pipeline file", () => {
  it("takes what --max-image-bytes takes (one parser), as a whole number of bytes", async () => {
    for (const [text, bytes] of [
      ["6GiB", 6 * 2 ** 30],
      ['"512 MiB"', 512 * 2 ** 20],
      ["1.5GB", 1.5e9],
      ["4e9", 4e9],
      ["1048576", 2 ** 20],
      ["10kb", 10_000],
    ] as const) {
      const r = await compile(text);
      expect(r.diagnostics, text).toEqual([]);
      expect(r.pipeline?.settings.max_image_bytes, text).toBe(bytes);
    }
    expect(parseByteSize("6GiB")).toBe(6 * 2 ** 30);
    expect(parseByteSize(4096.7)).toBe(4096);
    for (const bad of ["lots", "2 GB please", "-5", "0", "", "8 GiBs"]) expect(parseByteSize(bad), bad).toBeUndefined();
    for (const bad of [0, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(parseByteSize(bad)).toBeUndefined();
  });

  it("a file without the key has no limit of its own", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vp-limit-"));
    const file = join(dir, "p.yaml");
    writeFileSync(file, "version: 1\nname: p\nstages: {}\n");
    const r = await compilePipeline(file, { registries: new Registries() });
    expect(r.diagnostics).toEqual([]);
    expect(r.pipeline?.settings.max_image_bytes).toBeUndefined();
  });

  it("a bad value is one VP111 at its line, with the accepted forms and a hint", async () => {
    for (const bad of ["2 GB please", "-5", "0", "[1, 2]", "{ gb: 2 }", "null", "true"]) {
      const r = await compile(bad);
      expect(r.pipeline, bad).toBeUndefined();
      expect(r.diagnostics, bad).toHaveLength(1);
      const d = r.diagnostics[0];
      expect(d, bad).toMatchObject({
        code: "VP111",
        path: "max_image_bytes",
        loc: { line: 4, col: 18 },
        expected: "a positive number of bytes, optionally with a unit: 800MiB, 2GiB, 4e9",
      });
      expect(d.message, bad).toContain("not a size in bytes");
      expect(d.hint, bad).toContain("max_image_bytes: 8GiB");
    }
  });

  it("the editor schema has the key and accepts what the parser accepts", () => {
    const schema = pipelineJsonSchema(new Registries());
    const prop = (schema.properties as Record<string, Record<string, unknown>>).max_image_bytes;
    expect(prop).toBeDefined();
    expect(JSON.stringify(prop)).toContain("1/16 of memory");
    const validate = new Ajv({ strict: false }).compile(schema);
    const doc = (v: unknown) => ({ version: 1, name: "p", max_image_bytes: v, stages: {} });
    for (const v of ["6GiB", "512 MiB", "1.5GB", "4e9", "10kb", "100", 8589934592]) {
      expect(validate(doc(v)), String(v)).toBe(true);
      expect(parseByteSize(v), String(v)).toBeDefined();
    }
    for (const v of ["lots", "2 GB please", "8 GiBs", "-5", 0, -1, [1], true]) {
      expect(validate(doc(v)), String(v)).toBe(false);
    }
    // the pattern and the parser agree on the strings
    const re = new RegExp(BYTE_SIZE_PATTERN);
    for (const v of ["6GiB", "6 gib", "6KB", "6k", "6b", "6", "lots", "6 GiBs", "6ki", "1e9tb", "6.5 mb"])
      expect(re.test(v), v).toBe(parseByteSize(v) !== undefined);
  });
});
