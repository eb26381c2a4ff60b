/** Messages between the loader and its worker threads (structured-cloned; sample buffers transferred). */
import { Codes, type Diagnostic, isVoxelpipeError, type Sample } from "@voxelpipe/core";

/** Run transforms [from, end) on `items`; with `prefixEnd`, also return a copy of the result at prefixEnd. */
export interface Task {
  type: "task";
  id: number;
  index: number;
  epoch: number;
  subject: string;
  items: Sample[];
  from: number;
  /** end of the deterministic prefix, when the loader wants to cache it */
  prefixEnd?: number;
}

export interface TaskResult {
  samples: Sample[];
  /** the deterministic result (items after prefixEnd), when asked for */
  prefix?: Sample[];
}

export type FromWorker =
  | { type: "ready"; length: number }
  | { type: "init-error"; diagnostics: Diagnostic[] }
  | ({ type: "done"; id: number } & TaskResult)
  | { type: "error"; id: number; diagnostics: Diagnostic[]; ti?: number }
  | { type: "log"; level: "debug" | "info" | "warn" | "error"; line: string };

/** Any thrown value as plain diagnostics (they cross the thread boundary as data). */
export function toDiagnostics(e: unknown): Diagnostic[] {
  if (isVoxelpipeError(e)) return e.diagnostics.map((d) => ({ ...d }));
  const err = e instanceof Error ? e : new Error(String(e));
  return [
    {
      code: Codes.runtime,
      message: err.message,
      got: err.stack?.split("\n").slice(1, 6).join("\n"),
    },
  ];
}
