/**
 * What a test needs that a user's clone may lack — the read-only ../shared folder, a built `dist/`, a Debian
 * tool — and what happens when it is missing: a user's run skips with a title that says so; under CI the test
 * file FAILS, because a parity suite that silently skips in CI proves nothing.
 *
 *   const need = sharedOrSkip("reference/fixtures/unetr.safetensors");
 *   describe.skipIf(!need.ok)(need.title("UNETR parity with MONAI 1.4"), () => { … });
 *
 * The check runs when the test file is loaded, so under CI the error fails the file before any test runs.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

type Env = Record<string, string | undefined>;

/** `CI` set to anything but "", "0" or "false" (GitHub, GitLab and `.ci/run` set CI=1 or CI=true) */
export function isCI(env: Env = process.env): boolean {
  const v = env.CI?.trim().toLowerCase();
  return v !== undefined && v !== "" && v !== "0" && v !== "false";
}

/** the repository root (this folder's parent) */
export const REPO = fileURLToPath(new URL("..", import.meta.url));

/** the shared data folder: `VOXELPIPE_SHARED`, else `../shared` beside the repository */
export function sharedDir(env: Env = process.env): string {
  return env.VOXELPIPE_SHARED || join(REPO, "..", "shared");
}

export const SHARED = sharedDir();
/** MONAI 1.4 reference fixtures (`reference/fixtures/README.md` says how each was made) */
export const FIXTURES = join(SHARED, "reference", "fixtures");

/** an absolute path inside the shared folder */
export function sharedPath(...parts: string[]): string {
  return join(SHARED, ...parts);
}

export interface Gate {
  /** everything the tests need is present: run them */
  readonly ok: boolean;
  /** `base` when the tests run; `base [skipped: … not found; …]` when they do not */
  title(base: string): string;
}

/** thrown (at test-file load) when CI is set and something a test needs is missing */
export class MissingUnderCI extends Error {
  override name = "MissingUnderCI";
}

function gate(missing: string[], fix: string, env: Env): Gate {
  if (missing.length === 0) return { ok: true, title: (base) => base };
  const what = missing.join(", ");
  if (isCI(env))
    throw new MissingUnderCI(
      `CI is set and ${what} ${missing.length === 1 ? "is" : "are"} missing: ${fix}. ` +
        "Under CI these tests fail instead of skipping (unset CI to skip them on a local clone).",
    );
  return { ok: false, title: (base) => `${base} [skipped: ${what} not found; ${fix}]` };
}

/** the shared files (paths relative to the shared folder) the tests read */
export function sharedOrSkip(...files: string[]): Gate;
export function sharedOrSkip(opts: { env: Env }, ...files: string[]): Gate;
export function sharedOrSkip(first?: string | { env: Env }, ...rest: string[]): Gate {
  const env = typeof first === "object" ? first.env : process.env;
  const files = typeof first === "string" ? [first, ...rest] : rest;
  const dir = sharedDir(env);
  const missing = (files.length ? files : ["."]).map((f) => join(dir, f)).filter((p) => !existsSync(p));
  return gate(missing, "put the shared data folder beside the repository or set VOXELPIPE_SHARED", env);
}

/** a build output the tests load (worker threads run `dist/…/worker.js`, not the TypeScript sources) */
export function builtOrSkip(file: string, env: Env = process.env): Gate {
  return gate(existsSync(file) ? [] : [file], "run `npm run build` first", env);
}

/**
 * A Debian tool the tests run: `path` is the first of `candidates` that exists. Under CI a missing tool throws
 * (`.ci/run` installs what the tests need).
 */
export function toolOrSkip(
  name: string,
  candidates: string[],
  debianPackage: string,
  env: Env = process.env,
): Gate & { path?: string } {
  const path = candidates.find((p) => existsSync(p));
  return { ...gate(path ? [] : [name], `apt-get install ${debianPackage}`, env), path };
}

/** all of `gates` open; a skipped title names every missing thing */
export function allOf(...gates: Gate[]): Gate {
  const closed = gates.filter((g) => !g.ok);
  return { ok: closed.length === 0, title: (base) => closed.reduce((t, g) => g.title(t), base) };
}
