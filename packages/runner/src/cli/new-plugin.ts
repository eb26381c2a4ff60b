import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CORE_API_VERSION, Codes, packageVersion, VoxelpipeError } from "@voxelpipe/core";
import type { Command } from "commander";
import type { CliIO } from "./io.js";

/** the scaffold's files, shipped with the runner package (`files` includes templates/) */
export const PLUGIN_TEMPLATE_DIR = fileURLToPath(new URL("../../templates/plugin", import.meta.url));

/**
 * Tool versions the scaffold's package.json asks for: the ones voxelpipe itself is built and
 * tested with (the monorepo's root devDependencies; a test keeps them equal).
 */
export const SCAFFOLD_TOOL_VERSIONS = { typescript: "5.9.3", vitest: "4.1.12", "@types/node": "20.19.43" } as const;

/** an npm package name, optionally scoped (lowercase, as npm requires for new packages) */
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

/** a namespace from a package name: the scope (`@acme/x` → acme), else the name without a `voxelpipe-` prefix */
export function namespaceFor(name: string): string {
  const raw = name.startsWith("@") ? name.slice(1, name.indexOf("/")) : name.replace(/^voxelpipe-(plugin-)?/, "");
  const ns = raw
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[^a-z]+/, "");
  return ns || "plugin";
}

export interface NewPluginOptions {
  /** folder to create (default: the name without its scope, in the cwd) */
  dir?: string;
  /** namespace of the components (default from the name) */
  namespace?: string;
}

/** Write the scaffold of a plugin package; returns the folder. Refuses to write into a non-empty folder. */
export function scaffoldPlugin(name: string, cwd: string, o: NewPluginOptions = {}): string {
  if (!PACKAGE_NAME.test(name) || name.length > 214) {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: `"${name}" is not an npm package name`,
      expected: "lowercase letters, digits, - . _ ~, optionally scoped: my-plugin or @acme/voxelpipe-plugin",
      got: JSON.stringify(name),
    });
  }
  const namespace = o.namespace ?? namespaceFor(name);
  if (!/^[a-z][a-z0-9_-]*$/.test(namespace)) {
    throw new VoxelpipeError({
      code: Codes.invalidValue,
      message: `namespace "${namespace}" must be lowercase letters, digits, - or _ (starting with a letter)`,
      path: "--namespace",
    });
  }
  const dir = resolve(cwd, o.dir ?? basename(name));
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new VoxelpipeError({
      code: Codes.cannotWrite,
      message: `${dir} exists and is not an empty folder`,
      hint: "choose another folder with --dir, or remove it",
    });
  }
  const version = packageVersion(import.meta.url);
  const tarball = `${name.replace(/^@/, "").replace("/", "-")}-0.1.0.tgz`;
  const fill = (text: string) =>
    text
      .replaceAll("__PACKAGE_NAME__", name)
      .replaceAll("__NAMESPACE__", namespace)
      .replaceAll("__VOXELPIPE_VERSION__", version)
      .replaceAll("__TYPESCRIPT_VERSION__", SCAFFOLD_TOOL_VERSIONS.typescript)
      .replaceAll("__VITEST_VERSION__", SCAFFOLD_TOOL_VERSIONS.vitest)
      .replaceAll("__TYPES_NODE_VERSION__", SCAFFOLD_TOOL_VERSIONS["@types/node"])
      .replaceAll("__TARBALL__", tarball)
      .replaceAll("__CORE_API__", String(CORE_API_VERSION));
  const copy = (from: string, to: string) => {
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from)) {
      const src = join(from, entry);
      if (statSync(src).isDirectory()) {
        copy(src, join(to, entry));
        continue;
      }
      // `.tmpl` files are templates npm would otherwise treat specially (package.json, .gitignore)
      const target = join(to, entry === "gitignore.tmpl" ? ".gitignore" : entry.replace(/\.tmpl$/, ""));
      if (/\.(ts|json|md|ya?ml|tmpl)$/.test(entry)) writeFileSync(target, fill(readFileSync(src, "utf8")));
      else copyFileSync(src, target);
    }
  };
  copy(PLUGIN_TEMPLATE_DIR, dir);
  return dir;
}

export function registerNew(program: Command, io: CliIO): void {
  const cmd = program.command("new").description("create a new project part from a template");
  cmd
    .command("plugin")
    .description(
      "scaffold a plugin package (a transform, a loss, a model, the conformance test, an example pipeline, a README)",
    )
    .argument("<name>", "npm package name, e.g. @acme/voxelpipe-plugin")
    .option("--dir <folder>", "folder to create (default: the name without its scope)")
    .option("--namespace <ns>", "namespace of the components (default: the scope, or the name)")
    .action((name: string, o: NewPluginOptions) => {
      const dir = scaffoldPlugin(name, io.cwd, o);
      const rel = relative(io.cwd, dir) || ".";
      io.out(
        [
          `created ${name} in ${rel}`,
          "",
          `  cd ${rel}`,
          "  npm install",
          "  npm run build && npm test",
          "  npm pack            # or npm publish",
          "",
          `then, in a project with @voxelpipe/runner installed: npm install ${name} and name it in a pipeline: plugins: ["${name}"]`,
        ].join("\n"),
      );
    });
}
