/**
 * The report viewer in headless Debian Chromium: a tiny real run (synthetic CT → a small UNETR for a few steps →
 * prediction → evaluation, through the CLI) writes report.html; the page is opened from file:// (as a user opens
 * it) and must mount NiiVue with the organ legend, toggle a layer, scroll a slice and paint the organ colour where
 * the prediction has that organ. Wall time here (2 cores): ~22 s for the run, ~15 s for the page on SwiftShader.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readNifti } from "@voxelpipe/transforms";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organColor } from "../src/viewer/organs.js";
import { type HeadlessBrowser, hasChromium, launchChromium, openPage } from "./browser.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const PIPELINE = fileURLToPath(new URL("./fixtures/report-run.yaml", import.meta.url));
const CLI = join(REPO, "packages/runner/bin/voxelpipe.js");

function stageDir(runs: string, stage: string): string {
  const root = join(runs, "report-run", stage);
  return join(root, readdirSync(root).sort().pop()!);
}

/** the world position (mm) of the voxel of a label map deepest inside its largest organ (in-plane), and that organ */
async function deepOrganVoxel(file: string): Promise<{ organ: number; depth: number; mm: number[] }> {
  const v = await readNifti(file);
  const [a, b, c] = v.shape;
  const counts = new Map<number, number>();
  for (const x of v.data) if (x > 0) counts.set(x, (counts.get(x) ?? 0) + 1);
  const organ = [...counts].sort((p, q) => q[1] - p[1])[0][0];
  const at = (i: number, j: number, k: number) => v.data[(i * b + j) * c + k];
  let best = { depth: -1, ijk: [0, 0, 0] };
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let k = 0; k < c; k++) {
        if (at(i, j, k) !== organ) continue;
        let d = 0;
        while (
          d < 6 &&
          i - d - 1 >= 0 &&
          j - d - 1 >= 0 &&
          i + d + 1 < a &&
          j + d + 1 < b &&
          [-d - 1, d + 1].every((o) => at(i + o, j, k) === organ && at(i, j + o, k) === organ)
        )
          d++;
        if (d > best.depth) best = { depth: d, ijk: [i, j, k] };
      }
  const A = v.affine;
  const [i, j, k] = best.ijk;
  return {
    organ,
    depth: best.depth,
    mm: [0, 1, 2].map((r) => A[r * 4] * i + A[r * 4 + 1] * j + A[r * 4 + 2] * k + A[r * 4 + 3]),
  };
}

/** RGB at CSS pixel (x, y) of a screenshot of the viewer's canvas (decoded by the browser's own PNG decoder) */
async function pixel(page: Page, host: string, x: number, y: number): Promise<[number, number, number]> {
  const png = (await page.locator(`${host} canvas`).screenshot()).toString("base64");
  return page.evaluate(
    async ({ png, x, y }) => {
      const img = await createImageBitmap(await (await fetch(`data:image/png;base64,${png}`)).blob());
      const c = new OffscreenCanvas(img.width, img.height).getContext("2d")!;
      c.drawImage(img, 0, 0);
      const d = c.getImageData(Math.round(x), Math.round(y), 1, 1).data;
      return [d[0], d[1], d[2]] as [number, number, number];
    },
    { png, x, y },
  );
}

describe.skipIf(!hasChromium)("report.html viewer in headless Chromium", () => {
  let chrome: HeadlessBrowser;
  let page: Page;
  let runs: string;
  let target: { organ: number; depth: number; mm: number[] };

  beforeAll(async () => {
    runs = mkdtempSync(join(tmpdir(), "vp-report-run-"));
    execFileSync(process.execPath, [CLI, "run", PIPELINE, "--runs-dir", runs], { stdio: "pipe", timeout: 240_000 });
    // the worst case is the one with the lower mean Dice; its prediction file is in the evaluation
    const evaluation = JSON.parse(readFileSync(join(stageDir(runs, "score"), "evaluation.json"), "utf8"));
    const mean = (c: { metrics: { dice: Record<string, number | null> } }) => {
      const v = Object.values(c.metrics.dice).filter((x): x is number => typeof x === "number");
      return v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);
    };
    const worst = [...evaluation.cases].sort((p, q) => mean(p) - mean(q))[0];
    // its ground truth has solid organs (a barely trained model's prediction is speckle)
    target = await deepOrganVoxel(worst.label);
    chrome = await launchChromium({ webgpu: true });
    page = await openPage(chrome, { width: 1400, height: 1000 });
    await page.goto(pathToFileURL(join(stageDir(runs, "score"), "report.html")).href);
    await page.waitForSelector("body[data-vp-viewers]:not([data-vp-viewers=loading])", { timeout: 90_000 });
  }, 300_000);

  afterAll(async () => {
    await chrome?.close();
    if (runs) rmSync(runs, { recursive: true, force: true });
  });

  it("mounts a NiiVue viewer per case from file://, with the organ legend", async () => {
    expect(await page.getAttribute("body", "data-vp-viewers")).toBe("ready");
    for (const which of ["best", "worst"])
      expect(await page.getAttribute(`[data-vp-viewer="${which}"]`, "data-vp-state")).toBe("ready");
    const legend = await page.locator('[data-vp-viewer="worst"] .vp-legend li[data-class] .vp-name').allTextContents();
    expect(legend).toEqual(expect.arrayContaining(["spleen", "liver", "left kidney", "aorta", "inferior vena cava"]));
    // the worst case opens on the error layer; the static slices fold away once the viewer works
    expect(await page.getAttribute('[data-vp-viewer="worst"]', "data-vp-layers")).toBe("image,prediction,errors");
    expect(await page.locator("details.vp-statics[open]").count()).toBe(0);
    // clicking an organ in the legend narrows the error layer to that organ's missed / extra voxels
    const alphas = () =>
      page.evaluate(() => {
        const nv = window.voxelpipeViewers![1].nv;
        const lut = nv.volumes.find((v) => v.name === "errors")!.colormapLabel!.lut;
        // entries: 0 agree, k missed, 14 + k extra (dense from 0)
        return { spleenMissed: lut[1 * 4 + 3], liverMissed: lut[6 * 4 + 3], liverExtra: lut[20 * 4 + 3] };
      });
    expect(await alphas()).toEqual({ spleenMissed: 255, liverMissed: 255, liverExtra: 255 });
    const liver = page.locator('[data-vp-viewer="worst"] .vp-legend li[data-class="6"]');
    await liver.click();
    expect(await liver.getAttribute("class")).toContain("vp-sel");
    expect(await alphas()).toEqual({ spleenMissed: 0, liverMissed: 255, liverExtra: 255 });
    await liver.click();
    expect(await alphas()).toEqual({ spleenMissed: 255, liverMissed: 255, liverExtra: 255 });
  });

  it("paints an organ's colour where the ground truth has that organ, and hides it with its toggle", async () => {
    const host = '[data-vp-viewer="worst"]';
    await page.locator(host).scrollIntoViewIfNeeded();
    // the ground-truth layer alone colours the pixel; crosshair onto the organ's deepest voxel
    await page.locator(`${host} input[data-layer="errors"]`).uncheck();
    await page.locator(`${host} input[data-layer="prediction"]`).uncheck();
    await page.locator(`${host} input[data-layer="groundTruth"]`).check();
    expect(await page.getAttribute(host, "data-vp-layers")).toBe("image,groundTruth");
    // the axial tile's canvas position 0.3 voxel diagonally from the voxel's centre: inside the voxel (nearest
    // interpolation) and inside the crosshair's central gap
    const pos = await page.evaluate(
      ({ mm }) => {
        const nv = window.voxelpipeViewers![1].nv;
        const frac = nv.mm2frac(mm as unknown as Parameters<typeof nv.mm2frac>[0]);
        nv.scene.crosshairPos = frac;
        nv.drawScene();
        const v = nv.frac2vox(frac) as unknown as number[];
        const next = nv.vox2frac([v[0] + 1, v[1] + 1, v[2]] as unknown as Parameters<typeof nv.vox2frac>[0]);
        const p = nv.frac2canvasPosWithTile(frac, 0); // axial tile
        const q = nv.frac2canvasPosWithTile(next, 0);
        const scale = nv.canvas!.width / nv.canvas!.getBoundingClientRect().width;
        if (!p || !q) return null;
        return [0, 1].map((d) => (p.pos[d] + 0.3 * (q.pos[d] - p.pos[d])) / scale);
      },
      { mm: target.mm },
    );
    expect(pos).not.toBeNull();
    expect(target.depth).toBeGreaterThanOrEqual(2);
    const [x, y] = pos!;
    const want = organColor(target.organ);
    const on = await pixel(page, host, x, y);
    // label opacity 0.55 over a grey CT voxel: the colour's channel order shows through (measured: e.g. aorta
    // [183, 110, 98] over grey); grey alone has equal channels
    const spread = (c: number[]) => Math.max(...c) - Math.min(...c);
    expect(spread(on), `pixel ${on} at organ ${target.organ}`).toBeGreaterThan(25);
    const order = (c: number[]) => [0, 1, 2].sort((p, q) => c[q] - c[p])[0];
    expect(order(on)).toBe(order(want));
    await page.locator(`${host} input[data-layer="groundTruth"]`).uncheck();
    expect(await page.getAttribute(host, "data-vp-layers")).toBe("image");
    const off = await pixel(page, host, x, y);
    expect(spread(off), `pixel ${off} with the ground truth hidden`).toBeLessThan(8);
  });

  it("the train stage's report opens on the viewer too (validation cases, organ names from the dataset)", async () => {
    const train = await openPage(chrome, { width: 1200, height: 900 });
    try {
      await train.goto(pathToFileURL(join(stageDir(runs, "fit"), "report.html")).href);
      await train.waitForSelector("body[data-vp-viewers]:not([data-vp-viewers=loading])", { timeout: 90_000 });
      expect(await train.getAttribute("body", "data-vp-viewers")).toBe("ready");
      const names = await train.locator('[data-vp-viewer="best"] .vp-legend .vp-name').allTextContents();
      expect(names.slice(0, 3)).toEqual(["spleen", "right kidney", "left kidney"]);
      expect(await train.locator('[data-vp-viewer="best"] .vp-legend small').first().textContent()).toMatch(/^Dice /);
    } finally {
      await train.close();
    }
  });

  it("the SSL stage's report shows original, corrupted views and reconstructions side by side, in step", async () => {
    const ssl = await openPage(chrome, { width: 1400, height: 900 });
    try {
      await ssl.goto(pathToFileURL(join(stageDir(runs, "ssl"), "report.html")).href);
      await ssl.waitForSelector("body[data-vp-viewers]:not([data-vp-viewers=loading])", { timeout: 90_000 });
      expect(await ssl.getAttribute('[data-vp-viewer="ssl"]', "data-vp-state")).toBe("ready");
      const captions = await ssl.locator('[data-vp-viewer="ssl"] figcaption').allTextContents();
      expect(captions).toEqual([
        "gt_image original",
        "image corrupted view",
        "recon1 reconstruction",
        "image_2 corrupted view",
        "recon2 reconstruction",
      ]);
      // one slider moves every panel to the same slice
      await ssl.locator('[data-vp-viewer="ssl"] input[data-axis="2"]').evaluate((el: HTMLInputElement) => {
        el.value = "5";
        el.dispatchEvent(new Event("input", { bubbles: true }));
      });
      const slices = await ssl.evaluate(() =>
        (
          window.voxelpipeViewers as unknown as {
            nvs: { frac2vox(f: unknown): number[]; scene: { crosshairPos: unknown } }[];
          }[]
        )[0].nvs.map((nv) => nv.frac2vox(nv.scene.crosshairPos)[2]),
      );
      expect(slices).toEqual([5, 5, 5, 5, 5]);
    } finally {
      await ssl.close();
    }
  });

  it("scrolls slices with the slider and the mouse wheel", async () => {
    const host = '[data-vp-viewer="best"]';
    await page.locator(host).scrollIntoViewIfNeeded();
    const before = (await page.getAttribute(host, "data-vp-slice"))!.split(",").map(Number);
    const shot0 = await page.locator(`${host} canvas`).screenshot();
    // the axial slider (RAS axis 2) to slice 3
    await page.locator(`${host} input[data-axis="2"]`).evaluate((el: HTMLInputElement) => {
      el.value = "3";
      el.dispatchEvent(new Event("input", { bubbles: true }));
    });
    const slid = (await page.getAttribute(host, "data-vp-slice"))!.split(",").map(Number);
    expect(slid[2]).toBe(3);
    expect(slid.slice(0, 2)).toEqual(before.slice(0, 2));
    expect((await page.locator(`${host} .vp-slices output`).nth(2).textContent())?.startsWith("4 / ")).toBe(true);
    const shot1 = await page.locator(`${host} canvas`).screenshot();
    expect(Buffer.compare(shot0, shot1)).not.toBe(0);
    // wheel over the canvas moves through slices as well
    const box = (await page.locator(`${host} canvas`).boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.25);
    for (let n = 0; n < 3; n++) await page.mouse.wheel(0, -100);
    await page.waitForTimeout(200);
    const wheeled = (await page.getAttribute(host, "data-vp-slice"))!.split(",").map(Number);
    expect(wheeled).not.toEqual(slid);
  });
});

declare global {
  interface Window {
    voxelpipeViewers?: import("../src/viewer/viewer.js").ViewerHandle[];
  }
}
