import { Codes, deriveSeed, RandomState, type Volume, VoxelpipeError } from "@voxelpipe/core";
import { Anatomy, type HuTable } from "./anatomy.js";
import { bodyStructures, TABLE_PRIORITY } from "./body.js";
import { bowelStructures } from "./bowel.js";
import { addGaussianNoise, addInhomogeneity, gaussianBlur, toInt16Hu } from "./filters.js";
import { BtcvLabel } from "./labels.js";
import { resolveSynthGrid, type SynthOptions } from "./options.js";
import { organStructures } from "./organs.js";
import { Canvas } from "./raster.js";
import { vesselStructures } from "./vessels.js";

/** What a synthetic case records about itself (in `meta.synth` of both volumes), for tests and provenance. */
export interface SynthCaseInfo {
  seed: number;
  index: number;
  name: string;
  /** voxel axes: i → patient Right, j → Anterior, k → Superior (RAS+, positive diagonal affine) */
  orientation: "RAS";
  spacing: [number, number, number];
  /** clean tissue intensities of this case (HU) */
  hu: HuTable;
  /**
   * intended mean HU per label value for organs of uniform enhancement (kidneys: cortex; the medulla is 15 HU
   * lower); stomach and esophagus are omitted because they mix wall, content and gas
   */
  organHu: Record<number, number>;
  noiseSigma: number;
  /** Gaussian blur σ in voxels (all axes) */
  blurSigma: number;
  inhomogeneity: number;
  /** voxels inside each class's own shape before other structures covered parts of it (index = label value) */
  drawnVoxels: number[];
}

export interface SynthCase {
  image: Volume;
  label: Volume;
  name: string;
}

/** `case_0007` */
export function synthCaseName(index: number): string {
  return `case_${String(index).padStart(4, "0")}`;
}

/**
 * One synthetic abdominal CT (int16 HU) and its 14-class BTCV label map (uint8). Deterministic: the same
 * (seed, index, size, spacing) gives identical arrays.
 *
 * Orientation: voxel axis S0 = i increases toward the patient's Right, S1 = j toward Anterior, S2 = k toward
 * Superior, and the affine is diag(spacing) with the grid centre at world (0, 0, 0): RAS+ as NIfTI and MONAI's
 * `Orientationd(axcodes="RAS")` expect, so the liver lies at high i and the spleen at low i.
 */
export function generateCase(index: number, opts: SynthOptions): SynthCase {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: "synth: the case index must be a non-negative integer",
      path: "synth.index",
      expected: "integer ≥ 0",
      got: String(index),
    });
  }
  const grid = resolveSynthGrid(opts);
  const rng = new RandomState(deriveSeed(opts.seed, "synth", index));
  const an = new Anatomy(rng);
  const organs = organStructures(an);
  const structures = [
    ...bodyStructures(an),
    ...organs.structures,
    ...vesselStructures(an, organs.landmarks),
    ...bowelStructures(an, organs.landmarks),
  ];
  const canvas = new Canvas(grid, an.pose, an.hu.air);
  for (const s of structures) canvas.paint(s);

  const noiseSigma = rng.uniform(10, 20);
  const blurSigma = rng.uniform(0.5, 0.8);
  const inhomogeneity = rng.uniform(6, 14);
  const hu = canvas.hu;
  const inside = new Uint8Array(canvas.n);
  for (let v = 0; v < canvas.n; v++)
    inside[v] = canvas.priority[v] > 0 && canvas.priority[v] !== TABLE_PRIORITY ? 1 : 0;
  addInhomogeneity(hu, inside, grid.shape, inhomogeneity, rng);
  gaussianBlur(hu, grid.shape, [blurSigma, blurSigma, blurSigma]);
  addGaussianNoise(hu, noiseSigma, rng);

  const name = synthCaseName(index);
  const h = an.hu;
  const info: SynthCaseInfo = {
    seed: opts.seed,
    index,
    name,
    orientation: "RAS",
    spacing: grid.spacing,
    hu: h,
    organHu: {
      [BtcvLabel.spleen]: h.spleen,
      [BtcvLabel.rightKidney]: h.kidney,
      [BtcvLabel.leftKidney]: h.kidney,
      [BtcvLabel.gallbladder]: h.gallbladder,
      [BtcvLabel.liver]: h.liver,
      [BtcvLabel.aorta]: h.aorta,
      [BtcvLabel.ivc]: h.ivc,
      [BtcvLabel.portalVein]: h.portal,
      [BtcvLabel.pancreas]: h.pancreas,
      [BtcvLabel.rightAdrenal]: h.adrenal,
      [BtcvLabel.leftAdrenal]: h.adrenal,
    },
    noiseSigma,
    blurSigma,
    inhomogeneity,
    drawnVoxels: Array.from(canvas.drawn),
  };
  const volume = (data: Int16Array | Uint8Array, kind: string): Volume => ({
    data,
    shape: [...grid.shape],
    channels: 1,
    affine: Float64Array.from(grid.affine),
    meta: { source: `synth:${name}:${kind}`, synth: info },
  });
  return { image: volume(toInt16Hu(hu), "image"), label: volume(canvas.label, "label"), name };
}
