import { relative } from "node:path";
import type { Diagnostic } from "../errors.js";
import type { SourceTexts } from "./source.js";

/** Show a file path relative to the working directory when that is shorter. */
export function displayFile(file: string, cwd = process.cwd()): string {
  if (file.startsWith("--set")) return file;
  const r = relative(cwd, file);
  return r && !r.startsWith("..") ? r : file;
}

/** Lines longer than this are shown as a window around the reported column. */
const FRAME_WIDTH = 120;

/** Two lines of context before the error line, the line itself, and a caret under the spot. */
export function codeFrame(text: string, line: number, col: number, length = 1): string {
  const lines = text.split(/\r?\n/);
  const first = Math.max(1, line - 2);
  const last = Math.min(lines.length, line);
  const width = String(last).length;
  const out: string[] = [];
  // a window of FRAME_WIDTH characters that holds the column (minified or hostile one-line files)
  const start = Math.max(0, Math.min(col - 1 - 20, (lines[line - 1] ?? "").length - FRAME_WIDTH));
  const clip = (l: string): string => {
    if (l.length <= FRAME_WIDTH) return l; // short context lines are shown whole
    const s = Math.min(start, l.length);
    return `${s > 0 ? "…" : ""}${l.slice(s, s + FRAME_WIDTH)}${l.length > s + FRAME_WIDTH ? "…" : ""}`;
  };
  for (let n = first; n <= last; n++) {
    out.push(`${String(n).padStart(width)} | ${clip(lines[n - 1] ?? "")}`);
    if (n === line) {
      const shift = start > 0 ? start - 1 : 0; // "…" takes one column
      const c = col - shift;
      const avail = Math.max(1, Math.min((lines[n - 1] ?? "").length - (col - 1), FRAME_WIDTH - (c - 1)));
      out.push(
        `${" ".repeat(width)} | ${" ".repeat(Math.max(0, c - 1))}${"^".repeat(Math.max(1, Math.min(length, avail)))}`,
      );
    }
  }
  return out.join("\n");
}

/** The human form of one diagnostic (stable: tests keep it as fixtures). */
export function formatDiagnostic(d: Diagnostic, texts?: SourceTexts, cwd?: string): string {
  const out = [`error[${d.code}]: ${d.message}`];
  if (d.loc) out.push(`  --> ${displayFile(d.loc.file, cwd)}:${d.loc.line}:${d.loc.col}`);
  const text = d.loc ? texts?.get(d.loc.file) : undefined;
  if (d.loc && text !== undefined) {
    const frame = codeFrame(text, d.loc.line, d.loc.col, firstLineLength(text, d.loc.line, d.loc.col, d.loc.length));
    out.push(...frame.split("\n").map((l) => `  ${l}`));
  }
  if (d.path) out.push(`  = at: ${d.path}`);
  if (d.expected) out.push(`  = expected: ${d.expected}`);
  if (d.got) out.push(`  = got: ${d.got}`);
  if (d.hint) out.push(`  = help: ${d.hint}`);
  return out.join("\n");
}

function firstLineLength(text: string, line: number, col: number, length = 1): number {
  const l = text.split(/\r?\n/)[line - 1] ?? "";
  return Math.min(length, Math.max(1, l.length - col + 1));
}

export function formatDiagnostics(ds: Diagnostic[], texts?: SourceTexts, cwd?: string): string {
  const body = ds.map((d) => formatDiagnostic(d, texts, cwd)).join("\n\n");
  const n = ds.length;
  return `${body}\n\n${n} problem${n === 1 ? "" : "s"} found`;
}

/** The machine form (`--json`). */
export function diagnosticsToJson(ds: Diagnostic[], cwd?: string): object {
  return {
    ok: ds.length === 0,
    errors: ds.map((d) => ({
      code: d.code,
      message: d.message,
      file: d.loc ? displayFile(d.loc.file, cwd) : null,
      line: d.loc?.line ?? null,
      col: d.loc?.col ?? null,
      path: d.path ?? null,
      expected: d.expected ?? null,
      got: d.got ?? null,
      hint: d.hint ?? null,
    })),
  };
}
