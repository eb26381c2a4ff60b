import type { Box, Vec3 } from "./geometry.js";
import { BTCV_NUM_CLASSES } from "./labels.js";
import type { SynthGrid } from "./options.js";

/** One drawable part of the phantom, defined in the canonical body frame. */
export interface Structure {
  name: string;
  /** BTCV class painted into the label map (0 for unlabelled tissue such as fat, bone or bowel) */
  label: number;
  /** a voxel takes the structure with the highest priority that contains it (ties: the later one) */
  priority: number;
  /** canonical bounding box (mm); only voxels inside it are sampled */
  box: Box;
  /** clean Hounsfield value at a canonical point, or NaN when the point is outside */
  sample(x: number, y: number, z: number): number;
}

/** Patient pose in the scanner: world = shift + Rz(angleZ)·diag(scale)·canonical. */
export interface Pose {
  scale: Vec3;
  angleZDeg: number;
  shift: Vec3;
}

/** The clean (noise-free, unblurred) HU image and label map being painted, with per-voxel priority. */
export class Canvas {
  readonly hu: Float32Array;
  readonly label: Uint8Array;
  readonly priority: Uint8Array;
  /** voxels inside each labelled structure's own shape, before occlusion by higher priorities */
  readonly drawn = new Float64Array(BTCV_NUM_CLASSES);
  readonly n: number;
  /** canonical = G·[i, j, k, 1] (row-major 3×4) */
  private readonly G: Float64Array;
  private readonly cos: number;
  private readonly sin: number;

  constructor(
    readonly grid: SynthGrid,
    readonly pose: Pose,
    background: number,
  ) {
    const [n0, n1, n2] = grid.shape;
    this.n = n0 * n1 * n2;
    this.hu = new Float32Array(this.n).fill(background);
    this.label = new Uint8Array(this.n);
    this.priority = new Uint8Array(this.n);
    const th = (pose.angleZDeg * Math.PI) / 180;
    this.cos = Math.cos(th);
    this.sin = Math.sin(th);
    const A = grid.affine;
    // world = diag(sp)·idx + o; canonical = S⁻¹·Rᵀ·(world − shift)
    const Rt = [this.cos, this.sin, 0, -this.sin, this.cos, 0, 0, 0, 1];
    this.G = new Float64Array(12);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) this.G[r * 4 + c] = (Rt[r * 3 + c] * A[c * 5]) / pose.scale[r];
      let off = 0;
      for (let c = 0; c < 3; c++) off += Rt[r * 3 + c] * (A[c * 4 + 3] - pose.shift[c]);
      this.G[r * 4 + 3] = off / pose.scale[r];
    }
  }

  /** canonical point → continuous voxel index */
  toVoxel(c: Vec3): Vec3 {
    const { scale, shift } = this.pose;
    const sx = c[0] * scale[0];
    const sy = c[1] * scale[1];
    const w = [
      shift[0] + this.cos * sx - this.sin * sy,
      shift[1] + this.sin * sx + this.cos * sy,
      shift[2] + c[2] * scale[2],
    ];
    const A = this.grid.affine;
    return [(w[0] - A[3]) / A[0], (w[1] - A[7]) / A[5], (w[2] - A[11]) / A[10]];
  }

  /** voxel index → canonical point */
  toCanonical(i: number, j: number, k: number): Vec3 {
    const G = this.G;
    return [
      G[0] * i + G[1] * j + G[2] * k + G[3],
      G[4] * i + G[5] * j + G[6] * k + G[7],
      G[8] * i + G[9] * j + G[10] * k + G[11],
    ];
  }

  paint(s: Structure): void {
    const [n0, n1, n2] = this.grid.shape;
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-Infinity, -Infinity, -Infinity];
    for (let c = 0; c < 8; c++) {
      const v = this.toVoxel([
        c & 1 ? s.box.max[0] : s.box.min[0],
        c & 2 ? s.box.max[1] : s.box.min[1],
        c & 4 ? s.box.max[2] : s.box.min[2],
      ]);
      for (let a = 0; a < 3; a++) {
        lo[a] = Math.min(lo[a], v[a]);
        hi[a] = Math.max(hi[a], v[a]);
      }
    }
    const i0 = Math.max(0, Math.floor(lo[0]));
    const j0 = Math.max(0, Math.floor(lo[1]));
    const k0 = Math.max(0, Math.floor(lo[2]));
    const i1 = Math.min(n0 - 1, Math.ceil(hi[0]));
    const j1 = Math.min(n1 - 1, Math.ceil(hi[1]));
    const k1 = Math.min(n2 - 1, Math.ceil(hi[2]));
    const G = this.G;
    const { hu, label, priority } = this;
    const prio = s.priority;
    const lab = s.label;
    let drawn = 0;
    for (let i = i0; i <= i1; i++) {
      for (let j = j0; j <= j1; j++) {
        let x = G[0] * i + G[1] * j + G[2] * k0 + G[3];
        let y = G[4] * i + G[5] * j + G[6] * k0 + G[7];
        let z = G[8] * i + G[9] * j + G[10] * k0 + G[11];
        let v = (i * n1 + j) * n2 + k0;
        for (let k = k0; k <= k1; k++, v++, x += G[2], y += G[6], z += G[10]) {
          const value = s.sample(x, y, z);
          if (Number.isNaN(value)) continue;
          drawn++;
          if (prio < priority[v]) continue;
          hu[v] = value;
          label[v] = lab;
          priority[v] = prio;
        }
      }
    }
    if (lab > 0) this.drawn[lab] += drawn;
  }
}
