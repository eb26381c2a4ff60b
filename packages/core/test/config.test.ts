import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { interpolate } from "../src/config/interpolate.js";
import { loadPipeline } from "../src/config/load.js";
import { deepMerge } from "../src/config/merge.js";
import { formatPath, parsePath } from "../src/config/paths.js";
import { LocationMap, parseYamlWithLocations } from "../src/config/source.js";

function files(map: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "vp-cfg-"));
  for (const [name, text] of Object.entries(map)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("paths", () => {
  it("formats and parses dotted paths with indices", () => {
    expect(formatPath(["stages", "a", "transforms", 2, "prob"])).toBe("stages.a.transforms[2].prob");
    expect(parsePath("stages.a.transforms[2].prob")).toEqual(["stages", "a", "transforms", 2, "prob"]);
    expect(parsePath("a.b.0.c")).toEqual(["a", "b", 0, "c"]);
  });
});

describe("extends: the one merge rule", () => {
  it("merges mappings, replaces lists and scalars, null removes, $replace replaces a mapping", () => {
    const base = { a: { x: 1, y: [1, 2], z: { k: 1, j: 2 } }, b: 1, c: { keep: true } };
    const over = { a: { x: 2, y: [3], z: { $replace: true, only: 9 } }, b: null, d: 4 };
    expect(deepMerge(base, over)).toEqual({ a: { x: 2, y: [3], z: { only: 9 } }, c: { keep: true }, d: 4 });
  });

  it("loads extends chains relative to each file, later files win, and reports cycles", () => {
    const dir = files({
      "base.yaml": "version: 1\nname: base\nvars: { lr: 1, roi: [1, 2] }\nstages: {}\n",
      "mid.yaml": "extends: base.yaml\nvars: { lr: 2 }\n",
      "top.yaml": "extends: [mid.yaml]\nname: top\nvars: { roi: [3] }\n",
      "loop1.yaml": "extends: loop2.yaml\n",
      "loop2.yaml": "extends: loop1.yaml\n",
    });
    const p = loadPipeline(join(dir, "top.yaml"));
    expect(p.diagnostics).toEqual([]);
    expect(p.value).toEqual({ version: 1, name: "top", vars: { lr: 2, roi: [3] }, stages: {} });
    // locations point at the file that defined the value
    expect(p.locs.get(["vars", "lr"])?.value.file).toBe(join(dir, "mid.yaml"));
    expect(p.locs.get(["version"])?.value).toMatchObject({ file: join(dir, "base.yaml"), line: 1, col: 10 });
    const loop = loadPipeline(join(dir, "loop1.yaml"));
    expect(loop.diagnostics[0].message).toMatch(/`extends` cycle: .*loop1\.yaml -> .*loop2\.yaml -> .*loop1\.yaml/);
  });

  it("--set overrides parse their value as YAML and create paths", () => {
    const dir = files({ "p.yaml": "version: 1\nname: p\nvars: { a: 1 }\nstages: {}\n" });
    const p = loadPipeline(join(dir, "p.yaml"), ["vars.a=[1, 2]", "vars.b.c=hello", "seed=5", "vars.d={x: 1}"]);
    expect(p.value).toMatchObject({ seed: 5, vars: { a: [1, 2], b: { c: "hello" }, d: { x: 1 } } });
    expect(p.locs.get(["vars", "a"])?.value).toMatchObject({ file: "--set #1", line: 1, col: 8 });
    const bad = loadPipeline(join(dir, "p.yaml"), ["novalue"]);
    expect(bad.diagnostics[0]).toMatchObject({ code: "VP160" });
  });
});

describe("interpolation", () => {
  const run = (v: Record<string, unknown>) => interpolate(v, new LocationMap());

  it("copies whole values, embeds scalars in text, follows chains, escapes $${", () => {
    const r = run({
      vars: { roi: [96, 96, 96], n: 14, m: "${vars.n}", name: "x" },
      a: "${vars.roi}",
      b: "run-${vars.name}-${vars.m}",
      c: "$${vars.n}",
    });
    expect(r.diagnostics).toEqual([]);
    expect(r.value).toMatchObject({ a: [96, 96, 96], b: "run-x-14", c: "${vars.n}", vars: { m: 14 } });
  });

  it("reports unknown paths with did-you-mean, cycles, and lists embedded in text", () => {
    const r = run({ vars: { rio: 1, x: "${vars.y}", y: "${vars.x}", l: [1] }, a: "${vars.roi}", b: "t${vars.l}" });
    const msgs = r.diagnostics.map((d) => `${d.code} ${d.message} ${d.hint ?? ""}`);
    expect(msgs).toContainEqual(
      expect.stringMatching(/VP120 \$\{vars\.roi\} refers to "vars\.roi", which does not exist did you mean "rio"\?/),
    );
    expect(msgs).toContainEqual(
      expect.stringMatching(/VP121 interpolation cycle: \$\{vars\.(x|y)\} -> \$\{vars\.(x|y)\} -> \$\{vars\.(x|y)\}/),
    );
    expect(msgs).toContainEqual(expect.stringMatching(/VP140 \$\{vars\.l\} is a list/));
  });
});

describe("YAML is data only", () => {
  it("refuses code-constructing tags and reports positions", () => {
    const r = parseYamlWithLocations("a: !!js/function 'function () { return 1 }'\n", "t.yaml");
    expect(r.diagnostics.length).toBeGreaterThan(0);
    const ok = parseYamlWithLocations("a:\n  b: [1, {c: 2}]\n", "t.yaml");
    expect(ok.locs.get(["a", "b", 1, "c"])?.value).toMatchObject({ line: 2, col: 14 });
    expect(ok.locs.get(["a", "b"])?.key).toMatchObject({ line: 2, col: 3 });
  });
});
