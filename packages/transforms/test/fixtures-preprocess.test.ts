import { RandomState, type Sample, type Transform, type Volume } from "@voxelpipe/core";
import { beforeAll, describe, expect, it } from "vitest";
import { readNifti } from "../src/io/index.js";
import { affineAxcodes, applyTransforms, invertSpatial } from "../src/transforms/index.js";
import { readSafetensors } from "./safetensors.js";
import { create, hasShared, SHARED } from "./transforms-util.js";

const DATA = `${SHARED}/data/totalseg`;

// TotalSegmentator value → BTCV class (shared/data/totalseg/README.md); everything else → 0
const TS = [1, 2, 3, 4, 15, 5, 6, 52, 63, 64, 7, 8, 9];
const BTCV = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];

/** MONAI's deterministic BTCV chain (ssl_finetune.ipynb, monai-semantics §1.6) as registered transforms. */
async function btcvChain(): Promise<Transform[]> {
  return Promise.all([
    create("MapLabelValue", { keys: ["label"], orig_labels: TS, target_labels: BTCV, dtype: "uint8", unmapped: 0 }),
    create("Orientation", { keys: ["image", "label"], axcodes: "RAS" }),
    create("Spacing", { keys: ["image", "label"], pixdim: [1.5, 1.5, 2.0], mode: ["bilinear", "nearest"] }),
    create("ScaleIntensityRange", { keys: ["image"], a_min: -175, a_max: 250, b_min: 0, b_max: 1, clip: true }),
    create("CropForeground", { keys: ["image", "label"], source_key: "image" }),
  ]);
}

async function load(image: string, label: string): Promise<Sample> {
  const im = await readNifti(`${DATA}/${image}`);
  // MONAI LoadImage: float32 images
  const imf: Volume = { ...im, data: Float32Array.from(im.data) };
  return { image: imf, label: await readNifti(`${DATA}/${label}`) };
}

function run(chain: Transform[], s: Sample): Sample {
  const out = applyTransforms(chain, s, new RandomState(0));
  if (Array.isArray(out)) throw new Error("expected one sample");
  return out;
}

describe.skipIf(!hasShared)("BTCV preprocessing matches MONAI on example_ct_sm (needs ../shared; skipped: ../shared not found)", () => {
  let out: Sample;
  let input: Sample;
  beforeAll(async () => {
    input = await load("example_ct_sm.nii.gz", "example_seg.nii.gz");
    out = run(await btcvChain(), input);
  });

  it("shape 241×191×44 and the output affine equal MONAI's", () => {
    const st = readSafetensors(`${SHARED}/reference/fixtures/preprocess_example_ct_sm.safetensors`);
    const image = out.image as Volume;
    const label = out.label as Volume;
    expect(image.shape).toEqual([241, 191, 44]);
    expect(label.shape).toEqual([241, 191, 44]);
    const ref = st.get("io.affine").data as Float32Array;
    for (let i = 0; i < 16; i++) expect(Math.fround(image.affine[i])).toBeCloseTo(ref[i], 4);
    expect(Array.from(label.affine)).toEqual(Array.from(image.affine));
  });

  it("image mean |diff| ≤ 1e-4 and labels equal on ≥ 99.9 % of voxels", () => {
    const st = readSafetensors(`${SHARED}/reference/fixtures/preprocess_example_ct_sm.safetensors`);
    const refI = st.get("io.image").data as Float32Array;
    const refL = st.get("io.label").data as Uint8Array;
    const image = (out.image as Volume).data;
    const label = (out.label as Volume).data;
    let sum = 0;
    let maxd = 0;
    for (let i = 0; i < refI.length; i++) {
      const d = Math.abs(image[i] - refI[i]);
      sum += d;
      maxd = Math.max(maxd, d);
    }
    let eq = 0;
    for (let i = 0; i < refL.length; i++) if (label[i] === refL[i]) eq++;
    console.log(`preprocess parity: mean |diff| ${sum / refI.length}, max ${maxd}, labels equal ${(eq / refL.length) * 100}%`);
    expect(sum / refI.length).toBeLessThanOrEqual(1e-4);
    expect(eq / refL.length).toBeGreaterThanOrEqual(0.999);
  });
});
