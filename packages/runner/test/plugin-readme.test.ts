import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { REPO, tmp } from "./helpers.js";

const run = promisify(execFile);

/** the fenced blocks of one language in the README's "Writing a plugin" section */
function sectionBlocks(lang: string): string[] {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const start = readme.indexOf("## Writing a plugin\n");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  return [...section.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);
}

/** what `create` returning the wrong thing must do at compile time: each line below is a type error */
const CONTRACT_ERRORS = `import { defineLoss, defineModel, defineTransform, z } from "@voxelpipe/core";

export const Misspelt = defineLoss({
  name: "Misspelt",
  args: z.object({}),
  // @ts-expect-error a loss has compute, not computee
  create: () => ({ computee: 42 }),
});

export const NoApply = defineTransform({
  name: "NoApply",
  args: z.object({}),
  // @ts-expect-error a transform needs apply
  create: () => ({ random: false }),
});

export const WrongParams = defineModel({
  name: "WrongParams",
  args: z.object({}),
  // @ts-expect-error params must be a Map of variables, dispose is required
  create: () => ({ params: [], apply: (x) => x }),
});
`;

const root = tmp("vp-readme-plugin-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("README: Writing a plugin", () => {
  it("its TypeScript compiles under tsc --strict, and a create returning the wrong members does not", async () => {
    const [plugin, test, ...rest] = sectionBlocks("ts");
    expect(rest).toEqual([]);
    expect(test).toContain('from "./plugin.js"');
    mkdirSync(join(root, "src"));
    writeFileSync(join(root, "package.json"), JSON.stringify({ name: "readme-plugin", type: "module" }));
    writeFileSync(join(root, "src/plugin.ts"), plugin);
    writeFileSync(join(root, "src/plugin.test.ts"), test);
    writeFileSync(join(root, "src/contracts.ts"), CONTRACT_ERRORS);
    const dist = (p: string) => join(REPO, "packages", p);
    writeFileSync(
      join(root, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
          typeRoots: [join(REPO, "node_modules/@types")],
          // the packages as an installed project sees them: their built declarations
          paths: {
            "@voxelpipe/core": [dist("core/dist/index.d.ts")],
            "@voxelpipe/testing/vitest": [dist("testing/dist/vitest.d.ts")],
          },
        },
        include: ["src"],
      }),
    );
    // fails on any error, including an unused @ts-expect-error (a wrong member that compiles)
    const tsc = join(REPO, "node_modules/typescript/bin/tsc");
    const r = await run("node", [tsc, "-p", join(root, "tsconfig.json")]).catch((e) => e);
    expect(`${r.stdout ?? ""}${r.stderr ?? ""}`).toBe("");
  });

  it("its shell steps are the ones plugin-pack.test.ts runs", () => {
    const steps = sectionBlocks("sh")
      .join("\n")
      .split("\n")
      .map((l) => l.replace(/#.*/, "").trim())
      .filter(Boolean);
    const packTest = readFileSync(join(REPO, "packages/runner/test/plugin-pack.test.ts"), "utf8");
    // each README command, and how the test spells it
    const spelled: [RegExp, string][] = [
      [/^npx @voxelpipe\/runner new plugin @acme\/voxelpipe-plugin$/, '"new", "plugin", NAME'],
      [/^cd voxelpipe-plugin$/, 'join(root, "voxelpipe-plugin")'],
      [/^npm install$/, '"npm", ["install"'],
      [/^npm test$/, '"npm", ["test"]'],
      [/^npm pack$/, '"npm", ["pack"'],
      [
        /^npm install @voxelpipe\/runner \.\.\/voxelpipe-plugin\/acme-voxelpipe-plugin-0\.1\.0\.tgz$/,
        '"@voxelpipe/runner": "0.1.0"',
      ],
      [/^cp \.\.\/voxelpipe-plugin\/example\/pipeline\.yaml \.$/, '"example/pipeline.yaml"'],
      [/^npx voxelpipe list model$/, '["list", "model"]'],
      [/^npx voxelpipe run pipeline\.yaml$/, '["run", "pipeline.yaml"]'],
    ];
    expect(steps).toHaveLength(spelled.length);
    steps.forEach((s, i) => {
      expect(s).toMatch(spelled[i][0]);
      expect(packTest).toContain(spelled[i][1]);
    });
  });
});
