/**
 * Property-based fuzzing of the CLI (in-process): generated `--set` overrides, sweep grids (as
 * flags and as a `sweep:` block), option values and plugin entries. For every case: exit code 0,
 * 1 or 2 with diagnostics (never 70, never "internal error"), every case returns (small sizes, no
 * timing asserts), no prototype changes, and no plugin code from outside the project runs.
 * Sweeps always name a metric no stage publishes, so nothing ever trains. Fixed seed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { cli, tmp } from "./helpers.js";

const SEED = 20_241_106;
const PIPE = "pipelines/example-regression.yaml";
const work = tmp("vp-fuzz-cli-");
const runs = join(work, "runs");

// plugin code outside the project: must never run
const evilDir = join(work, "evil");
mkdirSync(evilDir, { recursive: true });
writeFileSync(join(evilDir, "evil.mjs"), "globalThis.__vpEvilRan = true;\nexport default {};\n");
mkdirSync(join(evilDir, "pkg"), { recursive: true });
writeFileSync(join(evilDir, "pkg", "package.json"), '{ "name": "evil", "type": "module", "main": "../evil.mjs" }');

const protoNames = () => ({
  object: Object.getOwnPropertyNames(Object.prototype).sort().join(","),
  array: Object.getOwnPropertyNames(Array.prototype).sort().join(","),
});
const PROTO = protoNames();

const tally = new Map<string, Map<string, number>>();
function count(family: string, outcome: string) {
  const m = tally.get(family) ?? new Map<string, number>();
  m.set(outcome, (m.get(outcome) ?? 0) + 1);
  tally.set(family, m);
}

async function holds(family: string, args: string[]): Promise<void> {
  const r = await cli(args);
  const code = /error\[(VP\d+)\]/.exec(r.stderr)?.[1] ?? /"code": "(VP\d+)"/.exec(r.stdout)?.[1];
  count(family, r.code === 0 ? "exit 0" : `exit ${r.code}${code ? ` ${code}` : ""}`);
  expect(r.code, `${args.join(" ")}\n${r.stderr}`).not.toBe(70);
  expect(r.stderr).not.toContain("internal error");
  expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
  if (r.code === 1) expect(r.stderr + r.stdout, args.join(" ")).toMatch(/VP\d{3}/);
  expect(protoNames()).toEqual(PROTO);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect((globalThis as Record<string, unknown>).__vpEvilRan).toBeUndefined();
}

const HOSTILE = ["__proto__", "constructor", "prototype", "toString", "valueOf"];
const segment = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      "stages",
      "fit",
      "model",
      "hidden",
      "optimizer",
      "lr",
      "vars",
      "features",
      "step",
      "seed",
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 2, arbitrary: fc.constantFrom("0", "1", "2", "-1", "99999999", "[0]", "[5]", "") },
  { weight: 1, arbitrary: fc.string({ maxLength: 5 }) },
);
const path = fc.oneof(
  { weight: 6, arbitrary: fc.array(segment, { maxLength: 7 }).map((s) => s.join(".")) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => Array(n).fill("a").join(".")) },
);
const value = fc.oneof(
  fc.constantFrom(
    "3",
    "-1",
    "1e999",
    "[8, 8]",
    "{type: MLP}",
    "null",
    "none",
    "[",
    "{",
    "&a [*a]",
    "!!js/function x",
    "${vars.features}",
    "@stages.fit.model",
    "${__proto__}",
    "@constructor",
  ),
  fc.string({ maxLength: 8 }),
  fc.integer().map(String),
);
const BAD_METRICS = ["fit.bestt", "nope.x", "fit", "fit.__proto__", "x", "fit.best_iter", "", "."];

afterAll(() => {
  const lines = [...tally].map(([f, m]) => {
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    const parts = [...m].sort((a, b) => b[1] - a[1]).map(([o, n]) => `${o}: ${n}`);
    return `  ${f}: ${total} cases (${parts.join(", ")})`;
  });
  console.log(`CLI fuzz (seed ${SEED}):\n${lines.join("\n")}`);
});

describe("fuzz: the CLI answers every hostile input with diagnostics", () => {
  it("validate / print with generated --set overrides", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("validate", "print"),
        fc.array(
          fc.tuple(path, value).map(([p, v]) => `${p}=${v}`),
          { minLength: 1, maxLength: 3 },
        ),
        async (cmd, sets) => {
          await holds("--set", [cmd, PIPE, ...sets.flatMap((s) => ["--set", s])]);
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });

  it("sweep grids as --grid flags and as a sweep: block (never trains: the metric is unknown)", async () => {
    const grid = fc
      .tuple(path, fc.array(value, { minLength: 1, maxLength: 2 }))
      .map(([p, vs]) => `${p}=${vs.join(",")}`);
    const block = fc
      .dictionary(
        path.map((p) => p || "x"),
        fc.array(value, { minLength: 1, maxLength: 2 }),
        { maxKeys: 2 },
      )
      .map(
        (d) =>
          `sweep={grid: {${Object.entries(d)
            .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
            .join(", ")}}}`,
      );
    await fc.assert(
      fc.asyncProperty(
        fc.array(grid, { maxLength: 2 }),
        fc.option(block, { nil: undefined }),
        fc.constantFrom(...BAD_METRICS),
        fc.oneof(
          { weight: 3, arbitrary: fc.constant("0") },
          { weight: 1, arbitrary: fc.constantFrom("0..1", "x", "5..2", "99999999", "0..99999999", "-1", "1,a") },
        ),
        async (grids, blk, metric, seeds) => {
          await holds("sweep", [
            "sweep",
            PIPE,
            ...grids.flatMap((g) => ["--grid", g]),
            ...(blk ? ["--set", blk] : []),
            "--metric",
            metric,
            "--seeds",
            seeds,
            "--runs-dir",
            runs,
          ]);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it("option values: numbers that are not numbers", async () => {
    const notValidSize = fc
      .string({ maxLength: 8 })
      .filter((s) => !/^\s*\d+\s*$/.test(s) || Number(s) < 8 || Number(s) > 1024);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          notValidSize.map((s) => ["synth", "--out", join(work, "synth"), "--size", s]),
          fc.string({ maxLength: 8 }).map((s) => ["validate", PIPE, "--max-pipeline-bytes", s]),
          fc
            .string({ maxLength: 8 })
            .map((s) => ["sweep", PIPE, "--seeds", s, "--metric", "nope.x", "--runs-dir", runs]),
          fc.string({ maxLength: 8 }).map((s) => ["print", PIPE, "--path", s]),
        ),
        async (args) => {
          await holds("option values", args);
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });

  it("plugin entries that point outside the project never load", async () => {
    const entry = fc.constantFrom(
      join(evilDir, "evil.mjs"),
      join(evilDir, "pkg"),
      "../../../../../../../../tmp/nope.mjs",
      `${"../".repeat(12)}${evilDir.slice(1)}/evil.mjs`,
      `x/${"../".repeat(12)}${evilDir.slice(1)}/evil.mjs`,
      `file://${evilDir}/evil.mjs`,
      "data:text/javascript,globalThis.__vpEvilRan=1",
      "node:fs",
      "/etc/passwd",
      "/dev/zero",
      "./",
      "",
      "@",
      "{from: /tmp, as: x}",
    );
    await fc.assert(
      fc.asyncProperty(entry, fc.constantFrom("validate", "print"), async (e, cmd) => {
        const set = `plugins.1=${e.startsWith("{") ? e : JSON.stringify(e)}`;
        const args =
          cmd === "validate" ? ["validate", PIPE, "--set", set] : ["print", PIPE, "--resolved", "--set", set];
        await holds("plugins", args);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });
});
