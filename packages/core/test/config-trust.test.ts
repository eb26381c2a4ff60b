/** Issue 11: every config cost is bounded and every hostile input is a located diagnostic. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codeFrame } from "../src/config/format.js";
import { interpolate } from "../src/config/interpolate.js";
import { ConfigLimits } from "../src/config/limits.js";
import { loadPipeline } from "../src/config/load.js";
import { pluginRefusal, projectRoot } from "../src/config/plugins.js";

const dir = mkdtempSync(join(tmpdir(), "vp-trust-"));
let n = 0;
const file = (text: string, ext = ".yaml") => {
  const f = join(dir, `f${n++}${ext}`);
  writeFileSync(f, text);
  return f;
};
const load = (text: string, sets: string[] = []) => {
  const raw = loadPipeline(file(text), sets);
  if (raw.diagnostics.length) return raw.diagnostics;
  return interpolate(raw.value, raw.locs).diagnostics;
};

describe("config paths are data", () => {
  it("YAML keys __proto__, constructor and prototype are refused at their position", () => {
    for (const k of ["__proto__", "constructor", "prototype"]) {
      const d = load(`version: 1\nvars:\n  a: { ${k}: { polluted: 1 } }\n`);
      expect(d[0]).toMatchObject({ code: "VP012", path: `vars.a.${k}`, loc: { line: 3, col: 8 } });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("${} and @ paths through object machinery are refused", () => {
    expect(load('vars: { a: "${constructor.name}" }\n')[0]).toMatchObject({ code: "VP012", path: "vars.a" });
  });
});

describe("limits", () => {
  it("billion laughs: the alias limit is a diagnostic at the first alias", () => {
    let t = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
    for (let i = 1; i < 12; i++)
      t += `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(", ")}]\n`;
    expect(load(t)[0]).toMatchObject({ code: "VP013", message: "aliases expand to more than 100 copies" });
  });

  it("10k levels of nesting, a 5,000-segment --set path, a 2,000-step ${} chain, an expansion bomb", () => {
    expect(load(`vars: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`)[0].code).toBe("VP013");
    expect(
      load(`vars:\n${Array.from({ length: 200 }, (_, i) => `${" ".repeat(i + 2)}k${i}:`).join("\n")} 1\n`)[0].code,
    ).toBe("VP013");
    const deepSet = load("vars: {}\n", [`${Array(5000).fill("a").join(".")}=1`])[0];
    expect(deepSet).toMatchObject({ code: "VP013", message: "override path has 5000 segments" });
    // each value refers to the next one: resolving the first follows all 2,000 steps
    let chain = "vars:\n";
    for (let i = 0; i < 1999; i++) chain += `  v${i}: "\${vars.v${i + 1}}"\n`;
    chain += "  v1999: 1\n";
    expect(load(chain)[0]).toMatchObject({ code: "VP013" });
    expect(load(chain)[0].message).toContain(`chain longer than ${ConfigLimits.maxReferenceChain} steps`);
    let bomb = "vars:\n  v0: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  s0: xxxxxxxxxx\n";
    for (let i = 1; i < 30; i++) {
      bomb += `  v${i}: ["\${vars.v${i - 1}}", "\${vars.v${i - 1}}", "\${vars.v${i - 1}}"]\n`;
      bomb += `  s${i}: "\${vars.s${i - 1}}\${vars.s${i - 1}}\${vars.s${i - 1}}"\n`;
    }
    expect(load(bomb)[0].code).toBe("VP013");
  });

  it("a file over the size cap is refused before it is parsed, with how to raise the cap", () => {
    const big = file(`vars: { s: "${"x".repeat(ConfigLimits.maxFileBytes)}" }\n`);
    const d = loadPipeline(big).diagnostics[0];
    expect(d).toMatchObject({ code: "VP013" });
    expect(d.hint).toContain("--max-pipeline-bytes");
    expect(loadPipeline(big, [], { maxFileBytes: 2 * ConfigLimits.maxFileBytes }).diagnostics).toEqual([]);
  });

  it("extends accepts only regular .yaml/.yml files", () => {
    const txt = file("vars: {}\n", ".txt");
    for (const target of [txt, "/dev/zero", dir]) {
      const d = load(`extends: [${target}]\nvars: {}\n`)[0];
      expect(d).toMatchObject({ code: "VP004", path: "extends[0]", loc: { line: 1, col: 11 } });
    }
  });

  it("code frames of a huge line show a window around the column", () => {
    const f = codeFrame(`x: ${"y".repeat(5000)}z`, 1, 5004);
    expect(f.length).toBeLessThan(400);
    expect(f).toContain("yz");
  });
});

describe("plugin trust", () => {
  it("the project tree is the nearest .git, else package.json, else the pipeline's folder", () => {
    expect(projectRoot(dir)).toBe(dir);
    expect(pluginRefusal("../elsewhere/p.mjs", dir, {})?.code).toBe("VP151");
    expect(pluginRefusal("./inside.mjs", dir, {})).toBeUndefined();
    expect(pluginRefusal("../elsewhere/p.mjs", dir, { anywhere: true })).toBeUndefined();
    expect(pluginRefusal("../elsewhere/p.mjs", dir, { allow: [join(dir, "..", "elsewhere")] })).toBeUndefined();
    expect(pluginRefusal("@scope/pkg", dir, {})).toBeUndefined();
    expect(pluginRefusal("pkg/../../x", dir, {})?.code).toBe("VP151");
    expect(pluginRefusal("file:///tmp/x.mjs", dir, {})?.code).toBe("VP151");
  });
});
