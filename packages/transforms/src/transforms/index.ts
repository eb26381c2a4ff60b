/**
 * The transform library (MONAI 1.4 semantics, see shared/reference/monai-semantics.md §2). Each
 * transform exists as a pure function with explicit parameters and as a registered dict transform
 * (`keys`, `allow_missing_keys`, MONAI's args and defaults) drawing its parameters in MONAI's order.
 */

import { RandCoarseDropoutDef, RandCoarseShuffleDef } from "./coarse.js";
import { ComposeDef, CopyItemsDef, OneOfDef } from "./compose.js";
import { CropForegroundDef, SpatialPadDef } from "./crop-pad.js";
import { RandFlipDef, RandRotate90Def } from "./flip-rotate.js";
import { RandScaleIntensityDef, RandShiftIntensityDef, ScaleIntensityRangeDef } from "./intensity.js";
import { MapLabelValueDef } from "./label.js";
import { OrientationDef } from "./orientation.js";
import { RandCropByPosNegLabelDef, RandSpatialCropSamplesDef } from "./rand-crop.js";
import { SpacingDef } from "./spacing.js";

export * from "./affine.js";
export {
  allowMissingArg,
  fallBack3,
  keysArg,
  makeTransform,
  rep3,
  type Streams,
  seedArg,
  streamSource,
} from "./base.js";
export * from "./chain.js";
export * from "./coarse.js";
export * from "./compose.js";
export * from "./crop-pad.js";
export * from "./flip-rotate.js";
export * from "./grid.js";
export * from "./intensity.js";
export * from "./invert.js";
export * from "./label.js";
export * from "./orientation.js";
export * from "./owned.js";
export * from "./rand-crop.js";
export * from "./resample.js";
export { cloneVolume, describeSample, minMax, type Shape3, transformFailure } from "./sample.js";
export * from "./spacing.js";

/** Every transform this library registers. */
export const transformComponents = [
  MapLabelValueDef,
  OrientationDef,
  SpacingDef,
  ScaleIntensityRangeDef,
  CropForegroundDef,
  SpatialPadDef,
  RandSpatialCropSamplesDef,
  RandCropByPosNegLabelDef,
  RandFlipDef,
  RandRotate90Def,
  RandShiftIntensityDef,
  RandScaleIntensityDef,
  CopyItemsDef,
  OneOfDef,
  ComposeDef,
  RandCoarseDropoutDef,
  RandCoarseShuffleDef,
] as const;
