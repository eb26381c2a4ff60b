/**
 * Shape primitives of the phantom, evaluated point by point in the canonical body frame (mm; x toward the patient's
 * right, y anterior, z superior). They are written for speed: no allocation per query, bounding boxes for pruning.
 */

export type Vec3 = [number, number, number];

export interface Box {
  min: Vec3;
  max: Vec3;
}

const DEG = Math.PI / 180;

/** Row-major 3×3 rotation R = Rz(zDeg)·Ry(yDeg)·Rx(xDeg): columns are the local axes in the canonical frame. */
export function rotation(zDeg: number, yDeg = 0, xDeg = 0): Float64Array {
  const [cz, sz] = [Math.cos(zDeg * DEG), Math.sin(zDeg * DEG)];
  const [cy, sy] = [Math.cos(yDeg * DEG), Math.sin(yDeg * DEG)];
  const [cx, sx] = [Math.cos(xDeg * DEG), Math.sin(xDeg * DEG)];
  return new Float64Array([
    cz * cy,
    cz * sy * sx - sz * cx,
    cz * sy * cx + sz * sx,
    sz * cy,
    sz * sy * sx + cz * cx,
    sz * sy * cx - cz * sx,
    -sy,
    cy * sx,
    cy * cx,
  ]);
}

export function unionBox(...boxes: Box[]): Box {
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const b of boxes) {
    for (let a = 0; a < 3; a++) {
      min[a] = Math.min(min[a], b.min[a]);
      max[a] = Math.max(max[a], b.max[a]);
    }
  }
  return { min, max };
}

export function padBox(b: Box, pad: number): Box {
  return {
    min: [b.min[0] - pad, b.min[1] - pad, b.min[2] - pad],
    max: [b.max[0] + pad, b.max[1] + pad, b.max[2] + pad],
  };
}

/** A rotated ellipsoid. `radius` is the normalised radius (<1 inside), so depth ≈ (1 − r)·min semi-axis. */
export class Ellipsoid {
  readonly box: Box;
  /** local coordinates of the last `radius` query, in units of the semi-axes */
  lx = 0;
  ly = 0;
  lz = 0;
  private readonly r: Float64Array;

  constructor(
    readonly centre: Vec3,
    readonly semi: Vec3,
    rot: Float64Array = rotation(0),
  ) {
    this.r = rot;
    const half: number[] = [];
    for (let a = 0; a < 3; a++) {
      half.push(Math.hypot(rot[a * 3] * semi[0], rot[a * 3 + 1] * semi[1], rot[a * 3 + 2] * semi[2]));
    }
    this.box = {
      min: [centre[0] - half[0], centre[1] - half[1], centre[2] - half[2]],
      max: [centre[0] + half[0], centre[1] + half[1], centre[2] + half[2]],
    };
  }

  radius(x: number, y: number, z: number): number {
    const r = this.r;
    const dx = x - this.centre[0];
    const dy = y - this.centre[1];
    const dz = z - this.centre[2];
    // local = Rᵀ·d
    this.lx = (r[0] * dx + r[3] * dy + r[6] * dz) / this.semi[0];
    this.ly = (r[1] * dx + r[4] * dy + r[7] * dz) / this.semi[1];
    this.lz = (r[2] * dx + r[5] * dy + r[8] * dz) / this.semi[2];
    return Math.sqrt(this.lx * this.lx + this.ly * this.ly + this.lz * this.lz);
  }

  get minSemi(): number {
    return Math.min(this.semi[0], this.semi[1], this.semi[2]);
  }
}

/**
 * A tube of varying radius around a smooth centre line (uniform Catmull–Rom spline through the control points,
 * ends extrapolated, capped by half-spheres). `depth` is radius − distance (> 0 inside).
 */
export class Tube {
  readonly box: Box;
  /** arc-length fraction (0 at the first control point, 1 at the last) of the nearest centre-line point */
  t = 0;
  /** distance of the last query point to the centre line */
  dist = 0;
  private readonly pts: Float64Array;
  private readonly rad: Float64Array;
  private readonly cum: Float64Array;
  private readonly segBox: Float64Array;
  private readonly n: number;

  constructor(control: Vec3[], radii: number[], perSpan = 8) {
    if (control.length < 2 || radii.length !== control.length)
      throw new RangeError("Tube: need ≥2 points and one radius per point");
    const P = [control[0].map((v, a) => 2 * v - control[1][a]) as Vec3, ...control];
    const last = control.length - 1;
    P.push(control[last].map((v, a) => 2 * v - control[last - 1][a]) as Vec3);
    const pts: number[] = [];
    const rad: number[] = [];
    for (let s = 0; s < control.length - 1; s++) {
      const [p0, p1, p2, p3] = [P[s], P[s + 1], P[s + 2], P[s + 3]];
      for (let q = 0; q < perSpan; q++) {
        const u = q / perSpan;
        const u2 = u * u;
        const u3 = u2 * u;
        for (let a = 0; a < 3; a++) {
          pts.push(
            0.5 *
              (2 * p1[a] +
                (-p0[a] + p2[a]) * u +
                (2 * p0[a] - 5 * p1[a] + 4 * p2[a] - p3[a]) * u2 +
                (-p0[a] + 3 * p1[a] - 3 * p2[a] + p3[a]) * u3),
          );
        }
        rad.push(radii[s] + (radii[s + 1] - radii[s]) * u);
      }
    }
    pts.push(...control[last]);
    rad.push(radii[last]);
    this.pts = new Float64Array(pts);
    this.rad = new Float64Array(rad);
    this.n = rad.length;
    this.cum = new Float64Array(this.n);
    for (let i = 1; i < this.n; i++) {
      this.cum[i] =
        this.cum[i - 1] +
        Math.hypot(pts[3 * i] - pts[3 * i - 3], pts[3 * i + 1] - pts[3 * i - 2], pts[3 * i + 2] - pts[3 * i - 1]);
    }
    // per-segment boxes grown by the larger end radius, so a far segment is skipped with six comparisons
    this.segBox = new Float64Array(6 * (this.n - 1));
    const min: Vec3 = [Infinity, Infinity, Infinity];
    const max: Vec3 = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < this.n - 1; i++) {
      const r = Math.max(rad[i], rad[i + 1]);
      for (let a = 0; a < 3; a++) {
        const lo = Math.min(pts[3 * i + a], pts[3 * i + 3 + a]) - r;
        const hi = Math.max(pts[3 * i + a], pts[3 * i + 3 + a]) + r;
        this.segBox[6 * i + a] = lo;
        this.segBox[6 * i + 3 + a] = hi;
        min[a] = Math.min(min[a], lo);
        max[a] = Math.max(max[a], hi);
      }
    }
    this.box = { min, max };
  }

  /** radius − distance to the centre line (> 0 inside); −Infinity when no segment box contains the point */
  depth(x: number, y: number, z: number): number {
    const p = this.pts;
    const b = this.segBox;
    let best = -Infinity;
    for (let i = 0; i < this.n - 1; i++) {
      const o = 6 * i;
      if (x < b[o] || y < b[o + 1] || z < b[o + 2] || x > b[o + 3] || y > b[o + 4] || z > b[o + 5]) continue;
      const ax = p[3 * i];
      const ay = p[3 * i + 1];
      const az = p[3 * i + 2];
      const ex = p[3 * i + 3] - ax;
      const ey = p[3 * i + 4] - ay;
      const ez = p[3 * i + 5] - az;
      const len2 = ex * ex + ey * ey + ez * ez;
      let u = len2 > 0 ? ((x - ax) * ex + (y - ay) * ey + (z - az) * ez) / len2 : 0;
      u = Math.max(0, Math.min(1, u));
      const dx = x - ax - u * ex;
      const dy = y - ay - u * ey;
      const dz = z - az - u * ez;
      const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
      const r = this.rad[i] + u * (this.rad[i + 1] - this.rad[i]);
      if (r - d > best) {
        best = r - d;
        this.dist = d;
        this.t = (this.cum[i] + u * (this.cum[i + 1] - this.cum[i])) / this.cum[this.n - 1];
      }
    }
    return best;
  }
}

/** A smooth displacement (three sinusoids), applied to a query point to make primitives look organic. */
export class Warp {
  wx = 0;
  wy = 0;
  wz = 0;
  constructor(
    private readonly amp: number,
    private readonly k: number,
    private readonly phase: Vec3,
  ) {}

  apply(x: number, y: number, z: number): void {
    const a = this.amp;
    const k = this.k;
    this.wx = x + a * Math.sin(k * y + this.phase[0]) * Math.cos(0.7 * k * z + this.phase[1]);
    this.wy = y + a * Math.sin(k * z + this.phase[1]) * Math.cos(0.7 * k * x + this.phase[2]);
    this.wz = z + a * Math.sin(k * x + this.phase[2]) * Math.cos(0.7 * k * y + this.phase[0]);
  }
}

const WAVES = 5;

/**
 * Quasi-random blobby texture in about [−1, 1]: a sum of five plane waves with random directions, wavelengths and
 * phases (fewer waves tile into a visible lattice). Used for faeces, food and gas bubbles without a noise table.
 */
export class Mottle {
  private readonly w: Float64Array;
  constructor(rand: () => number, wavelength: number) {
    this.w = new Float64Array(4 * WAVES);
    for (let i = 0; i < WAVES; i++) {
      const th = 2 * Math.PI * rand();
      const cz = 2 * rand() - 1;
      const s = Math.sqrt(1 - cz * cz);
      const k = (2 * Math.PI) / (wavelength * (0.7 + 0.6 * rand()));
      this.w.set([k * s * Math.cos(th), k * s * Math.sin(th), k * cz, 2 * Math.PI * rand()], 4 * i);
    }
  }

  at(x: number, y: number, z: number): number {
    const w = this.w;
    let s = 0;
    for (let o = 0; o < 4 * WAVES; o += 4) s += Math.sin(w[o] * x + w[o + 1] * y + w[o + 2] * z + w[o + 3]);
    // the sum of five unit sines has σ ≈ 1.6; scale so ±1 covers most of it
    return s / 2.5;
  }
}
