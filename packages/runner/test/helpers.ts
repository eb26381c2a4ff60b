import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bufferIO } from "../src/cli/io.js";
import { main } from "../src/cli/main.js";

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

export function tmp(prefix = "vp-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** run the CLI in-process; returns exit code and captured output */
export async function cli(args: string[], cwd = REPO) {
  const io = bufferIO(cwd);
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}
