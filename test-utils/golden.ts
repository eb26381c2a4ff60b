/**
 * Golden files: text a test compares with a file kept in the repository. `UPDATE_FIXTURES=1` rewrites the file
 * after a deliberate change — and then that run does NOT compare (a file just written from the output would pass
 * whatever the output is); the test is skipped with a note and the next run compares. Under CI, UPDATE_FIXTURES
 * is an error: CI checks expectations, it never writes them.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { expect } from "vitest";
import { isCI } from "./gates.js";

type Env = Record<string, string | undefined>;

/** `skip` is the test context's `skip` (vitest: `it("…", ({ skip }) => …)` or `it.for(…)("…", (x, { skip }) => …)`) */
export function expectGolden(
  file: string,
  actual: string,
  skip: (note: string) => never | void,
  env: Env = process.env,
): void {
  const name = relative(process.cwd(), file) || file;
  if (env.UPDATE_FIXTURES) {
    if (isCI(env))
      throw new Error(`UPDATE_FIXTURES is set under CI: golden files (${name}) are rewritten by a person, not by CI`);
    writeFileSync(file, actual);
    skip(`UPDATE_FIXTURES: wrote ${name}; not compared in this run — run again without UPDATE_FIXTURES to compare`);
    return;
  }
  expect(existsSync(file), `missing golden file ${name} (UPDATE_FIXTURES=1 writes it)`).toBe(true);
  expect(actual).toBe(readFileSync(file, "utf8"));
}
