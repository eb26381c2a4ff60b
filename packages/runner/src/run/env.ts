import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { BackendSelection, CompiledPipeline, Registries } from "@voxelpipe/core";

const require = createRequire(import.meta.url);

function versionOf(pkg: string): string | null {
  try {
    return JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), "utf8")).version;
  } catch {
    return null;
  }
}

/** env.json: what produced this run (versions, backend, seed, plugins), for reproducibility. */
export function environment(p: CompiledPipeline, registries: Registries, backend: BackendSelection) {
  return {
    pipeline: p.name,
    file: p.file,
    seed: p.seed,
    backend: {
      name: backend.name,
      tfjs: backend.tfBackend,
      skipped: backend.skipped,
      // webgpu: the adapter computing (vendor, architecture, description, software or not, limits)
      ...(backend.adapter ? { adapter: backend.adapter } : {}),
    },
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    packages: Object.fromEntries(
      [
        "@voxelpipe/core",
        "@voxelpipe/runner",
        "@voxelpipe/transforms",
        "@voxelpipe/models",
        "@voxelpipe/losses",
        "@voxelpipe/metrics",
        "@tensorflow/tfjs-core",
        "@tensorflow/tfjs-backend-wasm",
        "zod",
        "yaml",
      ].map((n) => [n, versionOf(n)]),
    ),
    plugins: registries.plugins.map((pl) => ({
      name: pl.meta.name,
      version: pl.meta.version,
      namespace: pl.namespace,
      source: pl.source,
    })),
  };
}
