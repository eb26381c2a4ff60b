import { RandomState, type Sample, type Volume } from "@voxelpipe/core";
import { it } from "vitest";
import { readNifti } from "../src/io/index.js";
import { create, SHARED } from "./transforms-util.js";

it("timing", async () => {
  const TS = [1, 2, 3, 4, 15, 5, 6, 52, 63, 64, 7, 8, 9];
  const chain = await Promise.all([
    create("MapLabelValue", { keys: ["label"], orig_labels: TS, target_labels: TS.map((_, i) => i + 1), dtype: "uint8", unmapped: 0 }),
    create("Orientation", { keys: ["image", "label"], axcodes: "RAS" }),
    create("Spacing", { keys: ["image", "label"], pixdim: [1.5, 1.5, 2.0], mode: ["bilinear", "nearest"] }),
    create("ScaleIntensityRange", { keys: ["image"], a_min: -175, a_max: 250, b_min: 0, b_max: 1, clip: true }),
    create("CropForeground", { keys: ["image", "label"], source_key: "image" }),
  ]);
  const im = await readNifti(`${SHARED}/data/totalseg/example_ct.nii.gz`);
  const lab = await readNifti(`${SHARED}/data/totalseg/example_seg_fast_force_split.nii.gz`);
  for (let rep = 0; rep < 3; rep++) {
    let s: Sample = { image: { ...im, data: Float32Array.from(im.data) } as Volume, label: lab };
    const times: string[] = [];
    for (const t of chain) {
      const a = performance.now();
      s = t.apply(s, new RandomState(0)) as Sample;
      times.push((performance.now() - a).toFixed(0));
    }
    console.log(times.join(" "));
  }
});
