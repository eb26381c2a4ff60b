import { test } from "vitest";
import { RandomState, deriveSeed } from "@voxelpipe/core";
import { Anatomy } from "../src/synth/anatomy.js";
import { Canvas } from "../src/synth/raster.js";
import { resolveGrid } from "../src/synth/options.js";
import { generateCase } from "../src/synth/index.js";
test("probe3", () => {
  const c = generateCase(5, { cases: 1, size: 96, seed: 0 });
  const an = new Anatomy(new RandomState(deriveSeed(0, "synth", 5)));
  const cv = new Canvas(resolveGrid({ size: 96, seed: 0 }), an.pose, -1000);
  const [n0, n1, n2] = c.image.shape;
  let best = [-1, 0, 0, 0];
  for (let i = 0; i < n0; i++) for (let j = 0; j < n1; j++) for (let k = 0; k < n2; k++) if (c.label.data[(i * n1 + j) * n2 + k] === 6 && k > best[0]) best = [k, i, j, k];
  const p = cv.toCanonical(best[1], best[2], best[3]);
  console.log("top liver voxel", best, "canonical", p, "diaphragmZ", an.diaphragmZ(p[0], p[1]), an.domeR, an.domeL, an.pose);
});
