/**
 * report.html parts without a browser: charts (a constant series on a sensible axis, labelled log axes), the
 * static overlay PNGs (organ colours, radiological orientation, error colours), the viewer payload (crop, stride,
 * 8-bit image with its scale, affine), and whole train / evaluation pages (viewer hosts, legends, SSL panels,
 * per-case × organ tables). ~2 s. The page in Chromium is packages/web/test/report-viewer.test.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseNifti, writeNifti } from "@voxelpipe/transforms";
import { ERROR_COLORS, organColor, type ViewerCasePayload } from "@voxelpipe/web";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { evaluateFiles } from "../src/evaluate/evaluate.js";
import { writeEvaluationReport } from "../src/evaluate/report-page.js";
import { planCrop, viewerPayload } from "../src/report/case-volumes.js";
import { type OverlayVolumes, overlayPng } from "../src/report/overlay.js";
import { axisRange, lineChart, logTicks } from "../src/report/svg.js";
import { writeTrainReport } from "../src/report/train-report.js";
import { tmp } from "./helpers.js";

const NAMES = ["background", "spleen", "right kidney", "left kidney", "gallbladder", "esophagus", "liver"];

/** a phantom with RAS voxel axes: liver (6) on the patient's right (high i), spleen (1) on the left (low i) */
function phantom(
  shape: [number, number, number] = [20, 16, 12],
): OverlayVolumes & { label: Uint8Array; pred: Uint8Array } {
  const [a, b, c] = shape;
  const n = a * b * c;
  const image = new Float32Array(n);
  const label = new Uint8Array(n);
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let k = 0; k < c; k++) {
        const x = (i * b + j) * c + k;
        image[x] = -1000 + 200 * ((i + 2 * j + 3 * k) % 8); // air … 400 HU, a pattern so the grey varies
        if (i >= 12 && i < 18 && j >= 4 && j < 11 && k >= 3 && k < 9) label[x] = 6;
        if (i >= 2 && i < 6 && j >= 5 && j < 9 && k >= 4 && k < 8) label[x] = 1;
      }
  const pred = label.slice();
  // the prediction misses the liver's anterior rows (j = 9, 10) and adds spleen voxels at i = 6
  for (let x = 0; x < n; x++) {
    const i = Math.floor(x / (b * c));
    const j = Math.floor(x / c) % b;
    const k = x % c;
    if (label[x] === 6 && j >= 9) pred[x] = 0;
    if (i === 6 && j >= 5 && j < 9 && k >= 4 && k < 8) pred[x] = 1;
  }
  return { shape, image, label, pred, spacing: [1, 1, 1] };
}

describe("charts", () => {
  it("draws a constant series (SSL learning rate 5e-4) at its value on an axis around it", () => {
    const [lo, hi] = axisRange(5e-4, 5e-4, false);
    expect([lo, hi].map((x) => +x.toPrecision(12))).toEqual([4e-4, 6e-4]);
    expect(axisRange(0, 0, false)).toEqual([-1, 1]);
    const svg = lineChart("learning rate", [{ name: "lr", points: [1, 2, 3, 4].map((i) => [i, 5e-4]) }], {
      yLabel: "learning rate",
    });
    const ticks = [...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => Number(m[1]));
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(ticks).toContain(5e-4);
    for (const t of ticks) expect(t).toBeGreaterThan(3.9e-4);
    // the line is drawn halfway up the plot (height 280, margins 28 top / 40 bottom), not on an axis edge
    const ys = [...svg.matchAll(/,(\d+(?:\.\d+)?)/g)].map((m) => Number(m[1]));
    expect(new Set(ys)).toEqual(new Set([134]));
  });

  it("labels a log axis (decades, or 1-2-5 within two decades) and says it is a log scale", () => {
    expect(logTicks(Math.log10(0.05), Math.log10(3))).toEqual([0.05, 0.1, 0.2, 0.5, 1, 2]);
    expect(logTicks(-4, 1)).toEqual([1e-4, 1e-3, 1e-2, 0.1, 1, 10]);
    const svg = lineChart(
      "training losses",
      [
        {
          name: "loss",
          points: [
            [1, 3],
            [2, 0.4],
            [3, 0.05],
          ],
        },
      ],
      {
        yLabel: "loss",
        logY: true,
      },
    );
    expect(svg).toContain(">loss (log scale)<");
    const labels = [...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => m[1]);
    expect(labels).toEqual(["0.05", "0.1", "0.2", "0.5", "1", "2"]);
    expect(svg).not.toMatch(/<svg[^>]* width=/); // scales to the page width
  });
});

describe("static overlay PNGs", () => {
  const rgbAt = (png: PNG, x: number, y: number) => {
    const o = (y * png.width + x) * 4;
    return [png.data[o], png.data[o + 1], png.data[o + 2]];
  };

  it("fills organs in their colours, radiological (patient right on the left), errors blue / orange", () => {
    const v = phantom();
    const { png, slice, of } = overlayPng(v, "axial", NAMES);
    expect([slice, of]).toEqual([6, 12]); // round(5.5): centroid slice k of the labelled voxels (0-based), of 12
    const img = PNG.sync.read(png);
    // panels: 256 px per 20 mm (a = 20, b = 16 → 256 × 205), at x = 8, 272, 536; top 48
    const [w, h, top] = [256, 205, 48];
    expect(img.width).toBe(3 * w + 32);
    const at = (panel: number, i: number, j: number) => {
      const x = 8 + panel * (w + 8) + Math.floor(((20 - 1 - i + 0.5) / 20) * w);
      const y = top + Math.floor(((16 - 1 - j + 0.5) / 16) * h);
      return rgbAt(img, x, y);
    };
    const blend = (c: readonly number[], grey: number, a: number) => c.map((v) => Math.round(grey * (1 - a) + v * a));
    // liver interior (i 14, j 6): organ colour at 45 % over the grey; patient right → the panel's left half
    const liver = at(0, 14, 6);
    const expected = blend(organColor(6), gray(v, 14, 6, 6), 0.45);
    for (let d = 0; d < 3; d++) expect(Math.abs(liver[d] - expected[d])).toBeLessThanOrEqual(1);
    const outside = at(0, 14, 13);
    expect(outside).toEqual([0, 1, 2].map(() => gray(v, 14, 13, 6)));
    const spleen = at(1, 3, 6);
    const es = blend(organColor(1), gray(v, 3, 6, 6), 0.45);
    for (let d = 0; d < 3; d++) expect(Math.abs(spleen[d] - es[d])).toBeLessThanOrEqual(1);
    // errors panel: missed liver rows (j = 9) blue, the extra spleen column (i = 6) orange, agreement grey
    const missed = blend(ERROR_COLORS.missed, gray(v, 14, 9, 6), 0.85);
    const extra = blend(ERROR_COLORS.extra, gray(v, 6, 6, 6), 0.85);
    at(2, 14, 9).forEach((c, d) => {
      expect(Math.abs(c - missed[d])).toBeLessThanOrEqual(1);
    });
    at(2, 6, 6).forEach((c, d) => {
      expect(Math.abs(c - extra[d])).toBeLessThanOrEqual(1);
    });
    const agree = at(2, 14, 6);
    expect(agree[0]).toBe(agree[1]);
    // orientation letters: white "R" at the left edge of each panel, mid-height
    const white = (panel: number) => {
      let n = 0;
      for (let y = top + (h >> 1) - 7; y < top + (h >> 1) + 7; y++)
        for (let x = 8 + panel * (w + 8) + 4; x < 8 + panel * (w + 8) + 14; x++) {
          const [r, g, b] = rgbAt(img, x, y);
          if (r === 255 && g === 255 && b === 255) n++;
        }
      return n;
    };
    for (const p of [0, 1, 2]) expect(white(p)).toBeGreaterThan(20);
  });
});

/** the grey the PNGs draw for voxel (i, j, k) of the phantom (CT window −175…250 HU) */
function gray(v: OverlayVolumes, i: number, j: number, k: number): number {
  const [, b, c] = v.shape;
  const x = v.image[(i * b + j) * c + k];
  return Math.max(0, Math.min(255, Math.round(((x + 175) / 425) * 255)));
}

describe("viewer payload", () => {
  it("crops to the labelled region, subsamples to the budget and keeps values, labels and world positions", () => {
    const v = phantom([40, 32, 24]);
    const plan = planCrop(v, 2000, 2);
    // labelled or predicted voxels span i 2…17, j 4…10, k 3…8; a 2 mm margin at 1 mm voxels
    expect(plan.start).toEqual([0, 2, 1]);
    expect(plan.stride.every((s) => s >= 1)).toBe(true);
    expect(plan.shape.reduce((p, n) => p * n, 1)).toBeLessThanOrEqual(2000);
    const affine = [2, 0, 0, -40, 0, 1.5, 0, -24, 0, 0, 3, 10, 0, 0, 0, 1];
    const p = viewerPayload(v, { title: "t", classes: NAMES, maxVoxels: 2000, marginMm: 2, affine });
    const decode = (b64: string) => parseNifti(new Uint8Array(Buffer.from(b64, "base64")), "payload.nii.gz");
    const [img, gt, pr] = [p.image, p.groundTruth!, p.prediction!].map(decode);
    expect(img.shape).toEqual(plan.shape);
    // voxel (0, 0, 0) of the payload is voxel `start` of the source; one payload step is `stride` source voxels
    for (let r = 0; r < 3; r++) {
      expect(img.affine[r * 4 + r]).toBeCloseTo(affine[r * 5] * plan.stride[r], 6);
      expect(img.affine[r * 4 + 3]).toBeCloseTo(affine[r * 4 + 3] + affine[r * 5] * plan.start[r], 4);
    }
    const [, b, c] = v.shape;
    const [, pb, pc] = plan.shape;
    let checked = 0;
    for (let i = 0; i < plan.shape[0]; i++)
      for (let j = 0; j < pb; j++)
        for (let k = 0; k < pc; k++) {
          const s =
            ((plan.start[0] + i * plan.stride[0]) * b + plan.start[1] + j * plan.stride[1]) * c +
            plan.start[2] +
            k * plan.stride[2];
          const q = (i * pb + j) * pc + k;
          expect(gt.data[q]).toBe(v.label[s]);
          expect(pr.data[q]).toBe(v.pred[s]);
          // 8 bits over the range: within half a step (1400 HU / 255 / 2 ≈ 2.7 HU)
          expect(Math.abs(img.data[q] - v.image[s])).toBeLessThanOrEqual(3);
          checked++;
        }
    expect(checked).toBe(img.data.length);
    expect(p.window).toEqual([-175, 250]); // CT opens on the abdominal window
    expect(p.caption).toMatch(/cropped from 40×32×24/);
  });
});

describe("report pages", () => {
  it("train report: viewers with organ names and per-organ Dice, constant lr axis, SSL reconstructions", () => {
    const dir = tmp();
    const log = [1, 2, 3].map((i) => JSON.stringify({ epoch: 1, iteration: i, loss: 1 / i, lr: 5e-4 }));
    writeFileSync(join(dir, "metrics.jsonl"), `${log.join("\n")}\n`);
    const v = phantom();
    const shape = v.shape;
    const file = writeTrainReport({
      dir,
      title: "t / fit",
      meta: "m",
      scalars: ["loss"],
      metric: "dice",
      best: {
        caseBest: { name: "validation case 0", score: 0.9, volumes: v, perClass: { 1: 0.8, 6: 0.95 } },
        caseWorst: { name: "validation case 1", score: 0.4, volumes: v, perClass: { 1: 0.3, 6: 0.5 } },
        classes: Object.fromEntries(NAMES.map((n, i) => [String(i), n])),
        ssl: {
          shape,
          iteration: 3,
          panels: [
            { name: "gt_image", role: "original", data: Float32Array.from(v.image) },
            { name: "image", role: "corrupted view", data: Float32Array.from(v.image, (x, i) => (i % 7 ? x : 0)) },
            { name: "recon1", role: "reconstruction", data: Float32Array.from(v.image, (x) => x * 0.9) },
          ],
        },
      },
    });
    const html = readFileSync(file, "utf8");
    const payloads = [...html.matchAll(/data-vp-viewer="(\w+)"><script type="application\/json">(.*?)<\/script>/g)];
    expect(payloads.map((m) => m[1])).toEqual(["best", "worst", "ssl"]);
    const worst = JSON.parse(payloads[1][2]) as ViewerCasePayload;
    expect(worst.classes.slice(0, 7)).toEqual(NAMES);
    expect(worst.notes).toEqual({ 1: "Dice 0.300", 6: "Dice 0.500" });
    expect(worst.errors).toBe(true);
    expect(html).toContain('<script id="vp-viewer-bundle" type="application/gzip+base64">');
    expect(html).toContain("learning rate");
    expect(html).toContain(">5.0e-4<");
    expect(html).toMatch(/Reconstructions of the first validation item \(best validation, iteration 3\)/);
    expect(html).toContain("recon1 (reconstruction)");
    const ssl = JSON.parse(html.match(/data-vp-viewer="ssl"><script type="application\/json">(.*?)<\/script>/)![1]);
    expect(ssl.kind).toBe("panels");
    expect(ssl.panels.map((p: { name: string; role: string }) => `${p.name}:${p.role}`)).toEqual([
      "gt_image:original",
      "image:corrupted view",
      "recon1:reconstruction",
    ]);
    // 8 bits over the original's range with scl_slope/inter: the reconstruction (0.9 × original) reads back
    const recon = parseNifti(new Uint8Array(Buffer.from(ssl.panels[2].image, "base64")), "recon.nii.gz");
    const step = (ssl.window[1] - ssl.window[0]) / 255;
    let maxError = 0;
    for (let i = 0; i < recon.data.length; i++) {
      const want = Math.min(ssl.window[1], Math.max(ssl.window[0], v.image[i] * 0.9));
      maxError = Math.max(maxError, Math.abs(recon.data[i] - want));
    }
    expect(maxError).toBeLessThanOrEqual(step / 2 + 1e-3);
    expect(html).not.toMatch(/<script[^>]*\ssrc=|https?:\/\//);
  });

  it("evaluation report: per-case × organ tables and the worst case on RAS axes from LPS files", async () => {
    const dir = tmp();
    const data = join(dir, "data");
    mkdirSync(data);
    const v = phantom();
    // stored LPS: i and j reversed, the affine's first two columns negated (same world positions)
    const [a, b, c] = v.shape;
    const lps = <T extends Float32Array | Uint8Array>(src: T): T => {
      const out = src.slice() as T;
      for (let i = 0; i < a; i++)
        for (let j = 0; j < b; j++)
          for (let k = 0; k < c; k++) out[((a - 1 - i) * b + (b - 1 - j)) * c + k] = src[(i * b + j) * c + k];
      return out;
    };
    const affine = Float64Array.from([-1, 0, 0, a - 1, 0, -1, 0, b - 1, 0, 0, 1, 0, 0, 0, 0, 1]);
    const vol = (d: Float32Array | Uint8Array) => ({ data: d, shape: v.shape, channels: 1, affine, meta: {} });
    await writeNifti(join(data, "img.nii.gz"), vol(lps(v.image as Float32Array)));
    await writeNifti(join(data, "lab.nii.gz"), vol(lps(v.label)));
    await writeNifti(join(data, "lab_seg.nii.gz"), vol(lps(v.pred)));
    const names = Object.fromEntries(NAMES.map((n, i) => [String(i), n]));
    const result = await evaluateFiles({
      pairs: [{ pred: join(data, "lab_seg.nii.gz"), label: join(data, "lab.nii.gz") }],
      names,
      metrics: ["dice", "hd95"],
    });
    const file = await writeEvaluationReport({
      dir,
      title: "t / score",
      meta: "m",
      result,
      images: new Map([[join(data, "lab.nii.gz"), join(data, "img.nii.gz")]]),
    });
    const html = readFileSync(file, "utf8");
    expect(html).toMatch(/Per case and organ: dice[\s\S]*<th class="v">liver<\/th>[\s\S]*<td>lab<\/td>/);
    expect(html).toMatch(/Per case and organ: hd95 \(mm\)/);
    const payload = JSON.parse(
      html.match(/data-vp-viewer="best"><script type="application\/json">(.*?)<\/script>/)![1],
    );
    expect(payload.notes["6"]).toMatch(/^dice 0\.\d{3} · hd95 \d+\.\d mm$/);
    // the PNG reads the LPS files in RAS: the liver (patient right) is drawn on the left of the axial panel
    const png = PNG.sync.read(readFileSync(join(dir, "overlays", "best_axial.png")));
    const liverX: number[] = [];
    const want = organColor(6);
    for (let y = 48; y < 48 + 205; y++)
      for (let x = 8; x < 8 + 256; x++) {
        const o = (y * png.width + x) * 4;
        if (png.data[o] === want[0] && png.data[o + 1] === want[1] && png.data[o + 2] === want[2]) liverX.push(x);
      }
    expect(liverX.length).toBeGreaterThan(50);
    expect(Math.max(...liverX)).toBeLessThan(8 + 128);
  });
});
