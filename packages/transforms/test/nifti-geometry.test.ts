/**
 * Geometry like nibabel: every header variant of the committed corpus (fixtures/nibabel-affines.py,
 * generated offline with nibabel) gives nibabel's affine, nibabel's refusals and its warnings about
 * invalid qform/sform codes (which it treats as 0).
 */
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parseByteSize } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { keepEnv } from "../../../test-utils/env.js";
import { parseNifti, readNifti, readNiftiSync, setNiftiWarningHandler } from "../src/io/index.js";
import { MAX_IMAGE_BYTES_ENV } from "../src/io/nifti-limits.js";
import { expectVpError, expectVpErrorAsync, tmpDir } from "./nifti-helpers.js";

interface Case {
  name: string;
  header: string;
  affine?: number[];
  error?: string;
  warnings: string[];
}
const corpus = JSON.parse(readFileSync(new URL("./fixtures/nibabel-affines.json", import.meta.url), "utf8")) as {
  nibabel: string;
  cases: Case[];
};

describe(`NIfTI affines match nibabel ${corpus.nibabel} on ${corpus.cases.length} header variants`, () => {
  it("has the variants that matter", () => {
    const names = corpus.cases.map((c) => c.name).join("\n");
    for (const want of [
      "qform_code -1",
      "sform_code 127",
      "sform_code -32768",
      "pixdim[0] = 0",
      "NIfTI-2",
      "big-endian",
    ])
      expect(names).toContain(want);
  });

  it("every variant: the same affine (float32 header precision), the same refusals, the same code warnings", () => {
    const seen: string[] = [];
    setNiftiWarningHandler((m) => seen.push(m));
    const failures: string[] = [];
    for (const c of corpus.cases) {
      const bytes = Buffer.from(c.header, "base64");
      seen.length = 0;
      let affine: Float64Array | undefined;
      let error: unknown;
      try {
        affine = parseNifti(bytes, `case: ${c.name}`).affine;
      } catch (e) {
        error = e;
      }
      if (c.error) {
        if (!(error as { code?: string } | undefined)?.code?.startsWith("VP003"))
          failures.push(`${c.name}: nibabel refuses it (${c.error}), we gave ${error ?? "an affine"}`);
        continue;
      }
      if (error || !affine) {
        failures.push(`${c.name}: nibabel reads it, we threw ${(error as Error)?.message}`);
        continue;
      }
      const want = c.affine!;
      const bad = want.findIndex((w, i) => !(Math.abs(affine[i] - w) <= 1e-5 * Math.max(1, Math.abs(w))));
      if (bad >= 0) failures.push(`${c.name}: affine ${[...affine]} vs nibabel ${want}`);
      for (const w of c.warnings) {
        const key = /^([qs]form_code -?\d+) not valid/.exec(w)?.[1];
        if (key && !seen.some((m) => m.includes(`${key} not valid`)))
          failures.push(`${c.name}: nibabel warns "${w}", we said ${JSON.stringify(seen)}`);
      }
      if (!c.warnings.length && seen.some((m) => m.includes("form_code")))
        failures.push(`${c.name}: we warned ${JSON.stringify(seen)}, nibabel did not`);
    }
    setNiftiWarningHandler((m) => process.stderr.write(`warning: ${m}\n`));
    expect(failures).toEqual([]);
  });

  it("an invalid sform_code is ignored, not trusted: the qform (not the L-R flipped sform) is used", () => {
    const c = corpus.cases.find((x) => x.name === "qform_code 1, sform_code 127")!;
    const vol = parseNifti(Buffer.from(c.header, "base64"), "flip.nii");
    expect(vol.meta.affineSource).toBe("qform");
    expect(vol.meta.warnings).toEqual(["flip.nii: sform_code 127 not valid; treated as 0 (as nibabel and MONAI do)"]);
  });
});

describe("memory limit on declared voxel data", () => {
  keepEnv(MAX_IMAGE_BYTES_ENV);

  /**
   * a tiny .nii.gz whose header honestly declares dims × float32 (1 MiB of zeros inflate to a
   * small part of it), or a sparse .nii of the full declared size (no disk blocks)
   */
  function bomb(dims: [number, number, number], gz: boolean): string {
    const c = corpus.cases.find((x) => x.name === "qform_code 1, sform_code 0")!;
    const h = Buffer.from(c.header, "base64").subarray(0, 352);
    h.writeInt16LE(dims[0], 42);
    h.writeInt16LE(dims[1], 44);
    h.writeInt16LE(dims[2], 46);
    h.writeInt16LE(16, 70); // float32
    h.writeInt16LE(32, 72);
    const file = join(tmpDir(), gz ? "bomb.nii.gz" : "bomb.nii");
    // 1 MiB of zeros after the header: a gzip of it is ~1 KiB
    const body = Buffer.concat([h, Buffer.alloc(2 ** 20)]);
    writeFileSync(file, gz ? gzipSync(body) : body);
    if (!gz) truncateSync(file, 352 + dims[0] * dims[1] * dims[2] * 4);
    return file;
  }

  it("a header declaring 4 GiB is refused from the header, naming the size and the limit", async () => {
    process.env[MAX_IMAGE_BYTES_ENV] = "1GiB";
    for (const gz of [true, false]) {
      const f = bomb([1024, 1024, 1024], gz);
      expectVpError(() => readNiftiSync(f), "VP240", "declares 4.00 GiB", "1.00 GiB limit", "1024×1024×1024");
      await expectVpErrorAsync(() => readNifti(f), "VP240", "declares 4.00 GiB");
    }
  });

  it("under the limit the usual checks apply (truncated data); a bad limit is a diagnostic", () => {
    process.env[MAX_IMAGE_BYTES_ENV] = "8GiB";
    expectVpError(() => readNiftiSync(bomb([1024, 1024, 1024], true)), "VP003", "truncated");
    process.env[MAX_IMAGE_BYTES_ENV] = "lots";
    expectVpError(() => readNiftiSync(bomb([8, 8, 8], false)), "VP111", MAX_IMAGE_BYTES_ENV);
    expect(parseByteSize("512MiB")).toBe(512 * 2 ** 20);
    expect(parseByteSize("4e9")).toBe(4e9);
    expect(parseByteSize("-1")).toBeUndefined();
  });
});
