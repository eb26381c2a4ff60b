import { classNames } from "@voxelpipe/web";
import type { OverlayVolumes } from "./overlay.js";
import { Report, readMetricsLog } from "./page.js";
import { type SslView, sslPanelsPayload, sslPng } from "./ssl-report.js";
import type { Series } from "./svg.js";

export interface CaseOverlay {
  name: string;
  score: number;
  volumes: OverlayVolumes;
  /** Dice per class value of this case (NaN where the organ is absent from both) */
  perClass?: Record<string, number>;
}

/**
 * report.html of a train stage: loss and validation curves, the learning rate, per-class Dice of the best
 * validation, the best and worst validation case in the viewer (worst with the error layer on), and for
 * self-supervised stages the original, corrupted views and reconstructions side by side.
 */
export function writeTrainReport(o: {
  dir: string;
  title: string;
  meta: string;
  scalars: string[];
  metric: string;
  best?: {
    caseBest?: CaseOverlay;
    caseWorst?: CaseOverlay;
    perClass?: Record<string, number | null>;
    classes?: Record<string, string>;
    ssl?: SslView;
  };
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
    { title: "learning rate", series: [series(steps, "lr")], yLabel: "learning rate" },
  ]);
  const best = o.best ?? {};
  if (best.perClass && Object.keys(best.perClass).length) {
    rep.heading("Per-class Dice at the best validation").bars(
      o.metric,
      Object.entries(best.perClass).map(([label, value]) => ({ label, value })),
      1,
    );
  }
  if (best.caseBest || best.caseWorst) {
    const count = Math.max(
      Object.keys(best.classes ?? {}).length,
      ...[best.caseBest, best.caseWorst].map((c) => (c ? maxLabel(c.volumes) + 1 : 0)),
    );
    const classes = classNames(count, best.classes);
    rep.heading("Best and worst validation case (at the best validation)");
    for (const [which, c] of [
      ["best", best.caseBest],
      ["worst", best.caseWorst],
    ] as const) {
      if (!c) continue;
      const notes = Object.fromEntries(
        Object.entries(c.perClass ?? {})
          .filter(([, d]) => Number.isFinite(d))
          .map(([k, d]) => [k, `Dice ${d.toFixed(3)}`]),
      );
      rep.overlays(which, `${which}: ${c.name} (mean Dice ${c.score.toFixed(3)})`, c.volumes, {
        classes,
        notes,
        errors: which === "worst",
      });
    }
  }
  if (best.ssl) {
    const caption = `columns: ${best.ssl.panels.map((p) => `${p.name} (${p.role})`).join(", ")}; rows: axial, coronal, sagittal through the centre; one grey window (the original's range) for all`;
    rep
      .heading(
        `Reconstructions of the first validation item${best.ssl.iteration !== undefined ? ` (best validation, iteration ${best.ssl.iteration})` : ""}`,
      )
      .panels(
        "ssl",
        sslPanelsPayload(best.ssl, "original, corrupted views and reconstructions"),
        sslPng(best.ssl),
        caption,
      );
  }
  return rep.write();
}

function maxLabel(v: OverlayVolumes): number {
  let m = 0;
  for (const a of [v.label, v.pred]) for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}
