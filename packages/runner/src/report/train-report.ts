import type { OverlayVolumes } from "./overlay.js";
import { Report, readMetricsLog } from "./page.js";
import type { Series } from "./svg.js";

export interface CaseOverlay {
  name: string;
  score: number;
  volumes: OverlayVolumes;
}

/**
 * report.html of a train stage: loss and validation curves, the learning rate, per-class Dice of
 * the best validation, and overlays of the best and worst validation case.
 */
export function writeTrainReport(o: {
  dir: string;
  title: string;
  meta: string;
  scalars: string[];
  metric: string;
  best?: { caseBest?: CaseOverlay; caseWorst?: CaseOverlay; perClass?: Record<string, number | null> };
}): string {
  const log = readMetricsLog(o.dir);
  const steps = log.filter((r) => typeof r.lr === "number");
  const vals = log.filter((r) => Object.keys(r).some((k) => k.startsWith("val_")));
  const series = (rows: Record<string, unknown>[], key: string): Series => ({
    name: key,
    points: rows.filter((r) => typeof r[key] === "number").map((r) => [Number(r.iteration), Number(r[key])]),
  });
  const valKeys = [
    ...new Set(vals.flatMap((r) => Object.keys(r).filter((k) => k.startsWith("val_") && typeof r[k] === "number"))),
  ];
  const rep = new Report(o.dir, o.title, o.meta);
  rep.heading("Curves").curves([
    { title: "training losses", series: o.scalars.map((k) => series(steps, k)), yLabel: "loss", logY: true },
    { title: "validation", series: valKeys.map((k) => series(vals, k)), yLabel: o.metric },
    { title: "learning rate", series: [series(steps, "lr")], yLabel: "lr" },
  ]);
  if (o.best?.perClass && Object.keys(o.best.perClass).length) {
    rep.heading("Per-class Dice at the best validation").bars(
      o.metric,
      Object.entries(o.best.perClass).map(([label, value]) => ({ label, value })),
      1,
    );
  }
  if (o.best?.caseBest || o.best?.caseWorst) {
    rep.heading("Best and worst validation case (at the best validation)");
    if (o.best.caseBest)
      rep.overlays(
        "best",
        `best: ${o.best.caseBest.name} (mean Dice ${o.best.caseBest.score.toFixed(3)})`,
        o.best.caseBest.volumes,
      );
    if (o.best.caseWorst)
      rep.overlays(
        "worst",
        `worst: ${o.best.caseWorst.name} (mean Dice ${o.best.caseWorst.score.toFixed(3)})`,
        o.best.caseWorst.volumes,
      );
  }
  return rep.write();
}
