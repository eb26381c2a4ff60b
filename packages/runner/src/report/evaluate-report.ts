import { readNifti } from "@voxelpipe/transforms";
import type { EvaluationMetric, EvaluationResult } from "../evaluate/evaluate.js";
import { niftiStem } from "../evaluate/pairing.js";
import { Report } from "./page.js";

/**
 * report.html of an evaluation: per-organ bars (mean over cases) for each metric, the per-case
 * table, and overlays of the best and worst case when the images are known.
 */
export async function writeEvaluationReport(o: {
  dir: string;
  title: string;
  meta: string;
  result: EvaluationResult;
  /** label file → image file, for overlays */
  images?: Map<string, string>;
  map?: Record<string, number>;
}): Promise<string> {
  const r = o.result;
  const rep = new Report(o.dir, o.title, o.meta);
  const metrics = Object.keys(r.mean) as EvaluationMetric[];
  rep.heading("Per organ (mean over cases)");
  for (const m of metrics) {
    const bars = r.organs.map((organ) => ({ label: organ, value: r.mean[m]?.[organ] ?? null }));
    rep.bars(
      `${m}${m === "hd95" || m === "hd" ? " (mm)" : ""} — mean ${r.mean[m]?.mean?.toFixed(3) ?? "n/a"}`,
      bars,
      m === "dice" || m === "nsd" ? 1 : undefined,
    );
  }
  const caseMean = (c: EvaluationResult["cases"][number]) => {
    const v = Object.values(c.metrics.dice ?? {}).filter((x): x is number => typeof x === "number");
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
  };
  rep.heading("Per case").table(
    ["case", ...metrics.map((m) => `mean ${m}`)],
    r.cases.map((c) => [
      niftiStem(c.label),
      ...metrics.map((m) => {
        const v = Object.values(c.metrics[m] ?? {}).filter((x): x is number => typeof x === "number");
        return v.length ? (v.reduce((a, b) => a + b, 0) / v.length).toFixed(3) : "–";
      }),
    ]),
  );
  if (o.images && r.cases.length && metrics.includes("dice")) {
    const sorted = [...r.cases].sort((a, b) => caseMean(b) - caseMean(a));
    rep.heading("Best and worst case");
    for (const [which, c] of [
      ["best", sorted[0]],
      ["worst", sorted[sorted.length - 1]],
    ] as const) {
      const imageFile = o.images.get(c.label);
      if (!imageFile) continue;
      const [image, label, pred] = await Promise.all([readNifti(imageFile), readNifti(c.label), readNifti(c.pred)]);
      const remap = (v: ArrayLike<number>) =>
        Uint8Array.from(v as ArrayLike<number>, (x) => (o.map ? (o.map[String(x)] ?? 0) : x));
      rep.overlays(which, `${which}: ${niftiStem(c.label)} (mean Dice ${caseMean(c).toFixed(3)})`, {
        shape: label.shape,
        image: image.channels === 1 ? image.data : image.data.filter((_, i) => i % image.channels === 0),
        label: remap(label.data),
        pred: remap(pred.data),
      });
      if (sorted.length === 1) break;
    }
  }
  return rep.write();
}
