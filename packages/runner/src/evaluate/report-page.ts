import { spacingOf } from "@voxelpipe/core";
import { orient, readNifti } from "@voxelpipe/transforms";
import { classNames } from "@voxelpipe/web";
import { esc, Report } from "../report/page.js";
import type { EvaluationMetric, EvaluationResult } from "./evaluation-types.js";
import { niftiStem } from "./pairing.js";

const UNIT: Partial<Record<EvaluationMetric, string>> = { hd95: " (mm)", hd: " (mm)" };
const BOUNDED = (m: EvaluationMetric) => m === "dice" || m === "nsd";

/**
 * Cell colour of a bounded score in [0, 1]: orange (bad) through white to blue (good) — the Okabe–Ito pair
 * readers with any common colour-vision deficiency tell apart.
 */
function scoreColour(v: number | null | undefined): string {
  if (typeof v !== "number") return "";
  const t = Math.max(0, Math.min(1, v));
  const mix = (a: number[], f: number) => a.map((c) => Math.round(255 + (c - 255) * f));
  const rgb = t < 0.5 ? mix([230, 159, 0], (0.5 - t) * 1.6) : mix([86, 180, 233], (t - 0.5) * 1.6);
  return `background:rgb(${rgb.join(",")})`;
}

const fmt = (v: number | null | undefined, digits = 3) => (typeof v === "number" ? v.toFixed(digits) : "–");

/**
 * report.html of an evaluation: per-organ bars (mean over cases) for each metric side by side, per-case ×
 * per-organ tables, and the best and worst case (mean Dice) in the viewer on their files' world grid (worst
 * with the error layer on), with static PNGs.
 */
export async function writeEvaluationReport(o: EvaluationReportInput): Promise<string> {
  const r = o.result;
  const rep = new Report(o.dir, o.title, o.meta);
  const metrics = Object.keys(r.mean) as EvaluationMetric[];
  rep.heading("Per organ (mean over cases)").barGrid(
    metrics.map((m) => ({
      title: `${m}${UNIT[m] ?? ""} — mean ${r.mean[m]?.mean?.toFixed(3) ?? "n/a"}`,
      bars: r.organs.map((organ) => ({ label: organ, value: r.mean[m]?.[organ] ?? null })),
      max: BOUNDED(m) ? 1 : undefined,
    })),
  );
  for (const m of metrics) {
    const rows = r.cases.map((c) => [
      niftiStem(c.label),
      ...r.organs.map((organ) => fmt(c.metrics[m]?.[organ], BOUNDED(m) ? 3 : 1)),
      fmt(meanOf(Object.values(c.metrics[m] ?? {})), BOUNDED(m) ? 3 : 1),
    ]);
    rows.push(["mean", ...r.organs.map((organ) => fmt(r.mean[m]?.[organ], BOUNDED(m) ? 3 : 1)), fmt(r.mean[m]?.mean)]);
    rep.heading(`Per case and organ: ${m}${UNIT[m] ?? ""}`).table(["case", ...r.organs, "mean"], rows, {
      vertical: true,
      cellStyle: BOUNDED(m)
        ? (ri, ci) =>
            ci === 0 ? "" : scoreColour(Number.parseFloat(rows[ri][ci]) || (rows[ri][ci] === "–" ? null : 0))
        : undefined,
    });
  }
  if (o.images && r.cases.length && metrics.includes("dice")) await bestAndWorst(rep, o, o.images, metrics);
  return rep.write();
}

interface EvaluationReportInput {
  dir: string;
  title: string;
  meta: string;
  result: EvaluationResult;
  /** label file → image file, for overlays */
  images?: Map<string, string>;
  map?: Record<string, number>;
}

/** a case's mean Dice over organs (NaN without Dice values): what best and worst are ranked by */
function caseMean(c: EvaluationResult["cases"][number]): number {
  const v = Object.values(c.metrics.dice ?? {}).filter((x): x is number => typeof x === "number");
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
}

/** the best and the worst case (mean Dice) in the viewer, over their images (worst with the error layer on) */
async function bestAndWorst(
  rep: Report,
  o: EvaluationReportInput,
  images: Map<string, string>,
  metrics: EvaluationMetric[],
): Promise<void> {
  const r = o.result;
  // class value → name for the viewer's legend and colours (the evaluation's organ names where it scored them)
  const names: Record<string, string> = {};
  r.organs.forEach((organ, j) => {
    const value = r.classValues?.[j] ?? Number(organ);
    if (Number.isInteger(value)) names[String(value)] = organ;
  });
  const sorted = [...r.cases].sort((a, b) => caseMean(b) - caseMean(a));
  rep.heading("Best and worst case");
  for (const [which, c] of [
    ["best", sorted[0]],
    ["worst", sorted[sorted.length - 1]],
  ] as const) {
    // one case is both best and worst: drawn once (a case that could not be drawn is noted for each)
    const drawn = await caseOverlay(rep, o, images.get(c.label), which, c, names, metrics);
    if (drawn && sorted.length === 1) break;
  }
}

/** one case's overlay: image, label and prediction on RAS axes; false when not drawn (no image, or a note: another grid) */
async function caseOverlay(
  rep: Report,
  o: EvaluationReportInput,
  imageFile: string | undefined,
  which: "best" | "worst",
  c: EvaluationResult["cases"][number],
  names: Record<string, string>,
  metrics: EvaluationMetric[],
): Promise<boolean> {
  const r = o.result;
  if (!imageFile) return false;
  // RAS voxel axes so the static slices' letters and the viewer agree whatever the files' orientation
  const [image, label, pred] = (await Promise.all([readNifti(imageFile), readNifti(c.label), readNifti(c.pred)])).map(
    (v) => orient(v, "RAS"),
  );
  if (image.shape.some((n, d) => n !== label.shape[d])) {
    // an image on another grid cannot underlay this label map voxel for voxel: say so instead of drawing noise
    rep.html(
      `<p class="note">${esc(`${which} case ${niftiStem(c.label)}: the image ${imageFile} is on a ${image.shape.join("×")} grid, the label map on ${label.shape.join("×")}; no overlay.`)}</p>`,
    );
    return false;
  }
  const remap = (v: ArrayLike<number>) =>
    Uint8Array.from(v as ArrayLike<number>, (x) => (o.map ? (o.map[String(x)] ?? 0) : x));
  const lab = remap(label.data);
  const prd = remap(pred.data);
  let top = 0;
  for (const a of [lab, prd]) for (const x of a) if (x > top) top = x;
  const classes = classNames(Math.max(top + 1, ...Object.keys(names).map((k) => Number(k) + 1)), names);
  const notes: Record<string, string> = {};
  r.organs.forEach((organ, j) => {
    const k = r.classValues?.[j] ?? Number(organ);
    const parts = metrics
      .map((m) => [m, c.metrics[m]?.[organ]] as const)
      .filter(([, v]) => typeof v === "number")
      .map(([m, v]) => `${m} ${fmt(v, BOUNDED(m) ? 3 : 1)}${UNIT[m] ? " mm" : ""}`);
    if (parts.length) notes[String(k)] = parts.join(" · ");
  });
  rep.overlays(
    which,
    `${which}: ${niftiStem(c.label)} (mean Dice ${caseMean(c).toFixed(3)})`,
    {
      shape: label.shape,
      spacing: spacingOf(label.affine),
      image: image.channels === 1 ? image.data : image.data.filter((_, i) => i % image.channels === 0),
      label: lab,
      pred: prd,
    },
    { classes, notes, errors: which === "worst", affine: label.affine },
  );
  return true;
}

function meanOf(v: (number | null)[]): number | null {
  const n = v.filter((x): x is number => typeof x === "number");
  return n.length ? n.reduce((a, b) => a + b, 0) / n.length : null;
}
