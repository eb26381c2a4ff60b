import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CORE_API_VERSION } from "@voxelpipe/core";
import { afterAll, describe, expect, it } from "vitest";
import { SCAFFOLD_TOOL_VERSIONS, scaffoldPlugin } from "../src/cli/new-plugin.js";
import { cli, REPO, tmp } from "./helpers.js";

/**
 * Loading plugins as installed packages: a project folder outside the repository whose
 * node_modules holds @voxelpipe/core (a link, as npm would install it) and small plugin packages
 * written here, each showing one way loading goes right or wrong.
 */
const project = tmp("vp-plugin-load-");
afterAll(() => rmSync(project, { recursive: true, force: true }));
writeFileSync(join(project, "package.json"), JSON.stringify({ name: "proj", private: true, type: "module" }));
mkdirSync(join(project, "node_modules/@voxelpipe"), { recursive: true });
symlinkSync(join(REPO, "packages/core"), join(project, "node_modules/@voxelpipe/core"), "dir");

function pkg(name: string, manifest: Record<string, unknown>, files: Record<string, string>): void {
  const dir = join(project, "node_modules", name);
  for (const [f, text] of Object.entries({
    ...files,
    "package.json": JSON.stringify({ name, version: "1.2.3", type: "module", ...manifest }),
  })) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
}

/** a plugin module: a loss (and a transform) whose behaviour the test chooses */
const pluginModule = (ns: string, body: string, extra = "") => `
import { defineLoss, definePlugin, defineTransform, tf, z } from "@voxelpipe/core";
export const Loss = defineLoss({ name: "Loss", description: "a test loss", args: z.object({}), create: () => (${body}) });
export const Touch = defineTransform({
  name: "Touch", description: "a test transform", args: z.object({ fail: z.boolean().default(false).describe("throw") }),
  create: (a) => (${"{"} random: false, apply: (s) => { if (a.fail) throw new Error("touched a missing key"); return s; } }),
});
const plugin = definePlugin({ meta: { name: "@acme/${ns}", version: "1.2.3", namespace: "${ns}" }, components: [Loss, Touch] });
${extra}
export default ${extra ? "stamped" : "plugin"};
`;
const scalar = "{ compute: ([p, t]) => tf.mean(tf.square(tf.sub(p, t))) }";

// exports with only an "import" condition: require.resolve cannot load it, ESM resolution can
pkg(
  "@acme/good",
  { exports: { ".": { types: "./index.d.ts", import: "./dist/index.js" } } },
  { "dist/index.js": pluginModule("good", scalar) },
);
pkg("@acme/cjs-only", { exports: { ".": { require: "./index.cjs" } } }, { "index.cjs": "module.exports = {};" });
pkg("@acme/unbuilt", { exports: "./dist/index.js" }, {});
pkg("@acme/not-a-plugin", { exports: "./index.js" }, { "index.js": "export const answer = 42;" });
pkg(
  "@acme/future",
  { exports: "./index.js" },
  {
    "index.js": `import { definePlugin } from "@voxelpipe/core";
export default definePlugin({ meta: { name: "@acme/future", version: "9.0.0", namespace: "future", api: 99 }, components: [] });`,
  },
);
// a plugin defined by another copy of core (a regular dependency instead of a peer): simulated by its stamp
pkg(
  "@acme/own-core",
  { exports: "./index.js" },
  {
    "index.js": pluginModule(
      "owncore",
      scalar,
      `const copy = { id: Symbol("copy"), location: "/elsewhere/node_modules/@voxelpipe/core/", version: "0.1.0", api: 1 };
export const stamped = { meta: plugin.meta, components: plugin.components, [Symbol.for("voxelpipe.plugin.core")]: copy };`,
    ),
  },
);
pkg(
  "@acme/vector-loss",
  { exports: "./index.js" },
  { "index.js": pluginModule("vec", "{ compute: ([p, t]) => tf.sub(p, t) }") },
);
pkg(
  "@acme/throwing-loss",
  { exports: "./index.js" },
  {
    "index.js": pluginModule("throws", '{ compute: () => { throw new TypeError("cannot read shape of undefined"); } }'),
  },
);
pkg("@acme/no-compute", { exports: "./index.js" }, { "index.js": pluginModule("nocompute", "{ computee: 42 }") });

function pipeline(plugin: string, lossType: string, transforms = "[]"): string {
  const file = join(project, `p-${plugin.replace(/\W/g, "")}-${lossType.replace(/\W/g, "")}-${transforms.length}.yaml`);
  writeFileSync(
    file,
    `version: 1
name: t
seed: 1
backend: cpu
threads: 1
plugins: ["${plugin}"]
stages:
  fit:
    kind: train
    data: { type: SyntheticRegression, features: 2, train: 8, val: 4 }
    transforms: { train: ${transforms} }
    model: { type: MLP, in_features: 2, hidden: [3] }
    batch_size: 4
    epochs: 1
    step:
      pred: { call: model, in: x }
      loss: { call: { type: ${lossType} }, in: [pred, y] }
    optimizer: { type: Adam, lr: 1.0e-2 }
`,
  );
  return file;
}
// the MLP comes from the repository's example plugin, installed (linked) as a package
mkdirSync(join(project, "node_modules/@voxelpipe-example"));
symlinkSync(join(REPO, "plugins/example"), join(project, "node_modules/@voxelpipe-example/plugin"), "dir");
const withMlp = (file: string) =>
  writeFileSync(
    file,
    readFileSync(file, "utf8").replace(/plugins: \["([^"]+)"\]/, 'plugins: ["$1", "@voxelpipe-example/plugin"]'),
  );

async function validate(plugin: string) {
  const file = pipeline(plugin, "MSELoss");
  withMlp(file);
  return cli(["validate", "--no-data-checks", file], project);
}

describe("plugins: entries", () => {
  it("load a scoped package whose exports has only an import condition (never read as an @reference)", async () => {
    const r = await validate("@acme/good");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it.each([
    ["@acme/missing", "VP154", /not installed where this pipeline is/, /npm install @acme\/missing/],
    ["@acme/cjs-only", "VP155", /installed .* but has no entry an ES module import can load/, /"import"/],
    ["@acme/unbuilt", "VP155", /dist\/index\.js does not exist/, /npm run build/],
    ["@acme/not-a-plugin", "VP156", /is not a voxelpipe plugin: it exports answer/, /definePlugin/],
    ["@acme/future", "VP152", /built for voxelpipe core API 99; this core .* provides API 1/, /matching|rebuild/],
    ["@acme/own-core", "VP153", /second copy of @voxelpipe\/core .*\/elsewhere\//, /peerDependency/],
  ])("%s is %s with a hint", async (name, code, message, hint) => {
    const r = await validate(name);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[${code}]`);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(hint);
    expect(r.stderr).toContain("plugins[0]");
  });
});

describe("errors inside plugin components", () => {
  const runIt = async (plugin: string, loss: string, transforms?: string) => {
    const file = pipeline(plugin, loss, transforms);
    withMlp(file);
    return cli(["run", file, "--runs-dir", join(project, "runs")], project);
  };

  it("a thrown error names the component, its plugin and config path (VP201), not an internal error", async () => {
    const r = await runIt("@acme/throwing-loss", "throws/Loss");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error\[VP201\]: loss throws\/Loss \(plugin @acme\/throws@1\.2\.3\) failed in compute\(\): cannot read shape/,
    );
    expect(r.stderr).not.toContain("internal error");
  });

  it("a transform throwing in apply is named with its config path", async () => {
    const r = await runIt("@acme/good", "good/Loss", "[{ type: good/Touch, fail: true }]");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /transform good\/Touch \(plugin @acme\/good@1\.2\.3\) failed in apply\(\): touched a missing key/,
    );
    expect(r.stderr).toContain("stages.fit.transforms.train");
  });

  it("a loss that does not return a scalar is a located diagnostic", async () => {
    const r = await runIt("@acme/vector-loss", "vec/Loss");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[VP20\d\].*not a scalar/);
    expect(r.stderr).not.toContain("internal error");
  });

  it("a create that returns something else than its kind's contract is VP202 before anything calls it", async () => {
    const r = await runIt("@acme/no-compute", "nocompute/Loss");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error\[VP202\]: loss nocompute\/Loss \(plugin @acme\/nocompute\) does not implement the loss contract: has no compute\(\)/,
    );
  });
});

describe("list and describe", () => {
  it("find plugins installed in the current project's package.json dependencies", async () => {
    const app = join(project, "app");
    mkdirSync(join(app, "node_modules/@acme"), { recursive: true });
    symlinkSync(join(project, "node_modules/@acme/good"), join(app, "node_modules/@acme/good"), "dir");
    symlinkSync(join(project, "node_modules/@voxelpipe"), join(app, "node_modules/@voxelpipe"), "dir");
    writeFileSync(
      join(project, "node_modules/@acme/good/package.json"),
      JSON.stringify({
        ...JSON.parse(readFileSync(join(project, "node_modules/@acme/good/package.json"), "utf8")),
        peerDependencies: { "@voxelpipe/core": "^0.1.0" },
      }),
    );
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", dependencies: { "@acme/good": "1.2.3" } }));
    const list = await cli(["list", "loss"], app);
    expect(list.stdout).toMatch(/good\/Loss\s+@acme\/good@1\.2\.3/);
    const d = await cli(["describe", "good/Touch"], app);
    expect(d.stdout).toContain("good/Touch (transform, plugin @acme/good@1.2.3)");
    // in this monorepo the example plugin is a workspace package
    expect((await cli(["describe", "MLP"], REPO)).stdout).toContain(
      "example/MLP (model, plugin @voxelpipe-example/plugin@",
    );
    const none = await cli(["describe", "Nope"], project);
    expect(none.stderr).toMatch(/--pipeline <file>/);
  });
});

describe("voxelpipe new plugin", () => {
  it("asks for the tool versions voxelpipe is built with", () => {
    const root = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).devDependencies;
    for (const [name, v] of Object.entries(SCAFFOLD_TOOL_VERSIONS)) expect(root[name], name).toBe(v);
  });

  it("refuses a name npm would refuse and a folder that is not empty", async () => {
    expect((await cli(["new", "plugin", "Bad Name"], project)).stderr).toContain("is not an npm package name");
    const dir = scaffoldPlugin("@acme/twice", project);
    const index = readFileSync(join(dir, "src/index.ts"), "utf8");
    expect(index).toContain('namespace: "acme"');
    expect(index).toContain(`api: ${CORE_API_VERSION},`);
    for (const f of readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()))
      expect(readFileSync(join(f.parentPath, f.name), "utf8"), f.name).not.toMatch(/__[A-Z_]+__/);
    expect((await cli(["new", "plugin", "@acme/twice"], project)).stderr).toContain("is not an empty folder");
  });
});
