import { test } from "vitest";
import { RandomState, deriveSeed } from "@voxelpipe/core";
import { Anatomy } from "../src/synth/anatomy.js";
import { bodyStructures } from "../src/synth/body.js";
test("probe", () => {
  const an = new Anatomy(new RandomState(deriveSeed(0, "synth", 0)));
  const ss = bodyStructures(an);
  for (const [x, y] of [[0, -71], [0, -61], [60, -60], [-140, -20], [140, 0]]) {
    for (const z of [-120, -100, -60, 0, 60]) {
      const hits = ss.map((s) => [s.name, s.sample(x, y, z)] as const).filter(([, v]) => !Number.isNaN(v)).map(([n, v]) => `${n}=${v.toFixed(0)}`);
      console.log(x, y, z, hits.join(" "));
    }
  }
  console.log(an.spineY, an.body, an.halfDepth(-1), an.pose);
});
