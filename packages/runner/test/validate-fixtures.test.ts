import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectGolden } from "../../../test-utils/golden.js";
import { cli, FIXTURES } from "./helpers.js";

/**
 * Every invalid pipeline in fixtures/invalid/ is validated and its full error text compared with
 * the `.expected.txt` kept beside it (UPDATE_FIXTURES=1 rewrites them after a deliberate change, and that run
 * skips the comparison: see test-utils/golden.ts).
 */
const dir = join(FIXTURES, "invalid");
const cases = readdirSync(dir).filter((f) => f.endsWith(".yaml"));

describe("voxelpipe validate on broken pipelines", () => {
  it.for(cases)("%s: every problem, located, with the expected text", async (file, { skip }) => {
    const r = await cli(["validate", file], dir);
    expect(r.code).toBe(1);
    expectGolden(join(dir, file.replace(/\.yaml$/, ".expected.txt")), r.stderr, skip);
  });

  it("reports (a)-(e) together in one pass, each with file:line:col", async () => {
    const r = await cli(["validate", "all-problems.yaml"], dir);
    expect(r.code).toBe(1);
    for (const code of ["VP100", "VP110", "VP111", "VP120", "VP130"]) expect(r.stderr).toContain(`error[${code}]`);
    expect(r.stderr.match(/--> all-problems\.yaml:\d+:\d+/g)).toHaveLength(5);
    expect(r.stderr).toContain('did you mean "SyntheticRegression"');
    expect(r.stderr).toContain('did you mean "hidden"?');
    expect(r.stderr).toContain('did you mean "data"?');
    expect(r.stderr).toContain("5 problems found");
  });

  it("--json gives machines the same problems", async () => {
    const r = await cli(["validate", "all-problems.yaml", "--json"], dir);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(false);
    expect(j.errors.map((e: { code: string }) => e.code)).toEqual(["VP100", "VP110", "VP111", "VP130", "VP120"]);
    expect(j.errors[1]).toMatchObject({
      file: "all-problems.yaml",
      line: 11,
      col: 41,
      path: "stages.fit.model.hiden",
      hint: 'did you mean "hidden"?',
    });
  });

  it("each single-problem fixture reports exactly its problem", async () => {
    const expectCode = {
      "misspelled-component.yaml": ["VP100"],
      "unknown-argument.yaml": ["VP110"],
      "wrong-type.yaml": ["VP111"],
      "dangling-reference.yaml": ["VP120", "VP120", "VP120"],
      "stage-cycle.yaml": ["VP130"],
    } as Record<string, string[]>;
    for (const [file, codes] of Object.entries(expectCode)) {
      const j = JSON.parse((await cli(["validate", file, "--json"], dir)).stdout);
      expect(
        j.errors.map((e: { code: string }) => e.code),
        file,
      ).toEqual(codes);
    }
    const syntax = JSON.parse((await cli(["validate", "yaml-syntax.yaml", "--json"], dir)).stdout);
    expect(syntax.errors[0]).toMatchObject({ code: "VP001", line: 10 });
  });

  it("a valid pipeline passes and exits 0", async () => {
    const r = await cli(["validate", "../../../../../pipelines/example-regression.yaml"], dir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("ok (1 stage: fit)");
  });
});
