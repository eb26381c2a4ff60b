import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { syntheticSample } from "@voxelpipe/testing";
import { describeConformance } from "@voxelpipe/testing/vitest";
import { afterAll } from "vitest";
import { plugin, writeNiftiSync } from "../src/index.js";

// Every built-in transform against the plugin contracts (@voxelpipe/testing), on the kit's 8×8×8
// image + label sample (2 mm, RAS) unless a case needs another input.
const dir = mkdtempSync(join(tmpdir(), "vp-transforms-conformance-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const nifti = join(dir, "image.nii.gz");
writeNiftiSync(nifti, syntheticSample(3).image as never);
const keys = ["image", "label"];

describeConformance(plugin, {
  components: {
    LoadImage: { args: { keys: ["image"] }, sample: () => ({ image: nifti }) },
    SaveImage: { args: { keys: ["label"], output_dir: join(dir, "out") } },
    MapLabelValue: { args: { keys: ["label"], orig_labels: [1, 2], target_labels: [2, 1] } },
    Orientation: { args: { keys, axcodes: "LPS" } },
    Spacing: { args: { keys, pixdim: [4, 4, 4], mode: ["bilinear", "nearest"] } },
    ScaleIntensityRange: { args: { keys: ["image"], a_min: -1, a_max: 1, b_min: 0, b_max: 1 } },
    CropForeground: { args: { keys, source_key: "label" } },
    SpatialPad: { args: { keys, spatial_size: [10, 12, 9] } },
    RandSpatialCropSamples: { args: { keys, roi_size: [4, 4, 4], num_samples: 2, random_size: false } },
    RandCropByPosNegLabel: { args: { keys, label_key: "label", spatial_size: [4, 4, 4], num_samples: 2 } },
    RandFlip: { args: { keys, prob: 1, spatial_axis: [0, 2] } },
    RandRotate90: { args: { keys, prob: 1, max_k: 3 } },
    RandShiftIntensity: { args: { keys: ["image"], offsets: 0.5, prob: 1 } },
    RandScaleIntensity: { args: { keys: ["image"], factors: 0.5, prob: 1 } },
    CopyItems: { args: { keys: ["image"], names: ["image_2"] } },
    OneOf: {
      args: {
        transforms: [
          { type: "RandFlip", keys, prob: 1 },
          { type: "RandRotate90", keys, prob: 1 },
        ],
      },
    },
    Compose: {
      args: {
        transforms: [
          { type: "RandFlip", keys, prob: 1 },
          { type: "SpatialPad", keys, spatial_size: [9, 9, 9] },
        ],
      },
    },
    RandCoarseDropout: { args: { keys: ["image"], holes: 2, spatial_size: [2, 2, 2], prob: 1 } },
    RandCoarseShuffle: { args: { keys: ["image"], holes: 2, spatial_size: [2, 2, 2], prob: 1 } },
  },
});
