/**
 * The runner's folders form layers: a file may import its own folder and the folders below it, never above.
 * Worker threads load only what they run. (docs/architecture.md draws the same order.)
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../src", import.meta.url));

/** bottom first; folders on one line are peers and may not import each other */
const LAYERS: string[][] = [
  ["run", "text", "report", "builtins"],
  ["data"],
  ["train", "evaluate", "synth"],
  ["infer"],
  ["registries.ts"],
  ["executors"],
  ["sweep"],
  ["cli"],
  ["index.ts"],
];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** relative imports, static and dynamic, and worker entry points (`new URL("./x.js", import.meta.url)`) */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [
    ...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g),
    ...text.matchAll(/new URL\(\s*"(\.{1,2}\/[^"]+)"\s*,\s*import\.meta\.url/g),
  ].map((m) => m[1]);
  return specs.map((s) => resolve(dirname(file), s.replace(/\.js$/, ".ts")));
}

const top = (file: string) => relative(SRC, file).split("/")[0];
const layerOf = (folder: string) => LAYERS.findIndex((l) => l.includes(folder));

describe("runner layering", () => {
  const all = files(SRC);
  it("every folder has a layer", () => {
    expect(all.map(top).filter((f) => layerOf(f) < 0)).toEqual([]);
  });
  it("imports only go down (or stay in the folder)", () => {
    const bad: string[] = [];
    for (const f of all)
      for (const t of imports(f)) {
        const [a, b] = [top(f), top(t)];
        if (a !== b && layerOf(b) >= layerOf(a)) bad.push(`${relative(SRC, f)} -> ${relative(SRC, t)}`);
      }
    expect(bad).toEqual([]);
  });
  it("worker threads load neither stage kinds nor reports", () => {
    for (const entry of ["data/worker.ts", "train/replicas/worker.ts"]) {
      const seen = new Set<string>();
      const walk = (f: string) => {
        if (seen.has(f)) return;
        seen.add(f);
        for (const t of imports(f)) walk(t);
      };
      walk(join(SRC, entry));
      const loaded = [...seen].map((f) => relative(SRC, f));
      expect(
        loaded.filter((f) => /-stage\.ts$|^report\/|^registries\.ts$|^cli\//.test(f)),
        entry,
      ).toEqual([]);
    }
  });
});
