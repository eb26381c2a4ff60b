import { it } from "vitest";
import { readNifti } from "../src/io/index.js";
import { mapLabelValue, orient, spacingGrid } from "../src/transforms/index.js";
import { readSafetensors } from "./safetensors.js";
import { SHARED } from "./transforms-util.js";

function linspaceTorch(n: number, V: number): Float64Array {
  const out = new Float64Array(n);
  if (n <= 1) return out;
  const step = 2 / (n - 1);
  const half = Math.floor(n / 2);
  let idx = 0;
  const sc = (i: number) => (i < half ? -1 + step * i : 1 - step * (n - i - 1));
  if (V > 1) {
    while (idx + 2 * V <= n) {
      for (let r = 0; r < 2; r++) {
        const base = sc(idx);
        for (let m = 0; m < V; m++) out[idx + m] = m === 0 ? base : base + m * step;
        idx += V;
      }
    }
  }
  for (; idx < n; idx++) out[idx] = sc(idx);
  return out;
}

function rhe(x: number) {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

function table(nOut: number, nIn: number, x: number, V: number, invVariant: number, fmaGrid: boolean): Int32Array {
  const a = 2 / nIn;
  const ta = 1 / nIn - 1;
  const b = 2 / nOut;
  const tb = 1 / nOut - 1;
  const invb = 1 / b;
  const inv03 = invVariant === 0 ? -(tb * invb) : -(tb / b);
  const P00 = a * x;
  const th0 = P00 * invb;
  const th3 = P00 * inv03 + ta;
  const lin = linspaceTorch(nOut, V);
  const t = new Int32Array(nOut);
  for (let j = 0; j < nOut; j++) {
    const base = (lin[j] * (nOut - 1)) / nOut;
    const g = fmaGrid ? Number(base * th0 + th3) : base * th0 + th3;
    let ix = ((g + 1) * nIn - 1) / 2;
    ix = Math.min(Math.max(ix, 0), nIn - 1);
    t[j] = rhe(ix);
  }
  return t;
}

it("probe", async () => {
  const DATA = `${SHARED}/data/totalseg`;
  const st = readSafetensors(`${SHARED}/reference/fixtures/preprocess_example_ct_sm.safetensors`);
  const refL = st.get("io.label").data as Uint8Array;
  const lab = await readNifti(`${DATA}/example_seg.nii.gz`);
  const TS = [1, 2, 3, 4, 15, 5, 6, 52, 63, 64, 7, 8, 9];
  const l = orient(mapLabelValue(lab, TS, TS.map((_, i) => i + 1), { dtype: "uint8", unmapped: 0 }), "RAS");
  const g = spacingGrid(l.affine, l.shape, [1.5, 1.5, 2]);
  const [n0, n1, n2] = l.shape;
  const R = [241, 191, 44];
  const xs = [0.5, 0.5, 2 / 3];
  for (const V of [1, 4, 8]) {
    for (const inv of [0, 1]) {
      const t = [0, 1, 2].map((d) => table(g.shape[d], l.shape[d], xs[d], V, inv, false));
      let eq = 0;
      for (let i = 0; i < R[0]; i++)
        for (let j = 0; j < R[1]; j++)
          for (let k = 0; k < R[2]; k++) {
            if (l.data[(t[0][i] * n1 + t[1][j]) * n2 + t[2][k]] === refL[(i * R[1] + j) * R[2] + k]) eq++;
          }
      console.log(`V=${V} inv=${inv}: ${(eq / refL.length) * 100}%`);
    }
  }
  const best = [0, 1, 2].map((d) => table(g.shape[d], l.shape[d], xs[d], 8, 0, false));
  const ns = [n0, n1, n2];
  for (let ax = 0; ax < 3; ax++) {
    const out: string[] = [];
    let dis = 0;
    for (let jo = 0; jo < R[ax]; jo++) {
      const cands = [Math.max(best[ax][jo] - 1, 0), best[ax][jo], Math.min(best[ax][jo] + 1, ns[ax] - 1)];
      const mism = cands.map((c) => {
        let m = 0;
        const it = (d: number) => (d === ax ? [jo] : Array.from({ length: R[d] }, (_, i) => i));
        for (const a of it(0)) for (const b of it(1)) for (const cc of it(2)) {
          const id = [a, b, cc].map((v, d) => (d === ax ? c : best[d][v]));
          if (l.data[(id[0] * n1 + id[1]) * n2 + id[2]] !== refL[(a * R[1] + b) * R[2] + cc]) m++;
        }
        return m;
      });
      const k = mism.indexOf(Math.min(...mism));
      if (k !== 1 && mism[k] < mism[1]) {
        dis++;
        out.push(`${jo}:${best[ax][jo]}->${cands[k]} (${mism.join("/")})`);
      }
    }
    console.log(`axis ${ax}: ${dis} disagreements ${out.join(" ")}`);
  }
});
