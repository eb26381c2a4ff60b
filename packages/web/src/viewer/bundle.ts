/**
 * Entry of the self-contained viewer bundle inlined into every report.html (vite.viewer.config.ts builds it as
 * one IIFE exposing `VoxelpipeViewer`): mounts every `[data-vp-viewer]` host once the page has loaded. Its
 * handles end on `window.voxelpipeViewers` (console, browser tests).
 */
import { mountAll } from "./mount.js";

export * from "./index.js";

if (typeof document !== "undefined") {
  const start = () => void mountAll(document);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}
