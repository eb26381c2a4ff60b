import { test } from "vitest";
import { writeFileSync } from "node:fs";
import { PNG } from "pngjs";
import { generateCase } from "../src/synth/index.js";
const COLORS = [[0,0,0],[255,0,0],[0,255,0],[0,0,255],[255,255,0],[0,255,255],[255,128,0],[255,0,255],[255,255,255],[128,128,255],[128,255,128],[255,128,128],[128,0,255],[0,128,255]];
test("viz", () => {
  const idx = Number(process.env.CASE ?? 0);
  const size = Number(process.env.SIZE ?? 96);
  const c = generateCase(idx, { cases: 1, size, seed: Number(process.env.SEED ?? 0) });
  const [n0, n1, n2] = c.image.shape;
  const slices = (process.env.SLICES ?? "0.15,0.3,0.45,0.55,0.65,0.75,0.85,0.95").split(",").map(Number);
  const mode = process.env.VIEW ?? "axial";
  // axial: rows = anterior at top (j descending), cols = patient right on the left of the image (radiological: i descending left->right? show i increasing to the left)
  const W = mode === "axial" ? n0 : n0, H = mode === "axial" ? n1 : n2;
  const Z = Number(process.env.ZOOM ?? 2); const png = new PNG({ width: W * slices.length * Z, height: H * 2 * Z });
  slices.forEach((f, s) => {
    const at = Math.min((mode === "axial" ? n2 : n1) - 1, Math.floor(f * (mode === "axial" ? n2 : n1)));
    for (let r = 0; r < H; r++) for (let col = 0; col < W; col++) {
      // radiological display: patient right (high i) on image left
      const i = n0 - 1 - col;
      const j = mode === "axial" ? n1 - 1 - r : at;
      const k = mode === "axial" ? at : n2 - 1 - r;
      const v = (i * n1 + j) * n2 + k;
      const hu = c.image.data[v];
      const g = Math.max(0, Math.min(255, ((hu + 175) / 425) * 255));
      const lab = c.label.data[v];
      for (const [row, rgb] of [[r, [g, g, g]], [r + H, lab ? COLORS[lab].map((x) => 0.5 * x + 0.5 * g) : [g, g, g]]] as const) {
        for (let a = 0; a < Z; a++) for (let b = 0; b < Z; b++) {
        const o = ((row * Z + a) * png.width + (s * W + col) * Z + b) * 4;
        png.data[o] = rgb[0]; png.data[o + 1] = rgb[1]; png.data[o + 2] = rgb[2]; png.data[o + 3] = 255; }
      }
    }
  });
  writeFileSync(`/tmp/synthdbg/${mode}_${size}_${idx}.png`, PNG.sync.write(png));
});
