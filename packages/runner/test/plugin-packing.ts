import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * The environment for npm/node children: the variables `npm run` sets for its scripts stripped
 * (npm_config_local_prefix would point the child at the monorepo), except where npm's cache is.
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) || /^npm_config_cache$/i.test(k)) env[k] = v;
  return { ...env, NO_COLOR: "1", FORCE_COLOR: "0", npm_config_update_notifier: "false", npm_config_fund: "false" };
}

/** run a command; on failure the error carries its output */
export async function sh(cmd: string, args: string[], cwd: string, timeout = 180_000) {
  try {
    return await run(cmd, args, { cwd, env: cleanEnv(), timeout, maxBuffer: 64 * 2 ** 20 });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed: ${x.message}\n${x.stdout ?? ""}\n${x.stderr ?? ""}`);
  }
}

/** the tarball `npm pack` writes for a package */
export function tarballName(name: string, version: string): string {
  return `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
}

/**
 * A package-lock.json for `project` in which the @voxelpipe/* packages resolve to the packed
 * tarballs in `packs` and every other package to what the monorepo's lock pins (registry URL and
 * integrity). With it `npm install --offline` needs nothing but npm's cache, which the monorepo's
 * own install filled: the tarballs stand in for the registry and no package metadata is fetched.
 * npm prunes what the project does not need.
 */
export function writeLock(repo: string, project: string, packs: string): void {
  const lock = JSON.parse(readFileSync(join(repo, "package-lock.json"), "utf8")) as {
    packages: Record<string, Record<string, unknown> & { name?: string; version?: string; link?: boolean }>;
  };
  const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
  const packages: Record<string, unknown> = {
    "": {
      name: pkg.name,
      version: pkg.version,
      dependencies: pkg.dependencies,
      devDependencies: pkg.devDependencies,
      peerDependencies: pkg.peerDependencies,
    },
  };
  for (const [key, v] of Object.entries(lock.packages)) {
    if (key === "" || v.link) continue;
    const nm = key.indexOf("node_modules/");
    if (nm < 0) {
      // a workspace: installed from its tarball
      if (!v.name?.startsWith("@voxelpipe/")) continue;
      const { devDependencies: _dev, ...rest } = v;
      const tgz = join(packs, tarballName(v.name, String(v.version)));
      packages[`node_modules/${v.name}`] = { ...rest, resolved: `file:${relative(project, tgz)}` };
    } else if (nm === 0) packages[key] = v;
    else {
      // a package nested under a workspace folder: nested under that package once installed
      const owner = lock.packages[key.slice(0, nm - 1)]?.name;
      if (owner) packages[`node_modules/${owner}/${key.slice(nm)}`] = v;
    }
  }
  writeFileSync(
    join(project, "package-lock.json"),
    `${JSON.stringify({ name: pkg.name, version: pkg.version, lockfileVersion: 3, requires: true, packages }, null, 2)}\n`,
  );
}
