/**
 * What the CLI loads before it answers: commands that need no tensors must not load TensorFlow.js (`--version`)
 * or the plugins and stage engines (`--help`), and `validate` must not load the trainer, prediction, evaluation or the reports. This
 * checks STRUCTURE — which modules were resolved, recorded by a module-resolution hook — never time: the
 * figures are in docs/architecture.md ("Start-up"). ~4 s (three CLI processes).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { builtOrSkip, REPO } from "../../../test-utils/gates.js";

const BIN = fileURLToPath(new URL("../bin/voxelpipe.js", import.meta.url));
const built = builtOrSkip(fileURLToPath(new URL("../dist/cli/main.js", import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), "vp-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// a resolve hook that appends every resolved URL to $VP_TRACE; registered with --import
const hook = join(dir, "hook.mjs");
writeFileSync(
  hook,
  `import { appendFileSync } from "node:fs";
export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  appendFileSync(process.env.VP_TRACE, r.url + "\\n");
  return r;
}
`,
);
const register = join(dir, "register.mjs");
writeFileSync(
  register,
  `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`,
);

/** run the CLI; its stdout and the URLs of every module it resolved */
function trace(args: string[]): { code: number | null; out: string; modules: string[] } {
  const file = join(dir, `trace-${args[0].replace(/\W/g, "")}.txt`);
  writeFileSync(file, "");
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(register).href, BIN, ...args], {
    cwd: REPO,
    env: { ...process.env, VP_TRACE: file },
    encoding: "utf8",
  });
  return { code: r.status, out: r.stdout, modules: readFileSync(file, "utf8").split("\n").filter(Boolean) };
}

const matching = (modules: string[], re: RegExp) => [...new Set(modules.filter((m) => re.test(m)))];

describe.skipIf(!built.ok)(built.title("CLI start-up loads only what the command uses"), () => {
  it("--version loads no package code and no TensorFlow.js", () => {
    const r = trace(["--version"]);
    expect(r.code).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    expect(r.out.trim()).toBe(pkg.version);
    expect(r.modules.length, "the module trace recorded the CLI's own modules").toBeGreaterThan(0);
    expect(matching(r.modules, /\/packages\/[^/]+\/dist\/|@tensorflow/)).toEqual([]);
  });

  it("--help loads neither the plugins nor the stage engines", () => {
    const r = trace(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("validate");
    // the CLI's own modules did load (the hook works)
    expect(matching(r.modules, /runner\/dist\/cli\/main\.js$/)).toHaveLength(1);
    expect(
      matching(
        r.modules,
        /runner\/dist\/(registries|train\/|report\/|infer\/infer-run|run\/executor)|packages\/(transforms|models|losses|metrics|web)\/dist\//,
      ),
    ).toEqual([]);
  });

  it("validate loads the stage definitions, not the trainer, prediction, evaluation or reports", () => {
    const r = trace(["validate", "pipelines/demo.yaml", "--no-data-checks"]);
    expect(r.code).toBe(0);
    expect(matching(r.modules, /runner\/dist\/train\/train-stage\.js$/)).toHaveLength(1);
    expect(
      matching(
        r.modules,
        /runner\/dist\/(train\/(train-run|loop|replicas\/)|infer\/infer-run|evaluate\/(evaluate-run|report)|report\/|run\/executor)|packages\/web\/dist\/|node_modules\/pngjs\//,
      ),
    ).toEqual([]);
  });
});
