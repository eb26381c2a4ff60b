/** Voxel storage types a Volume may hold (labels stay integer, images become float32). */
export type VoxelArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/**
 * A 3-D image with channels, as it flows through transforms. Layout is channel-last and C-order
 * over [S0, S1, S2, C]: index = ((i*S1 + j)*S2 + k)*C + c, where S0,S1,S2 are the NIfTI voxel axes
 * i,j,k (MONAI's spatial order). `affine` maps voxel (i,j,k,1) to world RAS mm, row-major 4×4.
 */
export interface Volume {
  data: VoxelArray;
  /** [S0, S1, S2] */
  shape: [number, number, number];
  channels: number;
  /** row-major 4×4 voxel → world (RAS+, mm) */
  affine: Float64Array;
  /** metadata carried along (source file, original affine and shape, applied spatial ops for inversion) */
  meta: VolumeMeta;
}

export interface VolumeMeta {
  /** file the volume was read from */
  source?: string;
  /** affine and shape of the file as read, so predictions can be written back on its grid */
  originalAffine?: Float64Array;
  originalShape?: [number, number, number];
  /** spatial operations applied since loading, newest last, for inversion */
  applied?: AppliedOp[];
  [key: string]: unknown;
}

export interface AppliedOp {
  /** transform name, e.g. "Orientation" */
  op: string;
  /** everything needed to invert it */
  params: Record<string, unknown>;
  /** shape before the op */
  before: [number, number, number];
  affineBefore: Float64Array;
}

/** spacing (mm) from the affine's column norms */
export function spacingOf(affine: ArrayLike<number>): [number, number, number] {
  const s: number[] = [];
  for (let c = 0; c < 3; c++) {
    s.push(Math.hypot(affine[c], affine[4 + c], affine[8 + c]));
  }
  return s as [number, number, number];
}

export function isVolume(x: unknown): x is Volume {
  return typeof x === "object" && x !== null && "data" in x && "shape" in x && "affine" in x && "channels" in x;
}
