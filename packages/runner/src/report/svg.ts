/**
 * Small inline-SVG charts for self-contained reports (no CDN, no script): line charts for curves
 * and bar charts (with optional error bars) for per-organ and per-variant values.
 */
const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#7f7f7f",
  "#bcbd22",
];

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);

function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step = 10 ** Math.floor(Math.log10((hi - lo) / n));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= n) ?? step * 10;
  const out: number[] = [];
  for (let t = Math.ceil(lo / nice - 1e-9) * nice; t <= hi + nice * 1e-9; t += nice) out.push(+t.toPrecision(12));
  return out;
}

/**
 * Ticks of a log axis over [10^lo, 10^hi]: the decades, or 1-2-5 steps within them when the range spans less
 * than two decades, or plain linear ticks when it spans less than a factor of 3 (a log axis then has no
 * decade inside it to label).
 */
export function logTicks(lo: number, hi: number): number[] {
  if (hi - lo < Math.log10(3)) return ticks(10 ** lo, 10 ** hi, 4).filter((t) => t > 0);
  const out: number[] = [];
  const mult = hi - lo < 2 ? [1, 2, 5] : [1];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++)
    for (const m of mult) {
      const t = m * 10 ** e;
      const l = Math.log10(t);
      if (l >= lo - 1e-9 && l <= hi + 1e-9) out.push(+t.toPrecision(6));
    }
  return out;
}

/**
 * The value range of an axis. A constant series (the learning rate of a run without a scheduler, 5e-4) gets a
 * window of ±20 % around its value (±0.5 decade on a log axis; [−1, 1] around zero), so it draws as a line at
 * its value on an axis that shows the value, not at 0 on a ±0.5 axis.
 */
export function axisRange(lo: number, hi: number, log: boolean): [number, number] {
  if (hi > lo) return [lo, hi];
  if (log) return [lo - 0.5, hi + 0.5];
  const d = lo === 0 ? 1 : Math.abs(lo) * 0.2;
  return [lo - d, hi + d];
}

const num = (v: number) =>
  Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(+v.toPrecision(3));

export interface Series {
  name: string;
  points: [number, number][];
}

export function lineChart(
  title: string,
  series: Series[],
  o: { xLabel?: string; yLabel?: string; logY?: boolean; width?: number; height?: number } = {},
): string {
  const W = o.width ?? 640;
  const H = o.height ?? 280;
  const m = { l: 64, r: 12, t: 28, b: 40 };
  const pts = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && (!o.logY || y > 0));
  if (!pts.length)
    return `<figure class="chart"><figcaption>${esc(title)}</figcaption><p class="empty">no data</p></figure>`;
  const fy = (y: number) => (o.logY ? Math.log10(y) : y);
  const [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  const [y0, y1] = axisRange(Math.min(...pts.map((p) => fy(p[1]))), Math.max(...pts.map((p) => fy(p[1]))), !!o.logY);
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((fy(y) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const yt = o.logY ? logTicks(y0, y1) : ticks(y0, y1);
  const parts = [
    `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" class="t">${esc(title)}</text>`,
    ...yt.map(
      (t) =>
        `<line x1="${m.l}" x2="${W - m.r}" y1="${sy(t)}" y2="${sy(t)}" class="g"/><text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${num(t)}</text>`,
    ),
    ...ticks(x0, x1).map((t) => `<text x="${sx(t)}" y="${H - m.b + 16}" text-anchor="middle">${num(t)}</text>`),
    `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" class="a"/><line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" class="a"/>`,
    o.xLabel ? `<text x="${(W + m.l) / 2}" y="${H - 6}" text-anchor="middle">${esc(o.xLabel)}</text>` : "",
    o.yLabel || o.logY
      ? `<text x="14" y="${(H - m.b + m.t) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(H - m.b + m.t) / 2})">${esc(`${o.yLabel ?? ""}${o.logY ? " (log scale)" : ""}`.trim())}</text>`
      : "",
  ];
  series.forEach((s, i) => {
    const p = s.points.filter(([, y]) => Number.isFinite(y) && (!o.logY || y > 0));
    const c = PALETTE[i % PALETTE.length];
    if (p.length === 1) parts.push(`<circle cx="${sx(p[0][0])}" cy="${sy(p[0][1])}" r="3" fill="${c}"/>`);
    else
      parts.push(
        `<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${p.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ")}"/>`,
      );
    if (series.length > 1)
      parts.push(
        `<rect x="${m.l + 8}" y="${m.t + 4 + i * 14}" width="10" height="3" fill="${c}"/><text x="${m.l + 22}" y="${m.t + 9 + i * 14}">${esc(s.name)}</text>`,
      );
  });
  parts.push("</svg>");
  return `<figure class="chart">${parts.join("")}</figure>`;
}

export interface Bar {
  label: string;
  value: number | null;
  err?: number | null;
}

export function barChart(title: string, bars: Bar[], o: { max?: number; width?: number } = {}): string {
  const W = o.width ?? 640;
  const row = 18;
  const m = { l: 170, r: 130, t: 28, b: 10 };
  const H = m.t + m.b + row * bars.length;
  const vals = bars.flatMap((b) => (b.value === null ? [] : [b.value + (b.err ?? 0)]));
  const max = o.max ?? Math.max(1e-9, ...vals);
  const sx = (v: number) => m.l + (Math.max(0, v) / max) * (W - m.l - m.r);
  const parts = [
    `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" class="t">${esc(title)}</text>`,
  ];
  bars.forEach((b, i) => {
    const y = m.t + i * row;
    parts.push(`<text x="${m.l - 6}" y="${y + 13}" text-anchor="end">${esc(b.label)}</text>`);
    if (b.value === null) {
      parts.push(`<text x="${m.l + 4}" y="${y + 13}" class="na">n/a</text>`);
      return;
    }
    parts.push(
      `<rect x="${m.l}" y="${y + 3}" width="${(sx(b.value) - m.l).toFixed(1)}" height="${row - 6}" fill="${PALETTE[0]}"/>`,
    );
    if (b.err)
      parts.push(
        `<line x1="${sx(b.value - b.err)}" x2="${sx(b.value + b.err)}" y1="${y + row / 2}" y2="${y + row / 2}" stroke="#333"/>`,
      );
    parts.push(
      `<text x="${sx(b.value + (b.err ?? 0)) + 4}" y="${y + 13}">${num(b.value)}${b.err ? ` ± ${num(b.err)}` : ""}</text>`,
    );
  });
  parts.push("</svg>");
  return `<figure class="chart">${parts.join("")}</figure>`;
}
