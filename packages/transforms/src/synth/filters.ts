import type { RandomState } from "@voxelpipe/core";

/**
 * Image formation after painting: scanner-frame low-frequency inhomogeneity, a light separable Gaussian blur
 * (partial-volume edges) and Gaussian noise, then rounding to int16 HU.
 */

/**
 * Adds a smooth field inside the body: a sum of one low-frequency sinusoid per voxel axis plus a radial cupping term
 * in the axial plane. Every term is separable, so the field costs three small 1-D tables, not N sin() calls.
 */
export function addInhomogeneity(
  hu: Float32Array,
  inside: Uint8Array,
  shape: [number, number, number],
  amplitude: number,
  rng: RandomState,
): void {
  const [n0, n1, n2] = shape;
  const axis = (n: number, cupping: number) => {
    const cycles = rng.uniform(0.3, 1.0);
    const phase = rng.uniform(0, 2 * Math.PI);
    const weight = rng.uniform(-1, 1);
    const t = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = n > 1 ? i / (n - 1) : 0.5;
      const c = 2 * u - 1;
      t[i] = (amplitude / 3) * weight * Math.sin(2 * Math.PI * cycles * u + phase) + cupping * c * c;
    }
    return t;
  };
  // cupping: the centre of a large body reads darker than its periphery (beam hardening)
  const cup = rng.uniform(0, amplitude / 2);
  const f0 = axis(n0, cup);
  const f1 = axis(n1, cup);
  const f2 = axis(n2, 0);
  let v = 0;
  for (let i = 0; i < n0; i++) {
    for (let j = 0; j < n1; j++) {
      const fij = f0[i] + f1[j] - cup;
      for (let k = 0; k < n2; k++, v++) if (inside[v]) hu[v] += fij + f2[k];
    }
  }
}

/** normalised 1-D Gaussian taps (radius ⌈3σ⌉) */
export function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) {
    k[i + r] = Math.exp((-0.5 * i * i) / (sigma * sigma));
    s += k[i + r];
  }
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

/** in-place separable Gaussian blur with σ in voxels per axis; borders replicate the edge voxel */
export function gaussianBlur(
  data: Float32Array,
  shape: [number, number, number],
  sigma: [number, number, number],
): void {
  const [n0, n1, n2] = shape;
  const strides = [n1 * n2, n2, 1];
  for (let a = 0; a < 3; a++) {
    if (!(sigma[a] > 0)) continue;
    const k = gaussianKernel(sigma[a]);
    const r = (k.length - 1) >> 1;
    const n = shape[a];
    const stride = strides[a];
    const line = new Float32Array(n + 2 * r);
    const others = (n0 * n1 * n2) / n;
    // enumerate every line along axis a by its start offset
    const [o1, o2] = [0, 1, 2].filter((b) => b !== a);
    for (let p = 0; p < others; p++) {
      const i1 = Math.floor(p / shape[o2]);
      const i2 = p % shape[o2];
      const start = i1 * strides[o1] + i2 * strides[o2];
      for (let i = 0; i < n + 2 * r; i++) {
        const src = Math.min(n - 1, Math.max(0, i - r));
        line[i] = data[start + src * stride];
      }
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let t = 0; t < k.length; t++) s += k[t] * line[i + t];
        data[start + i * stride] = s;
      }
    }
  }
}

/** adds N(0, σ²) per voxel, two values per Box–Muller pair of uniforms */
export function addGaussianNoise(data: Float32Array, sigma: number, rng: RandomState): void {
  const n = data.length;
  for (let i = 0; i < n; i += 2) {
    let u = rng.rand();
    while (u === 0) u = rng.rand();
    const v = rng.rand();
    const m = sigma * Math.sqrt(-2 * Math.log(u));
    data[i] += m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) data[i + 1] += m * Math.sin(2 * Math.PI * v);
  }
}

/** rounds to int16 HU, clamped to the usual CT range [−1024, 3071] */
export function toInt16Hu(data: Float32Array): Int16Array {
  const out = new Int16Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(data[i]);
    out[i] = Math.max(-1024, Math.min(3071, v));
  }
  return out;
}
