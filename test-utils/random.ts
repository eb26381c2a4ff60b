import { RngStreams, type Volume } from "@voxelpipe/core";

/** mulberry32: a tiny seeded uniform [0, 1) stream for generating test inputs (not the framework's RandomState) */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** an n³ single-channel volume of uniform values in [-20, 120) on the identity affine, from the seed's "vol" stream */
export function randomVolume(n: number, seed: number): Volume {
  const r = new RngStreams(seed).stream("vol");
  return {
    data: Float32Array.from({ length: n ** 3 }, () => r.uniform(-20, 120)),
    shape: [n, n, n],
    channels: 1,
    affine: Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
    meta: {},
  };
}
