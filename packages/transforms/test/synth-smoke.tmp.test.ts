import { test } from "vitest";
import { generateCase } from "../src/synth/index.js";
test("smoke", () => {
  for (const size of [64, 96]) {
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const c = generateCase(i, { cases: 1, size, seed: 0 });
      const dt = performance.now() - t0;
      const counts = new Array(14).fill(0);
      for (const v of c.label.data) counts[v]++;
      const info = c.image.meta.synth as any;
      console.log(size, i, dt.toFixed(0) + "ms", counts.join(","), "drawn", info.drawnVoxels.map((d: number, k: number) => k ? (counts[k] / Math.max(1, d)).toFixed(2) : "-").join(","));
    }
  }
});
