import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * The report viewer as ONE self-contained file: dist/viewer/voxelpipe-viewer.iife.js, an IIFE exposing the global
 * `VoxelpipeViewer` with NiiVue and every dependency inlined (no chunks, no CSS file, no CDN), so report.html can
 * carry it in an inline <script> and work from file://. `src/report-assets.ts` reads it for the reports.
 */
export default defineConfig({
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("./dist/viewer", import.meta.url)),
    // tsc writes the Node build of src/viewer/*.ts into the same folder: keep it
    emptyOutDir: false,
    target: "es2022",
    minify: true,
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 4096,
    lib: {
      entry: fileURLToPath(new URL("./src/viewer/bundle.ts", import.meta.url)),
      name: "VoxelpipeViewer",
      formats: ["iife"],
      fileName: () => "voxelpipe-viewer.iife.js",
    },
  },
});
