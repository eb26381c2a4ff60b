/**
 * The one plain-text table the CLI prints (`describe`, `list`, `evaluate`, the per-class validation table):
 * columns separated by two spaces, each as wide as its widest cell, trailing spaces trimmed.
 */
export interface TextTableOptions {
  /** "text": every column left-aligned; "numbers": the first column left-aligned, the others right-aligned */
  align?: "text" | "numbers";
  /** a row of dashes under the header */
  rule?: boolean;
}

export function textTable(headers: string[], rows: (string | undefined)[][], opts: TextTableOptions = {}): string {
  const { align = "text", rule = false } = opts;
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: (string | undefined)[]) =>
    widths
      .map((w, i) => (align === "numbers" && i > 0 ? (r[i] ?? "").padStart(w) : (r[i] ?? "").padEnd(w)))
      .join("  ")
      .trimEnd();
  const out = [line(headers)];
  if (rule) out.push(line(widths.map((w) => "-".repeat(w))));
  for (const r of rows) out.push(line(r));
  return out.join("\n");
}
