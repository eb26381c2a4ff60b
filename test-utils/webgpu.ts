/**
 * The webgpu backend for a test file: selected (and prepared, unless `prepare: false`) when the file loads. No
 * adapter skips the file with the reason in its title; under CI it fails the file (SwiftShader is there: `.ci/run`
 * installs Debian's chromium, whose Vulkan driver vitest-env.ts adds).
 */
import { engine, selectBackend } from "@voxelpipe/core";
import { isCI } from "./gates.js";

export interface WebgpuGate {
  ok: boolean;
  /** the title with " [skipped: why]" when there is no adapter */
  title(name: string): string;
}

export async function webgpuOrSkip(opts: { prepare?: boolean } = {}): Promise<WebgpuGate> {
  let why = "";
  try {
    await selectBackend("webgpu");
    if (opts.prepare !== false) engine.prepareBackend("webgpu");
  } catch (e) {
    if (isCI()) throw e;
    why = (e as Error).message;
  }
  return { ok: why === "", title: (name) => (why ? `${name} [skipped: ${why}]` : name) };
}
