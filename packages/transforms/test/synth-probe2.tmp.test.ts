import { test } from "vitest";
import { RandomState, deriveSeed } from "@voxelpipe/core";
import { Anatomy } from "../src/synth/anatomy.js";
import { bodyStructures } from "../src/synth/body.js";
import { Canvas } from "../src/synth/raster.js";
import { resolveGrid } from "../src/synth/options.js";
test("probe2", () => {
  const an = new Anatomy(new RandomState(deriveSeed(0, "synth", 0)));
  const grid = resolveGrid({ size: 96, seed: 0 });
  const cv = new Canvas(grid, an.pose, -1000);
  const ss = bodyStructures(an);
  const [n0, n1, n2] = grid.shape;
  for (const j of [28]) for (const k of [5, 10, 20]) {
    const row: string[] = [];
    for (let i = 0; i < n0; i += 1) {
      const p = cv.toCanonical(i, j, k);
      const hit = ss.filter((s) => !Number.isNaN(s.sample(...p))).map((s) => s.name[0] + s.name[1]).join("+");
      row.push(hit || ".");
    }
    console.log(j, k, cv.toCanonical(0, j, k).map((v) => v.toFixed(0)).join(","), row.join(" "));
  }
});
