import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { writeFileAtomicSync } from "@voxelpipe/core";

/**
 * metrics.jsonl: one JSON object per line, per step and per validation. No wall-clock values, so
 * the same seed gives a byte-identical file.
 */
export class MetricsLog {
  constructor(readonly file: string) {
    if (!existsSync(file)) writeFileSync(file, "");
  }

  append(record: Record<string, unknown>): void {
    appendFileSync(this.file, line(record));
  }

  read(): Record<string, unknown>[] {
    return parseRecords(readFileSync(this.file, "utf8")).records;
  }

  /** drop records past a given iteration (resuming from a checkpoint rewinds the log too) */
  truncateAfter(pred: (r: Record<string, unknown>) => boolean): void {
    this.keep((r) => !pred(r));
  }

  /**
   * Keep the complete, parseable records for which `keep` holds, rewriting the file atomically. A
   * torn last line (a process killed mid-write, a full disk) and anything after the first bad
   * line is dropped. Returns how many records were kept and dropped.
   */
  keep(keep: (r: Record<string, unknown>) => boolean): { kept: number; dropped: number; torn: boolean } {
    const text = readFileSync(this.file, "utf8");
    const { records, torn } = parseRecords(text);
    const kept = records.filter(keep);
    const out = kept.map(line).join("");
    if (out !== text) writeFileAtomicSync(this.file, out);
    return { kept: kept.length, dropped: records.length - kept.length, torn };
  }
}

/** complete records up to the first torn or unparseable line */
export function parseRecords(text: string): { records: Record<string, unknown>[]; torn: boolean } {
  const lines = text.split("\n");
  const last = lines.pop(); // "" when the file ends with a newline, else a torn last line
  let torn = last !== undefined && last !== "";
  const records: Record<string, unknown>[] = [];
  for (const l of lines) {
    if (!l) continue;
    try {
      const r = JSON.parse(l);
      if (r === null || typeof r !== "object" || Array.isArray(r)) throw new Error("not a record");
      records.push(r);
    } catch {
      torn = true;
      break;
    }
  }
  return { records, torn };
}

/** one record per line; non-finite numbers (NaN, Infinity) are written as strings since JSON has none */
function line(record: Record<string, unknown>): string {
  return `${JSON.stringify(record, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v))}\n`;
}
