import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO, tmp } from "./helpers.js";
import { sh, tarballName, writeLock } from "./plugin-packing.js";

/**
 * The README's "Writing a plugin", done as an outsider would, outside the repository: pack every
 * @voxelpipe package, scaffold a plugin with a scoped name, install, run its conformance test,
 * pack it, install it with the runner into another project and run a pipeline that uses it
 * through the installed `voxelpipe` bin. npm runs offline: the packed tarballs stand in for the
 * registry (plugin-packing.ts writes the lockfiles) and third-party packages come from npm's
 * cache, which installing the monorepo filled (`npm ci` in CI).
 * Measured on the 2-core dev machine (shared): 70-100 s (packing ~6 s, the plugin's install + test + pack
 * ~35-40 s, the app's install + list + run ~25 s).
 */
const WORKSPACES = ["core", "transforms", "losses", "metrics", "models", "runner", "testing", "web"];
const NAME = "@acme/voxelpipe-plugin";
const root = tmp("vp-plugin-pack-");
// two installed projects are ~23,000 files: removing them takes 10-30 s on a busy disk, so a
// detached rm does it after the test instead of inside it
afterAll(() => spawn("rm", ["-rf", root], { detached: true, stdio: "ignore" }).unref());

describe("an outside plugin package with a scoped name", () => {
  const packs = join(root, "packs");
  const pluginDir = join(root, "voxelpipe-plugin");
  const app = join(root, "app");

  it("packs every @voxelpipe package with its dist, types and a peer dependency on core for plugins", async () => {
    mkdirSync(packs);
    await sh(
      "npm",
      ["pack", "--silent", "--pack-destination", packs, ...WORKSPACES.flatMap((w) => ["-w", `packages/${w}`])],
      REPO,
    );
    for (const w of WORKSPACES) {
      const pkg = JSON.parse(readFileSync(join(REPO, "packages", w, "package.json"), "utf8"));
      expect(existsSync(join(packs, tarballName(pkg.name, pkg.version))), pkg.name).toBe(true);
      for (const [dep, range] of Object.entries({ ...pkg.dependencies, ...pkg.peerDependencies }))
        if (dep.startsWith("@voxelpipe/")) expect(range, `${pkg.name} → ${dep}`).not.toBe("*");
      if (["transforms", "losses", "metrics", "models", "testing"].includes(w)) {
        expect(pkg.peerDependencies?.["@voxelpipe/core"], pkg.name).toMatch(/^\^/);
        expect(pkg.dependencies?.["@voxelpipe/core"], pkg.name).toBeUndefined();
      }
    }
    const list = await sh("tar", ["tzf", join(packs, "voxelpipe-runner-0.1.0.tgz")], root);
    expect(list.stdout).toContain("package/templates/plugin/package.json.tmpl");
    expect(list.stdout).toContain("package/dist/cli/main.js");
    expect(list.stdout).not.toMatch(/package\/(src|test)\//);
  });

  it("is scaffolded by `voxelpipe new plugin`, installs, and passes its conformance test", async () => {
    const made = await sh("node", [join(REPO, "packages/runner/bin/voxelpipe.js"), "new", "plugin", NAME], root);
    expect(made.stdout).toContain(`created ${NAME} in voxelpipe-plugin`);
    const pkg = JSON.parse(readFileSync(join(pluginDir, "package.json"), "utf8"));
    expect(pkg.peerDependencies).toEqual({ "@voxelpipe/core": "^0.1.0" });
    writeLock(REPO, pluginDir, packs);
    await sh("npm", ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], pluginDir);
    const test = await sh("npm", ["test"], pluginDir);
    expect(test.stdout).toMatch(/Tests\s+11 passed \(11\)/);
    await sh("npm", ["pack", "--silent"], pluginDir);
    const files = (await sh("tar", ["tzf", tarballName(NAME, "0.1.0")], pluginDir)).stdout;
    expect(files).toContain("package/dist/index.js");
    expect(files).toContain("package/dist/index.d.ts");
  }, 240_000);

  it("is installed with the runner into a project and runs a pipeline through the installed bin", async () => {
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({
        name: "app",
        version: "1.0.0",
        private: true,
        dependencies: {
          "@voxelpipe/runner": "0.1.0",
          [NAME]: `file:../voxelpipe-plugin/${tarballName(NAME, "0.1.0")}`,
        },
      }),
    );
    copyFileSync(join(pluginDir, "example/pipeline.yaml"), join(app, "pipeline.yaml"));
    writeLock(REPO, app, packs);
    await sh("npm", ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], app);
    // one core in the project: the plugin's peer dependency is the runner's core
    expect(existsSync(join(app, "node_modules/@voxelpipe/core/package.json"))).toBe(true);
    expect(existsSync(join(app, "node_modules/@acme/voxelpipe-plugin/node_modules"))).toBe(false);
    expect(existsSync(join(app, "node_modules/@voxelpipe/runner/node_modules/@voxelpipe"))).toBe(false);
    const bin = join(app, "node_modules/.bin/voxelpipe");
    const listed = await sh(bin, ["list", "model"], app);
    expect(listed.stdout).toMatch(/acme\/Linear\s+@acme\/voxelpipe-plugin@0\.1\.0/);
    const ran = await sh(bin, ["run", "pipeline.yaml"], app);
    expect(ran.stdout).toMatch(/fit: run directory .*runs\/acme-example\/fit\//);
    const dir = ran.stdout.match(/fit: run directory (\S+)/)![1];
    expect(readdirSync(join(dir, "checkpoints")).sort()).toEqual(["best.safetensors", "last.safetensors"]);
    const env = JSON.parse(readFileSync(join(dir, "env.json"), "utf8"));
    expect(JSON.stringify(env)).toContain("@acme/voxelpipe-plugin");
  }, 240_000);
});
