import { describe, expect, it } from "vitest";
import { chainMismatch, expectedGeometry, geometryWarnings } from "../src/data/geometry.js";

const vol = (affine: number[], original = affine) => ({
  data: new Float32Array(8),
  shape: [2, 2, 2] as [number, number, number],
  channels: 1,
  affine: Float64Array.from(affine),
  meta: { originalAffine: Float64Array.from(original) },
});
const RAS = [1.5, 0, 0, 0, 0, 1.5, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1];
const LPS = [-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

describe("infer warns when an input's geometry after preprocessing is not what the model was trained on", () => {
  it("reads Orientation / Spacing arguments from the chain, references included", () => {
    const ref = { type: "vp/Spacing", keys: ["image"], pixdim: [1.5, 1.5, 2] };
    const deref = (v: unknown) => (v === "@vars.spacing" ? ref : v);
    expect(
      expectedGeometry([{ type: "LoadImage" }, { type: "Orientation", axcodes: "ras" }, "@vars.spacing"], deref),
    ).toEqual({
      axcodes: "RAS",
      pixdim: [1.5, 1.5, 2],
    });
    expect(expectedGeometry([{ type: "ScaleIntensityRange" }], deref)).toEqual({});
  });

  it("no Orientation in the pipeline: an LPS input is warned about, a RAS one is not", () => {
    expect(geometryWarnings("ras", vol(RAS), {})).toEqual([]);
    const w = geometryWarnings("lps", vol(LPS), {});
    expect(w).toHaveLength(1);
    expect(w[0]).toContain("lps: the input is LPS-oriented and the pipeline has no Orientation transform");
  });

  it("with Orientation and Spacing: silent when the preprocessed image matches, warns on each mismatch", () => {
    const want = { axcodes: "RAS", pixdim: [1.5, 1.5, 2] };
    // an LPS input reoriented and resampled by the chain: fine
    expect(geometryWarnings("ok", vol(RAS, LPS), want)).toEqual([]);
    const w = geometryWarnings("bad", vol(LPS), want);
    expect(w).toHaveLength(2);
    expect(w[0]).toContain("orientation after preprocessing is LPS, the pipeline's Orientation gives RAS");
    expect(w[1]).toContain("spacing after preprocessing is 1×1×1 mm, the pipeline's Spacing gives 1.5×1.5×2 mm");
  });
  it("the checkpoint's training geometry against the infer chain: silent when equal, a warning per difference", () => {
    const trained = { axcodes: "RAS", pixdim: [1.5, 1.5, 2], from: "checkpoint" as const };
    expect(chainMismatch(trained, { axcodes: "RAS", pixdim: [1.5, 1.5, 2.001] })).toEqual([]);
    expect(chainMismatch({ from: "checkpoint" }, {})).toEqual([]);
    const w = chainMismatch(trained, { axcodes: "LPS" });
    expect(w).toEqual([
      "the model was trained on RAS inputs (checkpoint geometry), the infer transforms reorient to LPS: predictions may be wrong",
      "the model was trained at 1.5×1.5×2 mm (checkpoint geometry), the infer transforms have no Spacing: predictions may be wrong",
    ]);
    expect(geometryWarnings("x", vol(LPS), trained)[0]).toContain(
      "the checkpoint's training chain Orientation gives RAS",
    );
  });
});
