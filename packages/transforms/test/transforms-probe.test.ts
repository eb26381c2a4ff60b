import { RandomState, type Volume } from "@voxelpipe/core";
import { it } from "vitest";
import { readNifti } from "../src/io/index.js";
import { applyTransforms, mapLabelValue, orient, spacingGrid, gridMapping } from "../src/transforms/index.js";
import { readSafetensors } from "./safetensors.js";
import { create, SHARED } from "./transforms-util.js";

it("probe", async () => {
  const DATA = `${SHARED}/data/totalseg`;
  const st = readSafetensors(`${SHARED}/reference/fixtures/preprocess_example_ct_sm.safetensors`);
  const refL = st.get("io.label").data as Uint8Array;
  const im = await readNifti(`${DATA}/example_ct_sm.nii.gz`);
  const lab = await readNifti(`${DATA}/example_seg.nii.gz`);
  console.log("affine", Array.from(im.affine), im.shape);
  const TS = [1, 2, 3, 4, 15, 5, 6, 52, 63, 64, 7, 8, 9];
  const l = orient(mapLabelValue(lab, TS, TS.map((_, i) => i + 1), { dtype: "uint8", unmapped: 0 }), "RAS");
  const chain = await Promise.all([
    create("Orientation", { keys: ["image"], axcodes: "RAS" }),
    create("Spacing", { keys: ["image"], pixdim: [1.5, 1.5, 2.0] }),
    create("ScaleIntensityRange", { keys: ["image"], a_min: -175, a_max: 250, b_min: 0, b_max: 1, clip: true }),
    create("CropForeground", { keys: ["image"], source_key: "image" }),
  ]);
  const o = applyTransforms(chain, { image: { ...im, data: Float32Array.from(im.data) } }, new RandomState(0)) as { image: Volume };
  const box = o.image.meta.applied?.at(-1)?.params.start as number[];
  console.log("box start", box, o.image.shape);
  const g = spacingGrid(l.affine, l.shape, [1.5, 1.5, 2]);
  const M = gridMapping(l.affine, g.affine);
  console.log("M", Array.from(M));
  const [R0, R1, R2] = o.image.shape;
  const [n0, n1, n2] = l.shape;
  const base = [0, 1, 2].map((d) => Array.from({ length: g.shape[d] }, (_, j) => Math.min(Math.max(Math.round(M[d * 5] * j + M[d * 4 + 3] - 0.0000001), 0), [n0, n1, n2][d] - 1)));
  // for each axis, for each tie position, count mismatches choosing lo vs hi
  for (let ax = 0; ax < 3; ax++) {
    const choices: string[] = [];
    for (let jo = 0; jo < o.image.shape[ax]; jo++) {
      const j = jo + box[ax];
      const x = M[ax * 5] * j + M[ax * 4 + 3];
      if (Math.abs(x - Math.floor(x) - 0.5) > 1e-9) continue;
      const cnt = [0, 0];
      for (const [ci, cand] of [Math.floor(x), Math.ceil(x)].entries()) {
        const idx = base.map((b) => b.slice());
        idx[ax][j] = Math.min(cand, [n0, n1, n2][ax] - 1);
        let mism = 0;
        const ranges = [R0, R1, R2];
        const it0 = ax === 0 ? [jo] : Array.from({ length: R0 }, (_, i) => i);
        const it1 = ax === 1 ? [jo] : Array.from({ length: R1 }, (_, i) => i);
        const it2 = ax === 2 ? [jo] : Array.from({ length: R2 }, (_, i) => i);
        for (const a of it0) for (const b of it1) for (const c of it2) {
          const v = l.data[(idx[0][a + box[0]] * n1 + idx[1][b + box[1]]) * n2 + idx[2][c + box[2]]];
          if (v !== refL[(a * R1 + b) * R2 + c]) mism++;
        }
        cnt[ci] = mism;
        void ranges;
      }
      choices.push(`${j}:${x}:${cnt[0] < cnt[1] ? "lo" : cnt[0] > cnt[1] ? "hi" : "="}`);
    }
    console.log("axis", ax, choices.join(" "));
  }
});
