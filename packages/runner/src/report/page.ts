import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type OverlayVolumes, overlayPng, views } from "./overlay.js";
import { type Bar, barChart, lineChart, type Series } from "./svg.js";

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd}
.grid{display:flex;flex-wrap:wrap;gap:12px}.chart{margin:0}
svg text{font:11px system-ui,sans-serif;fill:#333}svg .t{font-weight:600;font-size:12px}svg .g{stroke:#eee}svg .a{stroke:#999}svg .na{fill:#999}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
figure.ov{margin:0;text-align:center}figure.ov img{image-rendering:pixelated;border:1px solid #ccc}
.legend span{display:inline-block;width:12px;height:3px;margin:0 4px 3px 10px}.meta{color:#666}`;

/** A self-contained HTML page (inline SVG and PNG data URIs; no CDN, no script). */
export class Report {
  private readonly parts: string[] = [];

  constructor(
    private readonly dir: string,
    private readonly title: string,
    meta: string,
  ) {
    this.parts.push(`<h1>${esc(title)}</h1><p class="meta">${esc(meta)}</p>`);
  }

  heading(text: string): this {
    this.parts.push(`<h2>${esc(text)}</h2>`);
    return this;
  }

  curves(charts: { title: string; series: Series[]; yLabel?: string; logY?: boolean }[]): this {
    this.parts.push(
      `<div class="grid">${charts.map((c) => lineChart(c.title, c.series, { xLabel: "iteration", yLabel: c.yLabel, logY: c.logY })).join("")}</div>`,
    );
    return this;
  }

  bars(title: string, bars: Bar[], max?: number): this {
    this.parts.push(barChart(title, bars, { max }));
    return this;
  }

  table(headers: string[], rows: string[][]): this {
    this.parts.push(
      `<table><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")}</table>`,
    );
    return this;
  }

  /** three views with contours; the PNGs are also written to <dir>/overlays/<name>_<view>.png */
  overlays(name: string, caption: string, v: OverlayVolumes): this {
    const out = join(this.dir, "overlays");
    mkdirSync(out, { recursive: true });
    const figs = views.map((view) => {
      const png = overlayPng(v, view);
      writeFileSync(join(out, `${name}_${view}.png`), png);
      return `<figure class="ov"><img alt="${esc(`${caption} ${view}`)}" src="data:image/png;base64,${png.toString("base64")}"><figcaption>${view}</figcaption></figure>`;
    });
    this.parts.push(
      `<h3>${esc(caption)}</h3><p class="legend"><span style="background:#28dc3c"></span>ground truth<span style="background:#eb2828"></span>prediction<span style="background:#ffdc00"></span>both</p><div class="grid">${figs.join("")}</div>`,
    );
    return this;
  }

  write(): string {
    const file = join(this.dir, "report.html");
    writeFileSync(
      file,
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(this.title)}</title><style>${STYLE}</style></head><body>${this.parts.join("\n")}</body></html>\n`,
    );
    return file;
  }
}

/** metrics.jsonl of a run directory */
export function readMetricsLog(dir: string): Record<string, unknown>[] {
  try {
    return readFileSync(join(dir, "metrics.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}
