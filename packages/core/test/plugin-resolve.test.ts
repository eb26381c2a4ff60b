import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type PluginResolveError, resolvePackageImport, splitSpecifier } from "../src/config/plugin-resolve.js";

/** Node's ESM resolution of package specifiers as `import` sees them, on packages written here */
const root = mkdtempSync(join(tmpdir(), "vp-resolve-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const deep = join(root, "a", "b");
mkdirSync(deep, { recursive: true });

function pkg(name: string, manifest: object, files: string[]): void {
  const dir = join(root, "node_modules", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, ...manifest }));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), "export {};");
  }
}

pkg("@s/cond", { exports: { ".": { types: "./x.d.ts", require: "./r.cjs", import: "./i.js" } } }, ["i.js", "r.cjs"]);
pkg("@s/nested", { exports: { ".": { node: { import: "./n.js", default: "./d.js" }, default: "./d.js" } } }, [
  "n.js",
  "d.js",
]);
pkg("@s/array", { exports: { ".": [{ worker: "./w.js" }, "./a.js"] } }, ["a.js"]);
pkg("@s/sub", { exports: { ".": "./main.js", "./plugins/*": "./dist/plugins/*.js", "./plugins/special": "./s.js" } }, [
  "main.js",
  "dist/plugins/x.js",
  "s.js",
]);
pkg("legacy", { main: "lib/entry" }, ["lib/entry.js"]);
pkg("@s/sugar", { exports: "./only.js" }, ["only.js"]);

describe("resolvePackageImport", () => {
  const at = (spec: string) => resolvePackageImport(spec, deep).slice(root.length + 1);
  it("walks node_modules up from the folder and follows import conditions in key order", () => {
    expect(at("@s/cond")).toBe("node_modules/@s/cond/i.js");
    expect(at("@s/nested")).toBe("node_modules/@s/nested/n.js");
    expect(at("@s/array")).toBe("node_modules/@s/array/a.js");
    expect(at("@s/sugar")).toBe("node_modules/@s/sugar/only.js");
  });
  it("resolves subpaths, exact keys before patterns", () => {
    expect(at("@s/sub/plugins/x")).toBe("node_modules/@s/sub/dist/plugins/x.js");
    expect(at("@s/sub/plugins/special")).toBe("node_modules/@s/sub/s.js");
    expect(() => at("@s/sub/hidden")).toThrow(/has no "\.\/hidden" entry/);
  });
  it("tries main as Node's legacy resolution does", () => {
    expect(at("legacy")).toBe("node_modules/legacy/lib/entry.js");
  });
  it("tells not installed from installed without an entry", () => {
    try {
      resolvePackageImport("@s/absent", deep);
      expect.unreachable();
    } catch (e) {
      expect((e as PluginResolveError).failure.kind).toBe("not-installed");
    }
    pkg("@s/cjs", { exports: { require: "./r.cjs" } }, ["r.cjs"]);
    expect(() => resolvePackageImport("@s/cjs", deep)).toThrow(/no target for the import conditions/);
  });
  it("splits scoped and unscoped specifiers", () => {
    expect(splitSpecifier("@a/b/c/d")).toEqual({ name: "@a/b", subpath: "./c/d" });
    expect(splitSpecifier("a")).toEqual({ name: "a", subpath: "." });
  });
});
