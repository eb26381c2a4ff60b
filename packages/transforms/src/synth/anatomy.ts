import type { RandomState } from "@voxelpipe/core";
import { rotation, type Vec3, Warp } from "./geometry.js";
import type { Pose } from "./raster.js";

/**
 * Per-case draws shared by every structure: pose, body outline, diaphragm and the Hounsfield table. All
 * randomness of a case comes from one RandomState, drawn in a fixed order, so a case is a pure function of
 * (seed, index).
 */

/** clean tissue intensities (HU) of one case */
export interface HuTable {
  air: number;
  skin: number;
  fat: number;
  muscle: number;
  lung: number;
  boneCortex: number;
  boneCancellous: number;
  disc: number;
  csf: number;
  heart: number;
  table: number;
  liver: number;
  spleen: number;
  kidney: number;
  pancreas: number;
  adrenal: number;
  gallbladder: number;
  gutWall: number;
  gutFluid: number;
  aorta: number;
  ivc: number;
  portal: number;
}

/**
 * The abdominal cavity has a fixed size in the canonical frame (organs are placed against it); the body outline
 * is the cavity grown by the muscle wall, subcutaneous fat and skin. Patient size varies through the pose scale.
 */
export interface BodyShape {
  /** cavity half-width (mm, along x) at z = 0 */
  cavA: number;
  /** cavity anterior and posterior half-depths (mm, along y) */
  cavBant: number;
  cavBpost: number;
  skin: number;
  /** subcutaneous fat and muscle-wall thickness (mm) */
  fat: number;
  wall: number;
}

export class Anatomy {
  readonly pose: Pose;
  readonly body: BodyShape;
  readonly hu: HuTable;
  /** diaphragm domes: [x0, y0, zTop] right and left */
  readonly domeR: Vec3;
  readonly domeL: Vec3;
  /** y of the vertebral-body centre */
  readonly spineY: number;

  constructor(readonly rng: RandomState) {
    const j = (a: number) => this.jitter(a);
    this.pose = {
      scale: [1 + rng.uniform(-0.08, 0.06), 1 + rng.uniform(-0.08, 0.06), 1 + j(0.05)],
      angleZDeg: j(4),
      // the field of view starts a few centimetres above the diaphragm domes, as abdominal CT does
      shift: [j(8), 10 + j(6), -28 + j(10)],
    };
    this.body = { cavA: 125, cavBant: 80, cavBpost: 80, skin: 3, fat: rng.uniform(8, 26), wall: rng.uniform(9, 14) };
    this.domeR = [rng.uniform(50, 70), rng.uniform(-15, 5), rng.uniform(118, 132)];
    this.domeL = [-rng.uniform(50, 70), rng.uniform(-15, 5), rng.uniform(108, 122)];
    this.spineY = -52 + j(4);
    // enhancing parenchyma share one contrast-phase offset plus their own shifts, so liver, spleen, pancreas,
    // kidneys and adrenals overlap within ~±20 HU in every case and their order changes from case to case
    const phase = j(12);
    this.hu = {
      air: -1000,
      skin: 30 + j(10),
      fat: rng.uniform(-115, -85),
      muscle: 48 + j(6),
      lung: rng.uniform(-870, -820),
      boneCortex: rng.uniform(600, 720),
      boneCancellous: rng.uniform(380, 480),
      disc: 90 + j(10),
      csf: 15 + j(5),
      heart: rng.uniform(80, 140),
      table: rng.uniform(-50, 150),
      liver: 58 + phase + j(8),
      spleen: 52 + phase + j(10),
      kidney: 36 + phase + j(10),
      pancreas: 42 + phase + j(8),
      adrenal: 38 + phase + j(8),
      gallbladder: rng.uniform(0, 20),
      gutWall: 50 + j(8),
      gutFluid: rng.uniform(5, 30),
      aorta: rng.uniform(150, 250),
      ivc: rng.uniform(80, 130),
      portal: rng.uniform(110, 170),
    };
  }

  /** uniform in [−a, a] */
  jitter(a: number): number {
    return this.rng.uniform(-a, a);
  }

  /** a point moved by up to ±a (per axis) */
  move(p: Vec3, a: number | Vec3): Vec3 {
    const d = typeof a === "number" ? [a, a, a] : a;
    return [p[0] + this.jitter(d[0]), p[1] + this.jitter(d[1]), p[2] + this.jitter(d[2])];
  }

  /** semi-axes scaled by one common factor 1 ± s and per-axis factors 1 ± s/2 */
  grow(semi: Vec3, s: number): Vec3 {
    const f = 1 + this.jitter(s);
    return [
      semi[0] * f * (1 + this.jitter(s / 2)),
      semi[1] * f * (1 + this.jitter(s / 2)),
      semi[2] * f * (1 + this.jitter(s / 2)),
    ];
  }

  /** a rotation near the given angles (degrees), each varied by ±a */
  turn(z: number, y: number, x: number, a: number): Float64Array {
    return rotation(z + this.jitter(a), y + this.jitter(a), x + this.jitter(a));
  }

  /** an organic deformation of amplitude ~amp mm and wavelength ~wavelength mm */
  warp(amp: number, wavelength: number): Warp {
    const tau = 2 * Math.PI;
    return new Warp(amp * this.rng.uniform(0.6, 1), tau / (wavelength * this.rng.uniform(0.8, 1.25)), [
      this.rng.uniform(0, tau),
      this.rng.uniform(0, tau),
      this.rng.uniform(0, tau),
    ]);
  }

  /** depth of the abdominal cavity's inner surface from the skin (mm) */
  get cavityInset(): number {
    return this.body.skin + this.body.fat + this.body.wall;
  }

  /** half-width of the skin outline at height z (the body widens slightly toward the hips) */
  halfWidth(z: number): number {
    return this.body.cavA * (1 - 0.05 * (z / 130)) + this.cavityInset;
  }

  /** half-depth of the skin outline in front (y > 0) or behind */
  halfDepth(y: number): number {
    return (y > 0 ? this.body.cavBant : this.body.cavBpost) + this.cavityInset;
  }

  /**
   * Outline value (< 1 inside) of the skin contour shrunk by `inset` mm: an ellipse in front and a squarer
   * superellipse (power 3) behind, where the back lies flat and the kidneys sit beside the spine.
   */
  outline(x: number, y: number, z: number, inset: number): number {
    const u = Math.abs(x / (this.halfWidth(z) - inset));
    const v = Math.abs(y / (this.halfDepth(y) - inset));
    return y > 0 ? u * u + v * v : u * u * u + v * v * v;
  }

  inCavity(x: number, y: number, z: number): boolean {
    return this.outline(x, y, z, this.cavityInset) < 1;
  }

  /** height of the diaphragm above (x, y): two paraboloid domes, steeper toward the posterior recesses */
  diaphragmZ(x: number, y: number): number {
    return Math.max(this.dome(this.domeR, x, y), this.dome(this.domeL, x, y));
  }

  private dome(d: Vec3, x: number, y: number): number {
    const dx = x - d[0];
    const dy = y - d[1];
    return d[2] - (dx * dx + (dy < 0 ? 1 : 0.3) * dy * dy) / 200;
  }

  /** inside the cavity and under the diaphragm muscle: where abdominal organs may lie */
  inAbdomen(x: number, y: number, z: number): boolean {
    return this.inCavity(x, y, z) && z < this.diaphragmZ(x, y) - 3;
  }
}
