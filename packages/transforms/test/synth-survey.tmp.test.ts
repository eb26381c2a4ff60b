import { test } from "vitest";
import { generateCase } from "../src/synth/index.js";
function bestDice(hu: ArrayLike<number>, lab: ArrayLike<number>, a: number, b: number) {
  const ha = new Float64Array(4096), hb = new Float64Array(4096);
  for (let v = 0; v < lab.length; v++) { if (lab[v] === a) ha[hu[v] + 1024]++; else if (lab[v] === b) hb[hu[v] + 1024]++; }
  let na = 0; for (const x of ha) na += x; let nb = 0; for (const x of hb) nb += x;
  let best = 0, ca = 0, cb = 0;
  for (let t = 0; t < 4096; t++) { ca += ha[t]; cb += hb[t];
    // predict a if hu <= t
    best = Math.max(best, 2 * ca / (na + ca + cb), 2 * (na - ca) / (na + (na - ca) + (nb - cb)));
  }
  return best;
}
test("survey", () => {
  const rows: string[] = [];
  for (const seed of [0, 1, 2]) for (let i = 0; i < 4; i++) {
    const c = generateCase(i, { cases: 1, size: 64, seed });
    const counts = new Array(14).fill(0);
    for (const v of c.label.data) counts[v]++;
    const info = c.image.meta.synth as any;
    const vis = info.drawnVoxels.map((d: number, k: number) => (k ? (counts[k] / Math.max(1, d)).toFixed(2) : "-"));
    const d = [[6, 1], [6, 11], [1, 2], [6, 2], [1, 11], [8, 6]].map(([a, b]) => bestDice(c.image.data, c.label.data, b, a).toFixed(2));
    rows.push(`${seed}/${i} ${counts.slice(1).join(",")} | vis ${vis.slice(1).join(",")} | dice spl/liv,panc/liv,rk/spl,rk/liv,panc/spl,liv/aorta ${d.join(",")}`);
  }
  console.log(rows.join("\n"));
});
