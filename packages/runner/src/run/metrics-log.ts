import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

/**
 * metrics.jsonl: one JSON object per line, per step and per validation. No wall-clock values, so
 * the same seed gives a byte-identical file.
 */
export class MetricsLog {
  constructor(readonly file: string) {
    if (!existsSync(file)) writeFileSync(file, "");
  }

  append(record: Record<string, unknown>): void {
    appendFileSync(
      this.file,
      `${JSON.stringify(record, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v))}\n`,
    );
  }

  read(): Record<string, unknown>[] {
    return readFileSync(this.file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  }

  /** drop records past a given iteration (resuming from a checkpoint rewinds the log too) */
  truncateAfter(pred: (r: Record<string, unknown>) => boolean): void {
    const keep = this.read().filter((r) => !pred(r));
    writeFileSync(this.file, keep.map(line).join(""));
  }
}

/** one record per line; non-finite numbers (NaN, Infinity) are written as strings since JSON has none */
function line(record: Record<string, unknown>): string {
  return `${JSON.stringify(record, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v))}\n`;
}
