import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { SlidingWindow, slidingWindowGrid } from "../src/index.js";
import { useBackend } from "./helpers.js";

/** windows an inferer actually sends to its predictor for a [batch, ...spatial, 1] input */
async function windowsRun(inferer: SlidingWindow, spatial: number[], batch = 1): Promise<number> {
  let seen = 0;
  const x = tf.zeros([batch, ...spatial, 1]);
  const out = await inferer.infer(x, (b) => {
    seen += b.shape[0];
    return tf.add(b, 1);
  });
  out.dispose();
  x.dispose();
  return seen;
}

describe("slidingWindowGrid: the one window grid (SlidingWindow runs it, the web app's progress bar counts it)", () => {
  beforeAll(() => useBackend("cpu"));

  const cases: {
    spatial: number[];
    roi_size: number | [number, number, number];
    overlap?: number | [number, number, number];
    /** worked out by hand with MONAI's rule: interval max(⌊roi·(1−overlap)⌋, 1) (roi where roi = image), ⌈(image−roi)/interval⌉ + 1 per dim */
    windows: number;
  }[] = [
    { spatial: [7, 5, 9], roi_size: 4, windows: 2 * 2 * 3 },
    { spatial: [11, 13, 6], roi_size: [5, 4, 3], overlap: [0, 0.5, 0.9], windows: 3 * 6 * 4 },
    // dims smaller than the roi are padded up to it: one window along them
    { spatial: [3, 10, 6], roi_size: [5, 4, 8], overlap: 0.6, windows: 1 * 7 * 1 },
    // a non-positive roi entry is the whole dim; roi == image uses the roi as the interval
    { spatial: [9, 7, 5], roi_size: [-1, 3, 5], overlap: 0.3, windows: 1 * 3 * 1 },
    { spatial: [17, 1, 8], roi_size: [6, 1, 7], overlap: 0, windows: 3 * 1 * 2 },
  ];

  for (const c of cases) {
    it(`${c.spatial.join("×")} at roi ${JSON.stringify(c.roi_size)}, overlap ${JSON.stringify(c.overlap ?? "default")}`, async () => {
      const inferer = new SlidingWindow({ roi_size: c.roi_size, overlap: c.overlap, sw_batch_size: 3 });
      const grid = slidingWindowGrid(c.spatial, inferer.options);
      expect(grid.windows.length).toBe(c.windows);
      expect(await windowsRun(inferer, c.spatial)).toBe(grid.windows.length);
      // every batch item runs the same grid
      expect(await windowsRun(inferer, c.spatial, 2)).toBe(2 * grid.windows.length);
    });
  }

  it("counts a grid with more than one window per dim, starts ending flush with the image", () => {
    const g = slidingWindowGrid([7, 5, 9], { roiSize: 4 });
    expect(g.roi).toEqual([4, 4, 4]);
    expect(g.interval).toEqual([3, 3, 3]);
    expect(g.windows.length).toBe(2 * 2 * 3);
    expect(g.windows.at(-1)).toEqual([3, 1, 5]);
  });

  it("refuses an overlap outside [0, 1) as SlidingWindow does", () => {
    expect(() => slidingWindowGrid([8, 8, 8], { roiSize: 4, overlap: 1 })).toThrow(/overlap must be in \[0, 1\)/);
  });
});
