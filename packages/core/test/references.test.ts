import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  configReference,
  followReferences,
  isReference,
  outputReference,
  parseReference,
  substituteOutputs,
} from "../src/config/references.js";
import { resolveArgReferences } from "../src/config/slots.js";
import { LocationMap } from "../src/config/source.js";
import { VoxelpipeError } from "../src/errors.js";

describe("@ references: one parser", () => {
  it("tells output references from config references, with brackets or dotted indices", () => {
    expect(parseReference("@stages.fit.outputs.best")).toEqual({
      kind: "output",
      text: "@stages.fit.outputs.best",
      path: ["stages", "fit", "outputs", "best"],
      stage: "fit",
      output: "best",
      rest: [],
    });
    expect(parseReference("@stages.fit.transforms.val[2]")).toMatchObject({
      kind: "config",
      path: ["stages", "fit", "transforms", "val", 2],
    });
    expect(configReference("@vars.crops.0.size")).toEqual(["vars", "crops", 0, "size"]);
    // malformed output references parse (compile reports them) but are not outputs to substitute
    expect(parseReference("@stages.fit.outputs")).toMatchObject({ kind: "output", output: undefined });
    expect(outputReference("@stages.fit.outputs")).toBeUndefined();
    expect(outputReference("@stages.fit.outputs.best.x")).toBeUndefined();
    expect(outputReference("@stages.fit.outputs.best")).toEqual({ stage: "fit", output: "best" });
    expect(configReference("@stages.fit.outputs.best")).toBeUndefined();
  });

  it("only strings starting with @ and an identifier character are references", () => {
    for (const v of ["@a", "@_x", "@stages.s.model"]) expect(isReference(v)).toBe(true);
    for (const v of ["@", "@1", "@-x", "@@a", "a@b", "${vars.x}", "", 3, null, ["@a"], { a: "@a" }])
      expect(isReference(v), JSON.stringify(v)).toBe(false);
  });

  it("follows config references to a value; output references and plain values pass through", () => {
    const root = { vars: { a: "@vars.b", b: [1, 2], out: "@stages.x.outputs.y" }, stages: {} };
    expect(followReferences(root, "@vars.a")).toEqual([1, 2]);
    expect(followReferences(root, "@vars.out")).toBe("@stages.x.outputs.y");
    expect(followReferences(root, "@vars.nope")).toBeUndefined();
    expect(followReferences(root, 5)).toBe(5);
    // a cycle stops at the hop limit instead of looping
    expect(followReferences({ a: "@b", b: "@a" }, "@a", 10)).toBe("@a");
  });

  it("substitutes outputs string for string and keeps the identity of what has none", () => {
    const untouched = { a: [1, { b: "x" }], c: "@vars.y" };
    expect(substituteOutputs(untouched, () => "never")).toBe(untouched);
    const copies: object[] = [];
    const v = { keep: { n: 1 }, list: ["@stages.s.outputs.best", 2] };
    const r = substituteOutputs(
      v,
      (s, k) => `/runs/${s}/${k}`,
      (from) => copies.push(from),
    ) as typeof v;
    expect(r).toEqual({ keep: { n: 1 }, list: ["/runs/s/best", 2] });
    expect(r.keep).toBe(v.keep); // unchanged branches are shared
    expect(copies).toEqual([v.list, v]);
  });

  it("resolves argument references: copies by default, entries kept; options copy entries and drop the unresolved", () => {
    const root = {
      vars: { size: [8, 8], alias: "@vars.size", net: { type: "UNet", ch: "@vars.size" } },
      stages: { s: { crop: "@vars.alias", model: "@vars.net", from: "@stages.t.outputs.best", gone: "@vars.nope" } },
    };
    const stage = root.stages.s;
    expect(resolveArgReferences(stage, root)).toEqual({
      crop: [8, 8],
      model: "@vars.net",
      from: "@stages.t.outputs.best",
      gone: "@vars.nope",
    });
    const all = resolveArgReferences(stage, root, { copyEntries: true, unresolved: () => undefined }) as {
      crop: number[];
    };
    expect(all).toEqual({ crop: [8, 8], model: { type: "UNet", ch: [8, 8] } });
    expect(all.crop).not.toBe(root.vars.size); // copies, never the config's own objects
    // a reference inside its own target: kept by default (compile's reference pass owns cycles) ...
    const cyclic = { vars: { a: { b: ["@vars.a"] } }, stages: { s: { x: "@vars.a" } } };
    expect(resolveArgReferences(cyclic.stages.s, cyclic)).toEqual({ x: { b: ["@vars.a"] } });
    // ... a located VP121 when strict
    const locs = new LocationMap();
    locs.set(["vars", "a", "b", 0], { value: { file: "p.yaml", line: 3, col: 9 } });
    let err: unknown;
    try {
      resolveArgReferences(cyclic.stages.s, cyclic, { strict: true, at: ["stages", "s"], locs });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VoxelpipeError);
    expect((err as VoxelpipeError).diagnostics[0]).toMatchObject({
      code: "VP121",
      message: expect.stringContaining("stages.s.x -> vars.a -> vars.a"),
      path: "vars.a.b[0]",
      loc: { file: "p.yaml", line: 3, col: 9 },
      hint: expect.any(String),
    });
    // a chain of references to plain values is no cycle, even when one target is copied twice
    const twice = { vars: { v: [1], w: ["@vars.v", "@vars.v"] } };
    expect(resolveArgReferences("@vars.w", twice, { strict: true })).toEqual([[1], [1]]);
  });

  it("no other source file parses references by hand (the grep the issue asked for)", () => {
    const repo = fileURLToPath(new URL("../../../", import.meta.url));
    // hand-written reference parsing: a /^@ regex, a "^@ pattern, startsWith("@"), an outputs\. regex,
    // or a path cut from a reference string with parsePath(x.slice(1))
    const pattern = /\/\^@|"\^@|startsWith\("@"\)|outputs\\\\?\.|parsePath\([\w.]+\.slice\(1\)\)/;
    const allowed: Record<string, string> = {
      "packages/core/src/config/references.ts": "the parser itself",
      // package names: an npm scope ("@scope/pkg"), not a reference
      "packages/core/src/config/plugin-resolve.ts": "npm scope",
      "packages/runner/src/cli/new-plugin.ts": "npm scope",
    };
    const hits: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        if (name === "node_modules" || name === "dist") continue;
        const file = join(dir, name);
        if (statSync(file).isDirectory()) walk(file);
        else if (/\.(ts|mts|tsx)$/.test(name) && !name.endsWith(".d.ts")) {
          const rel = relative(repo, file);
          if (allowed[rel]) continue;
          readFileSync(file, "utf8")
            .split("\n")
            .forEach((line, i) => {
              if (pattern.test(line)) hits.push(`${rel}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    for (const top of ["packages", "plugins"])
      for (const pkg of readdirSync(join(repo, top))) {
        const src = join(repo, top, pkg, "src");
        if (statSync(join(repo, top, pkg)).isDirectory() && readdirSync(join(repo, top, pkg)).includes("src"))
          walk(src);
      }
    expect(hits).toEqual([]);
  });
});
