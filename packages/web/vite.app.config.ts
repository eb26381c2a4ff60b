/**
 * The browser app `voxelpipe export web` copies into a site: src/app → dist/app (index.html, one
 * bundle, wasm/*.wasm). Paths are relative (base "./"), so a site works under any URL path.
 *
 * The app imports @voxelpipe/core, /transforms and /models, whose Node-only branches (reading files,
 * node:zlib, worker threads) stay in the bundle as Vite's empty browser stubs; the browser paths never
 * reach them (the app hands LoadImage a decoded volume and inflates gzip itself), and no module calls
 * a Node API at import time. The "externalized for browser compatibility" notes about them are
 * therefore expected and filtered from the build output.
 */
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(here, "dist/app");
const wasmDist = dirname(
  createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"),
);

/** tfjs-backend-wasm's binaries next to the bundle (the app points setWasmPaths at wasm/) */
function wasmBinaries(): Plugin {
  return {
    name: "voxelpipe-wasm-binaries",
    apply: "build",
    writeBundle() {
      mkdirSync(join(outDir, "wasm"), { recursive: true });
      for (const f of readdirSync(wasmDist).filter((f) => f.endsWith(".wasm")))
        copyFileSync(join(wasmDist, f), join(outDir, "wasm", f));
    },
  };
}

export default defineConfig({
  root: resolve(here, "src/app"),
  base: "./",
  logLevel: "warn",
  plugins: [wasmBinaries()],
  build: {
    outDir,
    emptyOutDir: true,
    target: "es2022",
    // one app bundle: tfjs and its backends dominate it, the weights are a separate file
    chunkSizeWarningLimit: 8192,
    rolldownOptions: {
      onwarn(warning, warn) {
        if (/externalized for browser compatibility/.test(warning.message)) return;
        warn(warning);
      },
    },
  },
});
