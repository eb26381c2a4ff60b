#!/usr/bin/env node
/**
 * HD95 on a 512×512×200 mask pair (exact EDT). Build first: `npx tsc -p packages/metrics`.
 * Usage: node bench/hd95.mjs [--full]   (--full also times one EDT over the whole 52M-voxel grid)
 * Prints wall times; asserts nothing.
 */
import {
  computeHausdorffDistance,
  computeSurfaceDice,
  squaredDistanceToFeatures,
} from "../packages/metrics/dist/index.js";

const S = [512, 512, 200];
const spacing = [0.8, 0.8, 2.5];
const n = S[0] * S[1] * S[2];

/** label map of an ellipsoid with a sinusoidal surface ripple (a large, irregular organ-like region) */
function organ(c0, c1, c2, a0, a1, a2, ripple, phase) {
  const m = new Uint8Array(n);
  let v = 0;
  for (let i = 0; i < S[0]; i++)
    for (let j = 0; j < S[1]; j++) {
      const x = (i - c0) / a0;
      const y = (j - c1) / a1;
      const r2xy = x * x + y * y;
      if (r2xy > 1.3) {
        v += S[2];
        continue;
      }
      const bump = 1 + ripple * Math.sin(7 * Math.atan2(y, x) + phase);
      for (let k = 0; k < S[2]; k++, v++) {
        const z = (k - c2) / a2;
        if (r2xy + z * z <= bump) m[v] = 1;
      }
    }
  return m;
}

function time(label, fn) {
  const t0 = performance.now();
  const r = fn();
  const ms = performance.now() - t0;
  console.log(`${label}: ${(ms / 1000).toFixed(2)} s`);
  return r;
}

const pred = time("build pred mask", () => organ(256, 250, 100, 170, 150, 70, 0.06, 0));
const gt = time("build gt mask", () => organ(250, 256, 104, 165, 155, 72, 0.08, 0.5));
let fg = 0;
for (let i = 0; i < n; i++) fg += pred[i];
console.log(`grid ${S.join("×")} = ${(n / 1e6).toFixed(1)}M voxels, pred foreground ${(fg / 1e6).toFixed(1)}M voxels`);

const P = { data: pred, shape: [1, ...S, 1] };
const G = { data: gt, shape: [1, ...S, 1] };
const hd95 = time("HD95 (symmetric, percentile 95, 2 exact EDTs over the union box)", () =>
  computeHausdorffDistance(P, G, { num_classes: 2, percentile: 95, spacing }),
);
console.log(`  HD95 = ${hd95.data[0].toFixed(4)} mm`);
const hd = time("HD (max)", () => computeHausdorffDistance(P, G, { num_classes: 2, spacing }));
console.log(`  HD = ${hd.data[0].toFixed(4)} mm`);
const nsd = time("surface Dice τ = 2 mm", () =>
  computeSurfaceDice(P, G, { num_classes: 2, class_thresholds: [2], spacing }),
);
console.log(`  NSD = ${nsd.data[0].toFixed(4)}`);

if (process.argv.includes("--full")) {
  const feat = new Uint8Array(n);
  for (let i = 0; i < n; i += 9973) feat[i] = 1;
  time("one squared EDT over the full 512×512×200 grid", () => squaredDistanceToFeatures(feat, S, spacing));
}
