import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { readNifti } from "@voxelpipe/transforms";
import { describe, expect, it } from "vitest";
import { sharedOrSkip, sharedPath } from "../../../test-utils/gates.js";
import { cli, FIXTURES, tmp } from "./helpers.js";

const CT = sharedPath("data", "totalseg", "example_ct_sm.nii.gz");
const WEIGHTS = sharedPath("reference", "fixtures", "unetr.safetensors");
const need = sharedOrSkip("data/totalseg/example_ct_sm.nii.gz", "reference/fixtures/unetr.safetensors");

describe.skipIf(!need.ok)(need.title("voxelpipe infer on the real CT"), () => {
  it("writes a label map on the input's exact grid; a broken case is reported and the others still run", async () => {
    const dir = tmp();
    const inputs = join(dir, "in");
    mkdirSync(inputs);
    copyFileSync(CT, join(inputs, "example_ct_sm.nii.gz"));
    writeFileSync(join(inputs, "broken.nii.gz"), gzipSync(Buffer.from("not a nifti")));
    const out = join(dir, "out");
    const r = await cli([
      "infer",
      join(FIXTURES, "pipelines", "infer-ct.yaml"),
      "--checkpoint",
      WEIGHTS,
      "--checkpoint-format",
      "monai",
      "--input",
      inputs,
      "--output",
      out,
      "--runs-dir",
      join(dir, "runs"),
      "--save-probabilities",
    ]);
    // the broken file fails, is named, and the CT is still predicted
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[1\/2\] .*broken\.nii\.gz: VP003/);
    expect(r.stderr).toContain("1 of 2 cases failed: broken");
    expect(r.stderr).toContain("using the 5 deterministic transforms before the first random one");
    const input = await readNifti(CT);
    const seg = await readNifti(join(out, "example_ct_sm_seg.nii.gz"));
    expect(seg.shape).toEqual(input.shape);
    expect(seg.channels).toBe(1);
    expect(seg.data).toBeInstanceOf(Uint8Array);
    expect([...seg.affine]).toEqual([...input.affine]);
    const values = new Set(seg.data);
    expect([...values].every((v) => v >= 0 && v <= 2)).toBe(true);
    const probs = await readNifti(join(out, "example_ct_sm_prob.nii.gz"));
    expect(probs.shape).toEqual(input.shape);
    expect(probs.channels).toBe(3);
    expect([...probs.affine]).toEqual([...input.affine]);
  });
});
