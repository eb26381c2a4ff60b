/**
 * Property-based fuzzing of pipeline loading: generated broken pipelines (random YAML structures,
 * hostile keys, deep nesting, aliases, bogus `${}` / `@` references, wrong types, `extends` of
 * things that are not pipelines) and `--set` paths. For every case: nothing but a VoxelpipeError
 * (never an internal error), every case returns (small sizes, no timing asserts), and
 * Object.prototype / Array.prototype are unchanged afterwards. Fixed seed: CI is reproducible.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { compilePipeline } from "../src/config/compile.js";
import { interpolate } from "../src/config/interpolate.js";
import { loadPipeline } from "../src/config/load.js";
import { parseYamlWithLocations } from "../src/config/source.js";
import { isVoxelpipeError } from "../src/errors.js";
import { Registries } from "../src/sdk/registry.js";

const SEED = 20_241_106;
const dir = mkdtempSync(join(tmpdir(), "vp-fuzz-cfg-"));
let fileNo = 0;

const protoNames = () => ({
  object: Object.getOwnPropertyNames(Object.prototype).sort().join(","),
  array: Object.getOwnPropertyNames(Array.prototype).sort().join(","),
  fn: Object.getOwnPropertyNames(Function.prototype).sort().join(","),
});
const PROTO = protoNames();

/** outcomes per family: "ok" or the first diagnostic code */
const tally = new Map<string, Map<string, number>>();
function count(family: string, outcome: string) {
  const m = tally.get(family) ?? new Map<string, number>();
  m.set(outcome, (m.get(outcome) ?? 0) + 1);
  tally.set(family, m);
}

/** the property every case must hold */
async function holds(family: string, run: () => unknown | Promise<unknown>): Promise<void> {
  let outcome = "ok";
  try {
    const r = (await run()) as { diagnostics?: { code: string }[] } | undefined;
    if (r?.diagnostics?.length) outcome = r.diagnostics[0].code;
  } catch (e) {
    if (!isVoxelpipeError(e)) throw new Error(`${family}: internal error ${(e as Error)?.stack ?? e}`);
    outcome = e.code;
  }
  count(family, outcome);
  expect(protoNames()).toEqual(PROTO);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(({} as Record<string, unknown>).x).toBeUndefined();
}

function writePipeline(text: string): string {
  const file = join(dir, `p${fileNo++}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** load + interpolate + compile against empty registries (no plugins are ever imported) */
async function fullLoad(file: string, overrides: string[] = []) {
  const raw = loadPipeline(file, overrides);
  if (raw.diagnostics.length) return raw;
  const i = interpolate(raw.value, raw.locs);
  if (i.diagnostics.length) return i;
  return compilePipeline(file, { overrides, registries: new Registries() });
}

// ---- generators ----
const HOSTILE = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];
const key = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom("version", "name", "seed", "stages", "vars", "fit", "model", "type", "a", "b"),
  },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const scalar = fc.oneof(
  fc.integer({ min: -5, max: 99_999_999 }),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 8 }),
  fc.constantFrom("${vars.a}", "${__proto__.x}", "@stages.fit.model", "@constructor.prototype", "$${x}", "${", "@"),
);
/** random YAML-able values with hostile keys, as YAML text written by hand (so __proto__ stays a key) */
const yamlValue: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar.map((s) => JSON.stringify(s)),
    fc.array(tie("v"), { maxLength: 4 }).map((xs) => `[${xs.join(", ")}]`),
    fc
      .array(fc.tuple(key, tie("v")), { maxLength: 4 })
      .map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(", ")}}`),
  ),
})).v;

const pathSegment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("stages", "fit", "model", "hidden", "vars", "a", "seed", "name") },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 2, arbitrary: fc.constantFrom("0", "1", "2", "-1", "99999999", "1e9", "[0]", "[99999999]", "") },
  { weight: 1, arbitrary: fc.string({ maxLength: 5 }) },
);
const setPath = fc.array(pathSegment, { minLength: 0, maxLength: 8 }).map((s) => s.join("."));

const BASE = `version: 1
name: fz
vars: { a: 1, b: [1, 2, 3], c: { d: x } }
stages:
  fit:
    kind: train
    model: { type: MLP, hidden: [8, 8] }
`;

afterAll(() => {
  const lines = [...tally].map(([f, m]) => {
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    const parts = [...m].sort((a, b) => b[1] - a[1]).map(([o, n]) => `${o} ${n}`);
    return `  ${f}: ${total} cases (${parts.join(", ")})`;
  });
  console.log(`config fuzz (seed ${SEED}):\n${lines.join("\n")}`);
});

describe("fuzz: pipeline loading never crashes, hangs or pollutes prototypes", () => {
  it("random YAML structures with hostile keys", async () => {
    await fc.assert(
      fc.asyncProperty(yamlValue, async (v) => {
        await holds("random structures", () =>
          fullLoad(writePipeline(`version: 1\nname: x\nstages: {}\nvars: ${v}\n`)),
        );
        await holds("random structures", () => fullLoad(writePipeline(v)));
      }),
      { seed: SEED, numRuns: 250 },
    );
  });

  it("raw random text (YAML syntax soup)", async () => {
    const soup = fc
      .array(
        fc.constantFrom(
          "a: ",
          "- ",
          "[",
          "]",
          "{",
          "}",
          "&x ",
          "*x",
          "!!js/function ",
          '"',
          "'",
          "\n",
          "  ",
          ":",
          ",",
          "${",
          "}",
          "@",
          "__proto__: ",
          "? ",
          "<<: ",
          "|\n",
          "%YAML 1.2\n---\n",
        ),
        { maxLength: 40 },
      )
      .map((a) => a.join(""));
    await fc.assert(
      fc.asyncProperty(soup, async (text) => {
        await holds("yaml soup", () => parseYamlWithLocations(text, "soup.yaml"));
        await holds("yaml soup", () => fullLoad(writePipeline(text)));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("deep nesting (flow and block)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3000 }),
        fc.constantFrom("flow-list", "flow-map", "block", "mixed"),
        async (n, style) => {
          let text: string;
          if (style === "flow-list") text = `vars: ${"[".repeat(n)}${"]".repeat(n)}\n`;
          else if (style === "flow-map") text = `vars: ${"{a: ".repeat(n)}1${"}".repeat(n)}\n`;
          else if (style === "block")
            text = `vars:\n${Array.from({ length: Math.min(n, 400) }, (_, i) => `${" ".repeat(i + 1)}k${i}:`).join("\n")} 1\n`;
          else text = `vars: ${"[{a: ".repeat(n)}1${"}]".repeat(n)}\n`;
          await holds(`deep nesting`, () => fullLoad(writePipeline(`version: 1\nname: x\nstages: {}\n${text}`)));
        },
      ),
      { seed: SEED, numRuns: 120 },
    );
  });

  it("anchors and aliases (billion laughs at small sizes)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        async (levels, fan, selfRef) => {
          let text = "version: 1\nname: x\nstages: {}\nvars:\n  l0: &l0 [x, y]\n";
          for (let i = 1; i <= levels; i++)
            text += `  l${i}: &l${i} [${Array(fan)
              .fill(`*l${i - 1}`)
              .join(", ")}]\n`;
          if (selfRef) text += "  s: &s [*s]\n  t: *undefined_anchor\n";
          await holds("aliases", () => fullLoad(writePipeline(text)));
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });

  it("bogus ${} and @ references: unknown, hostile, cyclic, long chains, expansion bombs", async () => {
    const ref = fc.tuple(fc.constantFrom("${", "@"), setPath).map(([p, s]) => (p === "@" ? `@${s}` : `\${${s}}`));
    await fc.assert(
      fc.asyncProperty(
        fc.array(ref, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 14 }),
        async (refs, chain, bomb) => {
          let text = `${BASE}  other:\n    kind: train\n    model: "@stages.fit.model"\n    refs: [${refs.map((r) => JSON.stringify(r)).join(", ")}]\n`;
          text += "chain:\n  c0: 1\n";
          for (let i = 1; i <= chain; i++) text += `  c${i}: "\${chain.c${i - 1}}"\n  r${i}: "@chain.r${i - 1}"\n`;
          text += `  r0: "@chain.r${chain}"\nbomb:\n  b0: [1, 2, 3, 4, 5, 6, 7, 8]\n  s0: "xxxxxxxxxxxxxxxx"\n`;
          for (let i = 1; i <= bomb; i++)
            text += `  b${i}: ["\${bomb.b${i - 1}}", "\${bomb.b${i - 1}}", "\${bomb.b${i - 1}}"]\n  s${i}: "\${bomb.s${i - 1}}\${bomb.s${i - 1}}\${bomb.s${i - 1}}\${bomb.s${i - 1}}"\n`;
          await holds("references", () => fullLoad(writePipeline(text)));
        },
      ),
      { seed: SEED, numRuns: 120 },
    );
  });

  it("wrong types at every well-known key, and extends of things that are not pipelines", async () => {
    const target = fc.constantFrom(
      "/dev/zero",
      "/etc/passwd",
      "/etc",
      "nope.yaml",
      ".",
      "../",
      "p0.yaml",
      "/dev/null",
      "x.yml",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          version: yamlValue,
          name: yamlValue,
          seed: yamlValue,
          backend: yamlValue,
          stages: yamlValue,
          extends: fc.oneof(
            fc.array(target, { maxLength: 3 }).map((t) => JSON.stringify(t)),
            yamlValue,
          ),
        }),
        async (r) => {
          const text = Object.entries(r)
            .map(([k, v]) => `${k}: ${v}`)
            .join("\n");
          await holds("wrong types / extends", () => fullLoad(writePipeline(text)));
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("--set paths and values: hostile segments, huge and negative indices, long paths", async () => {
    const longPath = fc.integer({ min: 1, max: 400 }).map((n) => Array(n).fill("a").join("."));
    const path = fc.oneof({ weight: 5, arbitrary: setPath }, { weight: 1, arbitrary: longPath });
    const set = fc.tuple(path, fc.oneof(yamlValue, fc.string({ maxLength: 10 }))).map(([p, v]) => `${p}=${v}`);
    const file = writePipeline(BASE);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(set, fc.string({ maxLength: 12 })), { minLength: 1, maxLength: 4 }),
        async (sets) => {
          await holds("--set", () => fullLoad(file, sets));
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });
});
