import { isVoxelpipeError } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { keepEnv } from "../../../test-utils/env.js";
import {
  encodeNifti,
  MAX_IMAGE_BYTES_ENV,
  MAX_IMAGE_BYTES_FROM_ENV,
  maxImageBytes,
  parseNifti,
  setMaxImageBytes,
  withMaxImageBytes,
} from "../src/index.js";
import { diag, makeVolume } from "./nifti-helpers.js";

/** 4×4×4 uint8: 64 bytes of voxel data */
const bytes = encodeNifti(
  makeVolume([4, 4, 4], 1, Uint8Array, (i) => i, diag(1, 1, 1)),
  { dtype: "uint8" },
);

function code(fn: () => unknown): { code?: string; expected?: string; hint?: string; message?: string } {
  try {
    fn();
  } catch (e) {
    if (isVoxelpipeError(e)) return e.diagnostics[0];
    throw e;
  }
  return {};
}

keepEnv(MAX_IMAGE_BYTES_ENV, MAX_IMAGE_BYTES_FROM_ENV);

describe("the image size limit and where it comes from", () => {
  it("withMaxImageBytes: VP240 names the limit's origin; the variables are put back afterwards", async () => {
    process.env[MAX_IMAGE_BYTES_ENV] = "1MiB";
    delete process.env[MAX_IMAGE_BYTES_FROM_ENV];
    const inside = await withMaxImageBytes("32", "max_image_bytes: at p.yaml:4", async () => {
      expect(maxImageBytes()).toEqual({ bytes: 32, from: "max_image_bytes: at p.yaml:4" });
      return code(() => parseNifti(bytes, "small.nii"));
    });
    expect(inside.code).toBe("VP240");
    expect(inside.expected).toBe("≤ 32 bytes (max_image_bytes: at p.yaml:4)");
    expect(inside.hint).toContain("max_image_bytes: 8GiB");
    expect(process.env[MAX_IMAGE_BYTES_ENV]).toBe("1MiB");
    expect(process.env[MAX_IMAGE_BYTES_FROM_ENV]).toBeUndefined();
    expect(maxImageBytes()).toEqual({ bytes: 2 ** 20, from: MAX_IMAGE_BYTES_ENV });
    // raised, the same file reads
    const ok = await withMaxImageBytes("1KiB", "max_image_bytes: at p.yaml:4", async () => parseNifti(bytes, "s.nii"));
    expect(ok.shape).toEqual([4, 4, 4]);
    // nothing to set: the environment as it is
    expect(await withMaxImageBytes(undefined, "x", async () => maxImageBytes().bytes)).toBe(2 ** 20);
  });

  it("setMaxImageBytes: a bad size is VP111 naming where it came from; the variable set by hand is its own origin", () => {
    expect(code(() => setMaxImageBytes("lots"))).toMatchObject({
      code: "VP111",
      message: '--max-image-bytes "lots" is not a size',
    });
    expect(code(() => setMaxImageBytes(0, "max_image_bytes: at p.yaml:4")).message).toContain(
      "max_image_bytes: at p.yaml:4",
    );
    setMaxImageBytes("2KiB");
    expect(maxImageBytes()).toEqual({ bytes: 2048, from: "--max-image-bytes" });
    // a value written over the one setMaxImageBytes recorded is the variable's own
    process.env[MAX_IMAGE_BYTES_ENV] = "4096";
    expect(maxImageBytes()).toEqual({ bytes: 4096, from: MAX_IMAGE_BYTES_ENV });
  });
});
