import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeNifti } from "@voxelpipe/transforms";
import { describe, expect, it } from "vitest";
import { cli, tmp } from "./helpers.js";

const affine = Float64Array.from([2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]);
const vol = (data: Float32Array | Int16Array | Uint8Array) => ({
  data,
  shape: [4, 4, 4] as [number, number, number],
  channels: 1,
  affine,
  meta: {},
});

/** a 4³ label map: class 1 in the first half, class 2 in the next quarter */
function labels(v1 = 1, v2 = 2): Uint8Array {
  const a = new Uint8Array(64);
  a.fill(v1, 0, 32);
  a.fill(v2, 32, 48);
  return a;
}

async function evaluate(dir: string, pred: string, label: string, ...more: string[]) {
  return cli(["evaluate", "--pred", pred, "--label", label, "--out", join(dir, "o"), ...more]);
}

describe("voxelpipe evaluate refuses what is not a segmentation", () => {
  it("a CT as --pred (negative values), a float image as --label, too many values for the label set: VP250", async () => {
    const dir = tmp();
    const seg = join(dir, "seg.nii.gz");
    await writeNifti(seg, vol(labels()), { dtype: "uint8" });
    const ct = join(dir, "ct.nii.gz");
    await writeNifti(ct, vol(Int16Array.from({ length: 64 }, (_, i) => i * 37 - 1024)), { dtype: "int16" });
    const r = await evaluate(dir, ct, seg);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("VP250");
    expect(r.stderr).toContain("ct.nii.gz (--pred) is not a segmentation: value -1024 at voxel (0, 0, 0) is negative");
    expect(r.stderr).toContain("--map-pred");

    const soft = join(dir, "soft.nii.gz");
    await writeNifti(soft, vol(Float32Array.from({ length: 64 }, (_, i) => i / 64)), { dtype: "float32" });
    const f = await evaluate(dir, seg, soft);
    expect(f.code).toBe(1);
    expect(f.stderr).toContain(
      "soft.nii.gz (--label) is not a segmentation: value 0.015625 at voxel (0, 0, 1) is not an integer",
    );

    // a non-negative integer image (CT in another unit): more distinct values than the label set allows
    const many = join(dir, "many.nii.gz");
    await writeNifti(many, vol(Uint8Array.from({ length: 64 }, (_, i) => i)), { dtype: "uint8" });
    const names = join(dir, "names.json");
    writeFileSync(names, JSON.stringify({ 0: "background", 1: "liver", 2: "spleen" }));
    const m = await evaluate(dir, many, seg, "--labels", names);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain(
      "many.nii.gz (--pred) is not a segmentation: it has more than 3 distinct values (the label set has 2 classes + background)",
    );
    for (const x of [r, f, m]) expect(x.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it("--map-pred and --map-label remap one side; --map both; the mean row counts the organs present", async () => {
    const dir = tmp();
    const pred = join(dir, "pred.nii.gz");
    const label = join(dir, "label.nii.gz");
    await writeNifti(pred, vol(labels(10, 20)), { dtype: "uint8" });
    await writeNifti(label, vol(labels(1, 2)), { dtype: "uint8" });
    const mp = join(dir, "mp.json");
    writeFileSync(mp, JSON.stringify({ 10: 1, 20: 2 }));
    const names = join(dir, "names.json");
    writeFileSync(names, JSON.stringify(["background", "liver", "spleen", "kidney", "pancreas"]));
    const common = ["--labels", names, "--metrics", "dice"];
    const ok = await evaluate(dir, pred, label, "--map-pred", mp, ...common, "--json");
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).cases[0].metrics.dice).toEqual({ liver: 1, spleen: 1, kidney: null, pancreas: null });
    // the same map on both sides maps the label's 1, 2 to 0: nothing left to score
    const both = await evaluate(dir, pred, label, "--map", mp, ...common, "--json");
    expect(JSON.parse(both.stdout).cases[0].metrics.dice).toEqual({
      liver: null,
      spleen: null,
      kidney: null,
      pancreas: null,
    });
    // --map-label alone: the label becomes 10, 20 (out of the label set), the prediction stays 10, 20
    const ml = join(dir, "ml.json");
    writeFileSync(ml, JSON.stringify({ 1: 10, 2: 20 }));
    const swapped = await evaluate(dir, pred, label, "--map-label", ml, "--metrics", "dice", "--json");
    expect(JSON.parse(swapped.stdout).cases[0].metrics.dice).toEqual({ "10": 1, "20": 1 });

    const table = await evaluate(dir, pred, label, "--map-pred", mp, ...common);
    expect(table.stdout).toMatch(/mean \(2 organs present of 4\)\s+1\.000\s+1\.000/);
  });

  it("--max-image-bytes: a bad size is a diagnostic; a small limit refuses a file from its header (VP240)", async () => {
    const dir = tmp();
    const seg = join(dir, "seg.nii.gz");
    await writeNifti(seg, vol(labels()), { dtype: "uint8" });
    const bad = await evaluate(dir, seg, seg, "--max-image-bytes", "lots");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("VP111");
    const inf = await cli([
      "infer",
      "pipelines/example-regression.yaml",
      "--checkpoint",
      seg,
      "--input",
      seg,
      "--output",
      dir,
      "--max-image-bytes",
      "2 GB please",
    ]);
    expect(inf.code).toBe(1);
    expect(inf.stderr).toContain("--max-image-bytes");
    const saved = process.env.VOXELPIPE_MAX_IMAGE_BYTES;
    try {
      const small = await evaluate(dir, seg, seg, "--max-image-bytes", "32");
      expect(small.code).toBe(1);
      expect(small.stderr).toContain("VP240");
      expect(small.stderr).toContain("declares 64 B of voxel data (dim 4×4×4 of uint8), more than the 32 B limit");
    } finally {
      if (saved === undefined) delete process.env.VOXELPIPE_MAX_IMAGE_BYTES;
      else process.env.VOXELPIPE_MAX_IMAGE_BYTES = saved;
    }
  });
  it("--nsd-tolerance takes a number ≥ 0: abc and -1 are VP111 naming the option", async () => {
    const dir = tmp();
    const seg = join(dir, "seg.nii.gz");
    await writeNifti(seg, vol(labels()), { dtype: "uint8" });
    for (const v of ["abc", "-1", ""]) {
      const r = await evaluate(dir, seg, seg, "--metrics", "nsd", "--nsd-tolerance", v);
      expect(r.code, v).toBe(1);
      expect(r.stderr, v).toContain("error[VP111]: --nsd-tolerance expects a number");
      expect(r.stderr, v).toContain(`got: ${JSON.stringify(v)}`);
    }
    const ok = await evaluate(dir, seg, seg, "--metrics", "nsd", "--nsd-tolerance", "1.5");
    expect(ok.code, ok.stderr).toBe(0);
  });
});
