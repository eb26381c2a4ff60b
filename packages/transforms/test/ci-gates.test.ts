/**
 * The CI rule for tests that need ../shared, a build or a Debian tool (test-utils/gates.ts): on a user's clone
 * they skip and say so in their title; under CI they fail. And golden files are never written and compared in
 * the same run (test-utils/golden.ts). One real parity file is run under CI with the shared folder missing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  allOf,
  builtOrSkip,
  isCI,
  MissingUnderCI,
  REPO,
  SHARED,
  sharedOrSkip,
  toolOrSkip,
} from "../../../test-utils/gates.js";
import { expectGolden } from "../../../test-utils/golden.js";

const NOWHERE = "/nonexistent/voxelpipe-shared";
const FILE = "reference/fixtures/ssl_augment.safetensors";

describe("shared-data gates", () => {
  it("CI set: a missing shared file or build output throws, naming it and the fix", () => {
    for (const CI of ["1", "true"]) {
      const env = { CI, VOXELPIPE_SHARED: NOWHERE };
      expect(() => sharedOrSkip({ env }, FILE)).toThrow(MissingUnderCI);
      expect(() => sharedOrSkip({ env }, FILE)).toThrow(`${NOWHERE}/${FILE} is missing`);
      expect(() => builtOrSkip("/nonexistent/dist/worker.js", { CI })).toThrow(/npm run build/);
    }
  });

  it("CI unset (or 0/false): skip, and only a skipped title says skipped", () => {
    for (const CI of [undefined, "", "0", "false"]) {
      expect(isCI({ CI })).toBe(false);
      const gate = sharedOrSkip({ env: { CI, VOXELPIPE_SHARED: NOWHERE } }, FILE);
      expect(gate.ok).toBe(false);
      expect(gate.title("parity")).toBe(
        `parity [skipped: ${NOWHERE}/${FILE} not found; put the shared data folder beside the repository or set VOXELPIPE_SHARED]`,
      );
    }
    const here = sharedOrSkip({ env: { CI: "1", VOXELPIPE_SHARED: REPO } }, "package.json");
    expect(here.ok).toBe(true);
    expect(here.title("parity")).toBe("parity");
  });

  it("a Debian tool: its path when present; skip (naming the package) or, under CI, fail when absent", () => {
    const sh = toolOrSkip("sh", ["/nonexistent/sh", "/bin/sh"], "dash", { CI: "1" });
    expect([sh.ok, sh.path]).toEqual([true, "/bin/sh"]);
    expect(() => toolOrSkip("nope", ["/nonexistent/nope"], "nope-pkg", { CI: "1" })).toThrow(
      /apt-get install nope-pkg/,
    );
    const missing = toolOrSkip("nope", ["/nonexistent/nope"], "nope-pkg", {});
    expect(missing.path).toBeUndefined();
    const both = allOf(missing, builtOrSkip("/nonexistent/dist/x.js", {}), sh);
    expect(both.ok).toBe(false);
    expect(both.title("t")).toBe(
      "t [skipped: nope not found; apt-get install nope-pkg] [skipped: /nonexistent/dist/x.js not found; run `npm run build` first]",
    );
    expect(allOf(sh, sh).title("t")).toBe("t");
  });

  it("the default shared folder is ../shared beside the repository", () => {
    if (!process.env.VOXELPIPE_SHARED) expect(SHARED).toBe(join(REPO, "..", "shared"));
  });

  // one real parity file, run as CI runs it: ~3 s (a vitest start and the file's imports)
  it("a parity test file run with CI=1 and no shared folder fails instead of skipping", () => {
    const vitest = join(REPO, "node_modules", "vitest", "vitest.mjs");
    const r = spawnSync(process.execPath, [vitest, "run", "test/fixtures-ssl.test.ts"], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      env: { ...process.env, CI: "1", VOXELPIPE_SHARED: NOWHERE, NO_COLOR: "1", FORCE_COLOR: "0" },
      encoding: "utf8",
      timeout: 60_000,
    });
    const out = `${r.stdout}${r.stderr}`;
    expect(r.status, out).toBe(1);
    expect(out).toContain(`MissingUnderCI: CI is set and ${NOWHERE}/${FILE} is missing`);
    expect(out).not.toMatch(/Tests\s+\d+ skipped/);
  });
});

describe("golden files", () => {
  const dir = mkdtempSync(join(tmpdir(), "vp-golden-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const noSkip = (note: string): never => {
    throw new Error(`unexpected skip: ${note}`);
  };

  it("UPDATE_FIXTURES writes the file and skips the comparison with a note", () => {
    const file = join(dir, "a.expected.txt");
    const notes: string[] = [];
    expectGolden(file, "new text\n", (n) => void notes.push(n), { UPDATE_FIXTURES: "1" });
    expect(readFileSync(file, "utf8")).toBe("new text\n");
    expect(notes).toEqual([expect.stringContaining("not compared in this run")]);
    // the next run compares, and a different output fails
    expectGolden(file, "new text\n", noSkip, {});
    expect(() => expectGolden(file, "other text\n", noSkip, {})).toThrow();
  });

  it("UPDATE_FIXTURES under CI is an error and writes nothing; a missing golden file fails", () => {
    const file = join(dir, "b.expected.txt");
    expect(() => expectGolden(file, "x", noSkip, { UPDATE_FIXTURES: "1", CI: "1" })).toThrow(/under CI/);
    expect(existsSync(file)).toBe(false);
    expect(() => expectGolden(file, "x", noSkip, {})).toThrow(/missing golden file/);
  });
});
