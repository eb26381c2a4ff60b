// Over 300 lines by design: MONAI 1.4's sliding_window_inference and its helpers (scan intervals, importance
// map, padding), mirrored for parity in one place as in MONAI's inferers/utils.py.
import * as tf from "@tensorflow/tfjs-core";
import { Codes, VoxelpipeError } from "@voxelpipe/core";

/**
 * MONAI sliding_window_inference (monai-semantics §5) on channel-last [B, S0, S1, S2, C] input.
 * Window grid, padding, importance map, accumulation order and final crop follow MONAI 1.4.
 */

export type BlendMode = "constant" | "gaussian";
export type PaddingMode = "constant" | "reflect" | "replicate";
type Triple = [number, number, number];

export interface SlidingWindowOptions {
  /** window size; a non-positive entry means "the whole dim" (MONAI fall_back_tuple) */
  roiSize: number | readonly number[];
  swBatchSize?: number;
  overlap?: number | readonly number[];
  mode?: BlendMode;
  sigmaScale?: number | readonly number[];
  paddingMode?: PaddingMode;
  cval?: number;
  /**
   * window batches predicted at once when the predictor is asynchronous (e.g. model replicas in
   * worker threads); results are blended in window order, so the output does not depend on it
   */
  concurrency?: number;
}

export type Predictor = (batch: tf.Tensor) => tf.Tensor | Promise<tf.Tensor>;

const rep3 = (v: number | readonly number[]): Triple =>
  typeof v === "number" ? [v, v, v] : ([v[0], v[1], v[2]] as Triple);

/** MONAI `fall_back_tuple`: non-positive roi entries take the image size. */
export function fallBackRoi(roi: number | readonly number[], image: readonly number[]): Triple {
  const r = rep3(roi);
  return [0, 1, 2].map((i) => (r[i] > 0 ? r[i] : image[i])) as Triple;
}

/** `_get_scan_interval`: roi if roi == image, else max(int(roi·(1−overlap)), 1). */
export function scanIntervals(
  imageSize: readonly number[],
  roi: readonly number[],
  overlap: readonly number[],
): Triple {
  return [0, 1, 2].map((i) => {
    if (roi[i] === imageSize[i]) return roi[i];
    const interval = Math.trunc(roi[i] * (1 - overlap[i]));
    return interval > 0 ? interval : 1;
  }) as Triple;
}

/** Start offsets along one dim (`dense_patch_slices`): d·interval, the last one shifted back to end at the image end. */
export function windowStarts(image: number, roi: number, interval: number): number[] {
  let count = 1;
  if (interval !== 0) {
    const num = Math.ceil(image / interval);
    let found = -1;
    for (let d = 0; d < num; d++) {
      if (d * interval + roi >= image) {
        found = d;
        break;
      }
    }
    count = found >= 0 ? found + 1 : 1;
  }
  const starts: number[] = [];
  for (let d = 0; d < count; d++) {
    const s = d * interval;
    starts.push(s - Math.max(s + roi - image, 0));
  }
  return starts;
}

/** All window starts, Cartesian product with the LAST spatial dim varying fastest (MONAI order). */
export function windowGrid(
  imageSize: readonly number[],
  roi: readonly number[],
  interval: readonly number[],
): Triple[] {
  const s = [0, 1, 2].map((i) => windowStarts(imageSize[i], roi[i], interval[i]));
  const out: Triple[] = [];
  for (const a of s[0]) for (const b of s[1]) for (const c of s[2]) out.push([a, b, c]);
  return out;
}

/** The window grid of a sliding-window pass: what {@link slidingWindowGrid} computes. */
export interface SlidingWindowGrid {
  /** the window size (non-positive roi entries fall back to the image size) */
  roi: Triple;
  /** the spatial size scanned: the image, padded up to the roi where smaller */
  imageSize: Triple;
  interval: Triple;
  /** window starts in the scanned image, MONAI order; `windows.length` windows run per batch item */
  windows: Triple[];
}

/**
 * The windows `slidingWindowInference` runs over one batch item of spatial size `spatial`
 * ([S0, S1, S2]): the one grid computation, also what a progress bar counts. A bad overlap is a
 * diagnostic.
 */
export function slidingWindowGrid(
  spatial: readonly number[],
  opts: Pick<SlidingWindowOptions, "roiSize" | "overlap">,
): SlidingWindowGrid {
  const roi = fallBackRoi(opts.roiSize, spatial);
  const overlap = rep3(opts.overlap ?? 0.25);
  for (const o of overlap) if (!(o >= 0 && o < 1)) fail(`overlap must be in [0, 1)`, { got: `${o}` });
  const imageSize = [0, 1, 2].map((i) => Math.max(spatial[i], roi[i])) as Triple;
  const interval = scanIntervals(imageSize, roi, overlap);
  return { roi, imageSize, interval, windows: windowGrid(imageSize, roi, interval) };
}

/**
 * MONAI compute_importance_map: ones ("constant"), or the separable Gaussian
 * exp(−x²/(2σ²)), x = −(n−1)/2 … (n−1)/2, σ = sigma_scale·n, in float32, clamped below at
 * max(min, 1e-3). Returned C-order [r0, r1, r2].
 */
export function importanceMap(
  roi: readonly number[],
  mode: BlendMode,
  sigmaScale: number | readonly number[] = 0.125,
): Float32Array {
  const [r0, r1, r2] = roi;
  const n = r0 * r1 * r2;
  const out = new Float32Array(n);
  if (mode === "constant") return out.fill(1);
  const ss = rep3(sigmaScale);
  const g = [0, 1, 2].map((i) => {
    const len = roi[i];
    const sigma = len * ss[i];
    const v = new Float32Array(len);
    // the python-float divisor is computed in double, then used as a float32 scalar
    const denom = Math.fround(-2 * sigma ** 2);
    for (let k = 0; k < len; k++) {
      const x = Math.fround(-(len - 1) / 2 + k);
      v[k] = Math.exp(Math.fround(Math.fround(x * x) / denom));
    }
    return v;
  });
  let p = 0;
  let min = Number.POSITIVE_INFINITY;
  for (let a = 0; a < r0; a++)
    for (let b = 0; b < r1; b++) {
      const ab = Math.fround(g[0][a] * g[1][b]);
      for (let c = 0; c < r2; c++) {
        const v = Math.fround(ab * g[2][c]);
        out[p++] = v;
        if (v < min) min = v;
      }
    }
  const floor = Math.max(min, 1e-3);
  for (let i = 0; i < n; i++) if (out[i] < floor) out[i] = floor;
  return out;
}

/** Python's round(): half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function padSpatial(x: tf.Tensor5D, pads: [number, number][], mode: PaddingMode, cval: number): tf.Tensor5D {
  if (pads.every(([a, b]) => a === 0 && b === 0)) return x;
  return tf.tidy(() => {
    if (mode === "constant") return tf.pad(x, [[0, 0], ...pads, [0, 0]], cval) as tf.Tensor5D;
    if (mode === "reflect") return tf.mirrorPad(x, [[0, 0], ...pads, [0, 0]], "reflect") as tf.Tensor5D;
    // replicate: repeat the edge slices
    let y: tf.Tensor = x;
    pads.forEach(([before, after], i) => {
      const axis = i + 1;
      const n = y.shape[axis];
      const parts: tf.Tensor[] = [];
      const edge = (start: number, reps: number) => {
        const begin = [0, 0, 0, 0, 0];
        const size = [...y.shape];
        begin[axis] = start;
        size[axis] = 1;
        const reps5 = [1, 1, 1, 1, 1];
        reps5[axis] = reps;
        return tf.tile(tf.slice(y, begin, size), reps5);
      };
      if (before > 0) parts.push(edge(0, before));
      parts.push(y);
      if (after > 0) parts.push(edge(n - 1, after));
      y = tf.concat(parts, axis);
    });
    return y as tf.Tensor5D;
  });
}

function fail(message: string, extra: { expected?: string; got?: string; hint?: string } = {}): never {
  throw new VoxelpipeError({ code: Codes.runtime, message: `SlidingWindow: ${message}`, ...extra });
}

/** Nearest-exact resampling index (torch "nearest-exact"): floor((i + 0.5)·in/out), clamped. */
function nearestExact(i: number, inLen: number, outLen: number): number {
  return Math.min(Math.floor((i + 0.5) * (inLen / outLen)), inLen - 1);
}

/**
 * Run `predictor` over windows of `x` ([B, S0, S1, S2, C]) and blend. Output [B, O0, O1, O2, Co];
 * O = S unless the predictor changes the spatial size (then scaled as MONAI does).
 */
export async function slidingWindowInference(
  x: tf.Tensor,
  predictor: Predictor,
  opts: SlidingWindowOptions,
): Promise<tf.Tensor5D> {
  // Long by design: mirrors MONAI 1.4's sliding_window_inference statement by statement (window scan,
  // importance map, padding, blending, the size-changing predictor case) so parity can be checked line against
  // line.
  if (x.rank !== 5) {
    fail(`input must be [B, S0, S1, S2, C] (channel-last)`, { got: `[${x.shape.join(", ")}]` });
  }
  const [batch, ...rest] = x.shape;
  const inSpatial: Triple = [rest[0], rest[1], rest[2]];
  const cIn = rest[3];
  const { roi, imageSize, windows } = slidingWindowGrid(inSpatial, opts);
  const swBatch = opts.swBatchSize ?? 1;
  if (!(Number.isInteger(swBatch) && swBatch >= 1))
    fail("sw_batch_size must be a positive integer", { got: `${swBatch}` });
  const mode = opts.mode ?? "constant";

  // 1. symmetric padding of dims smaller than the roi: floor(diff/2) before, the rest after
  const pads = inSpatial.map((s, i) => {
    const diff = Math.max(roi[i] - s, 0);
    return [Math.floor(diff / 2), diff - Math.floor(diff / 2)] as [number, number];
  });
  const padded = padSpatial(x as tf.Tensor5D, pads, opts.paddingMode ?? "constant", opts.cval ?? 0);

  // 2. window grid (above) and weights
  const nWin = windows.length;
  const total = batch * nWin;
  const baseMap = importanceMap(roi, mode, opts.sigmaScale ?? 0.125);

  let outBuf: Float32Array | undefined;
  let countMap: Float32Array | undefined;
  let wMap = baseMap;
  let oRoi: Triple = roi;
  let oSize: Triple = imageSize;
  let cOut = 0;
  let zoom: Triple = [1, 1, 1];
  // scaled window start/stop, MONAI: slice(int(start·z), int(stop·z))
  const scaled = (w: Triple): [Triple, Triple] => [
    w.map((s, i) => Math.trunc(s * zoom[i])) as Triple,
    w.map((s, i) => Math.trunc((s + roi[i]) * zoom[i])) as Triple,
  ];

  // chunks of sw_batch windows; up to `concurrency` of them in flight, consumed in order
  const chunks: number[][] = [];
  for (let g = 0; g < total; g += swBatch) {
    const idxs: number[] = [];
    for (let i = g; i < Math.min(g + swBatch, total); i++) idxs.push(i);
    chunks.push(idxs);
  }
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const launched: Promise<tf.Tensor>[] = [];
  const launch = (k: number) => {
    const idxs = chunks[k];
    // a chunk may mix batch items: window idx = b·nWin + w
    const input = tf.tidy(() =>
      tf.concat(
        idxs.map((idx) => {
          const b = Math.floor(idx / nWin);
          const w = windows[idx % nWin];
          return tf.slice(padded, [b, w[0], w[1], w[2], 0], [1, roi[0], roi[1], roi[2], cIn]);
        }),
        0,
      ),
    );
    let p: Promise<tf.Tensor>;
    try {
      p = Promise.resolve(predictor(input));
    } catch (e) {
      p = Promise.reject(e);
    }
    launched[k] = p.finally(() => input.dispose());
    launched[k].catch(() => {}); // awaited in order below; a later chunk's failure must not go unhandled
  };

  try {
    for (let k = 0; k < chunks.length; k++) {
      for (let j = launched.length; j < Math.min(chunks.length, k + concurrency); j++) launch(j);
      const idxs = chunks[k];
      const pred = await launched[k];
      if (pred.rank !== 5 || pred.shape[0] !== idxs.length) {
        const got = `[${pred.shape.join(", ")}]`;
        pred.dispose();
        fail("the predictor must return [n, O0, O1, O2, C] for an input batch of n windows", {
          expected: `[${idxs.length}, …]`,
          got,
        });
      }
      const data = (await pred.data()) as Float32Array;
      const shp = pred.shape as number[];
      const ps: Triple = [shp[1], shp[2], shp[3]];
      const pc = shp[4];
      pred.dispose();

      if (!outBuf || !countMap) {
        // first chunk fixes the output channels and (rarely) a zoom of the spatial size
        cOut = pc;
        oRoi = ps;
        if (ps.some((v, i) => v !== roi[i])) {
          zoom = ps.map((v, i) => v / roi[i]) as Triple;
          oSize = imageSize.map((s, i) => Math.trunc(s * zoom[i])) as Triple;
          wMap = new Float32Array(ps[0] * ps[1] * ps[2]);
          let q = 0;
          for (let a = 0; a < ps[0]; a++)
            for (let b = 0; b < ps[1]; b++)
              for (let c = 0; c < ps[2]; c++) {
                const sa = nearestExact(a, roi[0], ps[0]);
                const sb = nearestExact(b, roi[1], ps[1]);
                const sc = nearestExact(c, roi[2], ps[2]);
                wMap[q++] = baseMap[(sa * roi[1] + sb) * roi[2] + sc];
              }
        }
        outBuf = new Float32Array(batch * oSize[0] * oSize[1] * oSize[2] * cOut);
        countMap = new Float32Array(oSize[0] * oSize[1] * oSize[2]);
        // the count map covers the windows of one batch item (MONAI 1.4 builds it once)
        for (const w of windows) {
          const [lo, hi] = scaled(w);
          for (let a = lo[0]; a < hi[0]; a++)
            for (let b = lo[1]; b < hi[1]; b++) {
              let o = (a * oSize[1] + b) * oSize[2] + lo[2];
              let q = ((a - lo[0]) * oRoi[1] + (b - lo[1])) * oRoi[2];
              for (let c = lo[2]; c < hi[2]; c++) countMap[o++] += wMap[q++];
            }
        }
      } else if (pc !== cOut || ps.some((v, i) => v !== oRoi[i])) {
        fail("the predictor returned different output shapes for different windows", {
          expected: `[n, ${oRoi.join(", ")}, ${cOut}]`,
          got: `[n, ${ps.join(", ")}, ${pc}]`,
        });
      }
      // accumulate pred·w into the output
      const vox = oRoi[0] * oRoi[1] * oRoi[2];
      idxs.forEach((idx, j) => {
        const bItem = Math.floor(idx / nWin);
        const [lo, hi] = scaled(windows[idx % nWin]);
        const base = bItem * oSize[0] * oSize[1] * oSize[2];
        const src = j * vox * cOut;
        for (let a = lo[0]; a < hi[0]; a++)
          for (let b = lo[1]; b < hi[1]; b++) {
            let q = ((a - lo[0]) * oRoi[1] + (b - lo[1])) * oRoi[2];
            let o = (base + (a * oSize[1] + b) * oSize[2] + lo[2]) * cOut;
            for (let c = lo[2]; c < hi[2]; c++, q++) {
              const w = wMap[q];
              const s = src + q * cOut;
              for (let k = 0; k < cOut; k++) (outBuf as Float32Array)[o++] += data[s + k] * w;
            }
          }
      });
    }
  } finally {
    // predictions still in flight (after a failure) are released when they land
    for (const p of launched)
      p?.then(
        (t) => t.dispose(),
        () => {},
      );
    await Promise.allSettled(launched);
    if (padded !== x) padded.dispose();
  }
  if (!outBuf || !countMap) fail("no windows were evaluated (empty input?)");

  // 3. normalise by the accumulated weights
  const sp = oSize[0] * oSize[1] * oSize[2];
  for (let bItem = 0; bItem < batch; bItem++)
    for (let v = 0; v < sp; v++) {
      const inv = countMap[v];
      const o = (bItem * sp + v) * cOut;
      for (let k = 0; k < cOut; k++) outBuf[o + k] /= inv;
    }

  // 4. crop the padding away (scaled by output/padded-image size, Python rounding)
  const full = tf.tensor5d(outBuf, [batch, oSize[0], oSize[1], oSize[2], cOut]);
  if (pads.every(([a, b]) => a === 0 && b === 0) && oSize.every((v, i) => v === imageSize[i])) return full;
  const z = oSize.map((v, i) => v / imageSize[i]);
  const begin = [0, 1, 2].map((i) => roundHalfEven(pads[i][0] * z[i]));
  const end = [0, 1, 2].map((i) => roundHalfEven((pads[i][0] + inSpatial[i]) * z[i]));
  const cropped = tf.slice(full, [0, ...begin, 0], [batch, ...end.map((e, i) => e - begin[i]), cOut]) as tf.Tensor5D;
  full.dispose();
  return cropped;
}
