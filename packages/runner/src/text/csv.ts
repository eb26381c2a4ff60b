import { stringify } from "csv-stringify/sync";

export type CsvCell = string | number | boolean | null | undefined;

/**
 * RFC 4180 CSV, the one writer for every file the runner writes (evaluation.csv, a sweep's summary.csv): a field
 * holding a comma, a double quote or a line break is quoted and its quotes doubled, so a case or organ name like
 * `liver, left "L"` reads back as itself in pandas, R or a spreadsheet. null/undefined → empty; numbers as JS
 * prints them (NaN stays "NaN"); "\n" line ends and a final newline.
 */
export function toCsv(headers: string[], rows: CsvCell[][]): string {
  return stringify([headers, ...rows], {
    record_delimiter: "unix",
    // csv-stringify writes true as "1" and false as "" by default; keep the words
    cast: { boolean: (v) => String(v), number: (v) => String(v) },
  });
}
