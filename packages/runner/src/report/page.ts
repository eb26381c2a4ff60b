import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ViewerPanelsPayload, viewerScriptTag } from "@voxelpipe/web";
import { type PayloadOptions, viewerPayload } from "./case-volumes.js";
import { type OverlayVolumes, overlayPng, views } from "./overlay.js";
import { type Bar, barChart, lineChart, type Series } from "./svg.js";

export const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#222;max-width:1800px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:15px;margin:18px 0 4px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:12px}.chart{margin:0}.chart svg{width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#333}svg .t{font-weight:600;font-size:12px}svg .g{stroke:#eee}svg .a{stroke:#999}svg .na{fill:#999}
table{border-collapse:collapse;margin:4px 0}td,th{border:1px solid #ddd;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.wide{overflow-x:auto}th.v{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left;padding:6px 2px;font-weight:500}
details.vp-statics summary{cursor:pointer;color:#555;margin:4px 0}.statics{display:flex;flex-wrap:wrap;gap:12px}figure.ov{margin:0}figure.ov img{max-width:100%;height:auto}figure.ov figcaption{color:#555;font-size:12px}
.meta{color:#666}.note{color:#a60}`;

const json = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");

/**
 * A self-contained HTML page: inline SVG charts, PNG data URIs, and for cases the NiiVue viewer (the
 * @voxelpipe/web bundle and the volumes inline; no CDN, works from file://). Without JavaScript the static PNGs
 * remain.
 */
export class Report {
  private readonly parts: string[] = [];
  private viewers = 0;

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

  html(fragment: string): this {
    this.parts.push(fragment);
    return this;
  }

  curves(charts: { title: string; series: Series[]; yLabel?: string; logY?: boolean }[]): this {
    this.parts.push(
      `<div class="grid">${charts.map((c) => lineChart(c.title, c.series, { xLabel: "iteration", yLabel: c.yLabel, logY: c.logY })).join("")}</div>`,
    );
    return this;
  }

  bars(title: string, bars: Bar[], max?: number): this {
    this.parts.push(`<div class="grid">${barChart(title, bars, { max })}</div>`);
    return this;
  }

  /** a grid of bar charts side by side */
  barGrid(charts: { title: string; bars: Bar[]; max?: number }[]): this {
    this.parts.push(`<div class="grid">${charts.map((c) => barChart(c.title, c.bars, { max: c.max })).join("")}</div>`);
    return this;
  }

  table(
    headers: string[],
    rows: string[][],
    o: { cellStyle?: (r: number, c: number) => string; vertical?: boolean } = {},
  ): this {
    const th = headers.map((h, i) => `<th${o.vertical && i > 0 ? ' class="v"' : ""}>${esc(h)}</th>`).join("");
    const body = rows
      .map(
        (r, ri) =>
          `<tr>${r.map((c, ci) => `<td${o.cellStyle ? ` style="${o.cellStyle(ri, ci)}"` : ""}>${esc(c)}</td>`).join("")}</tr>`,
      )
      .join("");
    this.parts.push(`<div class="wide"><table><tr>${th}</tr>${body}</table></div>`);
    return this;
  }

  /**
   * One case: the interactive viewer (image, prediction, ground truth, errors; organ legend) and, for contexts
   * without JavaScript, one PNG per view (also written to <dir>/overlays/<name>_<view>.png).
   */
  overlays(name: string, caption: string, v: OverlayVolumes, o: Omit<PayloadOptions, "title">): this {
    const out = join(this.dir, "overlays");
    mkdirSync(out, { recursive: true });
    const figs = views.map((view) => {
      const { png, slice, of } = overlayPng(v, view, o.classes);
      writeFileSync(join(out, `${name}_${view}.png`), png);
      return `<figure class="ov"><img alt="${esc(`${caption}: ${view} slice ${slice + 1} of ${of}`)}" src="data:image/png;base64,${png.toString("base64")}"><figcaption>${view}, slice ${slice + 1} of ${of} (through the centre of the labelled voxels)</figcaption></figure>`;
    });
    const payload = viewerPayload(v, { ...o, title: caption });
    this.viewers++;
    this.parts.push(
      `<h3>${esc(caption)}</h3><div class="vp-host" data-vp-viewer="${esc(name)}"><script type="application/json">${json(payload)}</script><noscript><p class="note">The interactive viewer needs JavaScript; the static slices follow.</p></noscript></div><details class="vp-statics" open><summary>Static slices (${esc(caption)})</summary><div class="statics">${figs.join("")}</div></details>`,
    );
    return this;
  }

  /** volumes side by side in the viewer (crosshairs in step) above a static PNG of the same */
  panels(name: string, payload: ViewerPanelsPayload, png: Buffer, caption: string): this {
    this.viewers++;
    this.parts.push(
      `<div class="vp-host" data-vp-viewer="${esc(name)}"><script type="application/json">${json(payload)}</script></div><details class="vp-statics" open><summary>Static slices</summary><figure class="ov"><img alt="${esc(caption)}" src="data:image/png;base64,${png.toString("base64")}"><figcaption>${esc(caption)}</figcaption></figure></details>`,
    );
    return this;
  }

  write(): string {
    const file = join(this.dir, "report.html");
    let script = "";
    if (this.viewers) {
      try {
        script = viewerScriptTag();
      } catch (e) {
        // a report without the viewer is still a report: say why on the page and in the log
        const msg = e instanceof Error ? e.message : String(e);
        process.emitWarning(`report.html without the interactive viewer: ${msg}`);
        this.parts.splice(1, 0, `<p class="note">Interactive viewer unavailable: ${esc(msg)}</p>`);
      }
    }
    writeFileSync(
      file,
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(this.title)}</title><style>${STYLE}</style></head><body>${this.parts.join("\n")}${script}</body></html>\n`,
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
