// Over 300 lines by design: the two multi-sample crops share box drawing and cropSamples, and both follow
// MONAI's draw order; ~300 lines.
/**
 * Multi-sample random crops (each returns Sample[]): RandSpatialCropSamples (uniform patch
 * positions) and RandCropByPosNegLabel (centres on foreground / background voxels).
 */
import { defineTransform, type RandomState, type Sample, type Volume, z } from "@voxelpipe/core";
import {
  allowMissingArg,
  builtinTransform,
  fallBack3,
  keysArg,
  rep3,
  seedArg,
  size3Arg,
  streamSource,
} from "./base.js";
import { cropWindow } from "./crop-pad.js";
import { undoWindow } from "./grid.js";
import { own } from "./owned.js";
import { argError, dataError, presentKeys, type Shape3, volumeAt } from "./sample.js";

/** the registered names: in the definition, op records and messages */
const RAND_SPATIAL_CROP_SAMPLES = "RandSpatialCropSamples";
const RAND_CROP_BY_POS_NEG_LABEL = "RandCropByPosNegLabel";

/** MONAI get_random_patch: one randint(0, n - s + 1) per dim where n > s (else 0), in dim order. */
export function randomPatchStart(
  rng: RandomState,
  dims: ArrayLike<number>,
  size: ArrayLike<number>,
): [number, number, number] {
  return [0, 1, 2].map((d) => (dims[d] > size[d] ? rng.randint(0, dims[d] - size[d] + 1) : 0)) as [
    number,
    number,
    number,
  ];
}

/** A crop box (start + size) per sample. */
export interface CropBox {
  start: [number, number, number];
  size: [number, number, number];
}

/**
 * RandSpatialCrop.randomize for each of num_samples: size = roi (or, random_size, randint(roi, max+1) per
 * dim), clipped to the image; start = random patch (random_center) or the centre crop.
 */
export function drawSpatialCropBoxes(
  rng: RandomState,
  dims: Shape3,
  o: {
    roiSize: number | number[];
    numSamples: number;
    maxRoiSize?: number | number[] | null;
    randomCenter?: boolean;
    randomSize?: boolean;
  },
): CropBox[] {
  const boxes: CropBox[] = [];
  for (let s = 0; s < o.numSamples; s++) {
    let size = fallBack3(o.roiSize, dims);
    if (o.randomSize) {
      const max = o.maxRoiSize == null ? dims : fallBack3(o.maxRoiSize, dims);
      if (size.some((x, d) => x > max[d]))
        dataError(`RandSpatialCropSamples: roi_size [${size}] > max_roi_size [${max}]`);
      size = [0, 1, 2].map((d) => rng.randint(size[d], max[d] + 1)) as Shape3;
    }
    const valid = size.map((x, d) => Math.min(x, dims[d])) as Shape3;
    if (o.randomCenter ?? true) {
      boxes.push({ start: randomPatchStart(rng, dims, valid), size: valid });
    } else {
      // MONAI CenterSpatialCrop: centre n//2, start max(centre - size//2, 0)
      const start = [0, 1, 2].map((d) => Math.max(Math.floor(dims[d] / 2) - Math.floor(size[d] / 2), 0)) as Shape3;
      boxes.push({ start, size: valid.map((x, d) => Math.min(x, dims[d] - start[d])) as Shape3 });
    }
  }
  return boxes;
}

/**
 * One output sample per box: listed keys cropped (new arrays, owned by the run), other keys shared (the
 * chain disowns them: see owned.ts).
 */
export function cropSamples(sample: Sample, keys: string[], boxes: CropBox[], op: string): Sample[] {
  return boxes.map((b, i) => {
    const out: Sample = { ...sample };
    for (const k of keys) {
      const v = cropWindow(volumeAt(sample, k, op), b.start, b.size, op);
      own(v.data); // a fresh array (a crop never returns its input's array) held by this sample only
      v.meta.patch_index = i;
      out[k] = v;
    }
    return out;
  });
}

function sameShape(sample: Sample, keys: string[], op: string): Shape3 {
  const first = volumeAt(sample, keys[0], op);
  for (const k of keys) {
    const v = volumeAt(sample, k, op);
    if (v.shape.some((n, a) => n !== first.shape[a])) {
      dataError(`${op}: keys "${keys[0]}" [${first.shape}] and "${k}" [${v.shape}] differ in shape`, {
        hint: "all keys cropped together must share one grid (resample labels with the image first)",
      });
    }
  }
  return first.shape;
}

export const RandSpatialCropSamplesDef = defineTransform({
  name: RAND_SPATIAL_CROP_SAMPLES,
  description: "num_samples random crops of roi_size (MONAI RandSpatialCropSamplesd); returns a list of samples.",
  spatial: { inverse: undoWindow },
  args: z.object({
    keys: keysArg,
    roi_size: size3Arg.describe("crop size (≤ 0 → image size); a dim smaller than roi yields a smaller crop"),
    num_samples: z.number().int().min(1).describe("number of crops per input sample"),
    max_roi_size: size3Arg.nullable().default(null).describe("upper bound of the size when random_size"),
    random_center: z.boolean().default(true).describe("random position (false: centre crop)"),
    random_size: z
      .boolean()
      .default(false)
      .describe("draw the size in [roi_size, max_roi_size] (MONAI 1.4 default false)"),
    seed: seedArg,
    allow_missing_keys: allowMissingArg,
  }),
  create: (args) => {
    const streams = streamSource(args.seed);
    return builtinTransform(RAND_SPATIAL_CROP_SAMPLES, true, (sample, rng) => {
      const keys = presentKeys(sample, args.keys, args.allow_missing_keys, RAND_SPATIAL_CROP_SAMPLES);
      if (keys.length === 0) return Array.from({ length: args.num_samples }, () => ({ ...sample }));
      const dims = sameShape(sample, keys, RAND_SPATIAL_CROP_SAMPLES);
      const boxes = drawSpatialCropBoxes(streams(rng).inner, dims, {
        roiSize: args.roi_size,
        numSamples: args.num_samples,
        maxRoiSize: args.max_roi_size,
        randomCenter: args.random_center,
        randomSize: args.random_size,
      });
      return cropSamples(sample, keys, boxes, RAND_SPATIAL_CROP_SAMPLES);
    });
  },
});

/**
 * MONAI map_binary_to_indices: flattened C-order spatial indices of foreground (any label channel ≠ 0;
 * channel 0 is dropped when the label has several channels, i.e. one-hot) and background (label 0 and,
 * when an image is given, any image channel > threshold).
 */
export function posNegIndices(
  label: Volume,
  image: Volume | null,
  threshold: number,
): { fg: Int32Array; bg: Int32Array } {
  const n = label.shape[0] * label.shape[1] * label.shape[2];
  const C = label.channels;
  const c0 = C > 1 ? 1 : 0;
  const isFg = new Uint8Array(n);
  let nf = 0;
  for (let i = 0; i < n; i++) {
    for (let c = c0; c < C; c++) {
      if (label.data[i * C + c] !== 0) {
        isFg[i] = 1;
        nf++;
        break;
      }
    }
  }
  const isBg = new Uint8Array(n);
  let nb = 0;
  const IC = image?.channels ?? 1;
  for (let i = 0; i < n; i++) {
    if (isFg[i]) continue;
    let ok = image === null;
    if (image) {
      for (let c = 0; c < IC; c++) {
        if (image.data[i * IC + c] > threshold) {
          ok = true;
          break;
        }
      }
    }
    if (ok) {
      isBg[i] = 1;
      nb++;
    }
  }
  const fg = new Int32Array(nf);
  const bg = new Int32Array(nb);
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    if (isFg[i]) fg[a++] = i;
    else if (isBg[i]) bg[b++] = i;
  }
  return { fg, bg };
}

/** MONAI correct_crop_centers: clamp each centre coordinate to [floor(s/2), uint16(L + 1 - s/2) - 1]. */
export function correctCropCenter(
  center: ArrayLike<number>,
  size: Shape3,
  dims: Shape3,
  allowSmaller: boolean,
): Shape3 {
  let s = size;
  if (s.some((x, d) => dims[d] < x)) {
    if (!allowSmaller) {
      dataError(`RandCropByPosNegLabel: image [${dims}] is smaller than spatial_size [${size}]`, {
        hint: "pad first (SpatialPad) or set allow_smaller: true",
      });
    }
    s = s.map((x, d) => Math.min(x, dims[d])) as Shape3;
  }
  return [0, 1, 2].map((d) => {
    const vs = Math.floor(s[d] / 2);
    let ve = Math.trunc(dims[d] + 1 - s[d] / 2) & 0xffff; // numpy .astype(np.uint16)
    if (vs === ve) ve += 1;
    return Math.min(Math.max(center[d], vs), ve - 1);
  }) as Shape3;
}

/**
 * MONAI generate_pos_neg_label_crop_centers: per sample `rand() < pos_ratio` picks the fg list (else bg),
 * then `randint(len)` picks the voxel; centres are corrected to keep the crop inside.
 */
export function drawPosNegCenters(
  rng: RandomState,
  o: {
    fg: Int32Array;
    bg: Int32Array;
    dims: Shape3;
    size: Shape3;
    posRatio: number;
    numSamples: number;
    allowSmaller: boolean;
    warn?: (m: string) => void;
  },
): Shape3[] {
  const { fg, bg, dims } = o;
  let ratio = o.posRatio;
  if (fg.length === 0 && bg.length === 0) {
    dataError("RandCropByPosNegLabel: no sampling location available (label and image are empty)", {
      hint: "check label_key / image_threshold",
    });
  }
  if (fg.length === 0 || bg.length === 0) {
    ratio = fg.length === 0 ? 0 : 1;
    o.warn?.(
      `RandCropByPosNegLabel: ${fg.length === 0 ? "no foreground" : "no background"} voxels; using pos ratio ${ratio}`,
    );
  }
  const centers: Shape3[] = [];
  for (let s = 0; s < o.numSamples; s++) {
    const list = rng.rand() < ratio ? fg : bg;
    const idx = list[rng.randint(list.length)];
    const c = [Math.floor(idx / (dims[1] * dims[2])), Math.floor(idx / dims[2]) % dims[1], idx % dims[2]];
    centers.push(correctCropCenter(c, o.size, dims, o.allowSmaller));
  }
  return centers;
}

/** MONAI SpatialCrop(roi_center, roi_size): start = max(c - floor(s/2), 0), end clipped to the image. */
export function centerBox(center: Shape3, size: Shape3, dims: Shape3): CropBox {
  const start = [0, 1, 2].map((d) => Math.max(center[d] - Math.floor(size[d] / 2), 0)) as Shape3;
  return { start, size: [0, 1, 2].map((d) => Math.min(start[d] + size[d], dims[d]) - start[d]) as Shape3 };
}

export const RandCropByPosNegLabelDef = defineTransform({
  name: RAND_CROP_BY_POS_NEG_LABEL,
  description:
    "num_samples crops centred on foreground (ratio pos/(pos+neg)) or background voxels of label_key (MONAI RandCropByPosNegLabeld); returns a list.",
  spatial: { inverse: undoWindow },
  args: z.object({
    keys: keysArg,
    label_key: z.string().describe("label key defining foreground (≠ 0)"),
    spatial_size: size3Arg.describe("crop size; ≤ 0 → label size in that dim"),
    pos: z.number().min(0).default(1).describe("weight of foreground centres"),
    neg: z.number().min(0).default(1).describe("weight of background centres"),
    num_samples: z.number().int().min(1).default(1).describe("crops per input sample"),
    image_key: z.string().nullable().default(null).describe("background only where this image is > image_threshold"),
    image_threshold: z.number().default(0).describe("threshold on image_key for background voxels"),
    allow_smaller: z
      .boolean()
      .default(false)
      .describe("allow an image smaller than spatial_size (crop is then smaller)"),
    seed: seedArg,
    allow_missing_keys: allowMissingArg,
  }),
  create: (args, ctx) => {
    if (args.pos + args.neg === 0) argError("RandCropByPosNegLabel: pos and neg cannot both be 0");
    const streams = streamSource(args.seed);
    const posRatio = args.pos / (args.pos + args.neg);
    return builtinTransform(RAND_CROP_BY_POS_NEG_LABEL, true, (sample, rng) => {
      const label = volumeAt(sample, args.label_key, RAND_CROP_BY_POS_NEG_LABEL);
      const image = args.image_key ? volumeAt(sample, args.image_key, RAND_CROP_BY_POS_NEG_LABEL) : null;
      const dims = label.shape;
      const size = fallBack3(args.spatial_size, dims);
      const { fg, bg } = posNegIndices(label, image, args.image_threshold);
      const centers = drawPosNegCenters(streams(rng).inner, {
        fg,
        bg,
        dims,
        size,
        posRatio,
        numSamples: args.num_samples,
        allowSmaller: args.allow_smaller,
        warn: (m) => ctx?.logger?.warn(m),
      });
      const keys = presentKeys(sample, args.keys, args.allow_missing_keys, RAND_CROP_BY_POS_NEG_LABEL);
      for (const k of keys) {
        const v = volumeAt(sample, k, RAND_CROP_BY_POS_NEG_LABEL);
        if (v.shape.some((n, a) => n !== dims[a])) {
          dataError(`RandCropByPosNegLabel: key "${k}" [${v.shape}] differs from label [${dims}]`);
        }
      }
      const boxes = centers.map((c) => centerBox(c, rep3(size), dims));
      return cropSamples(sample, keys, boxes, RAND_CROP_BY_POS_NEG_LABEL);
    });
  },
});
