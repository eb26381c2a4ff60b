import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { Codes, VoxelpipeError } from "@voxelpipe/core";

/** where `npm run build` (vite.viewer.config.ts) writes the self-contained viewer bundle (the same path from
 * src/ under test and from dist/ when installed: both sit one level below the package root) */
export const VIEWER_BUNDLE = fileURLToPath(new URL("../dist/viewer/voxelpipe-viewer.iife.js", import.meta.url));

let bundle: string | undefined;
let tag: string | undefined;

/** the viewer bundle's JavaScript (an IIFE defining the global `VoxelpipeViewer`) */
export function viewerBundle(): string {
  if (bundle !== undefined) return bundle;
  try {
    bundle = readFileSync(VIEWER_BUNDLE, "utf8");
  } catch {
    throw new VoxelpipeError({
      code: Codes.reportAssets,
      message: `the report viewer bundle is missing: ${VIEWER_BUNDLE}`,
      hint: "build the web package first: `npm run build` (or `npx turbo run build --filter=@voxelpipe/web...`)",
    });
  }
  return bundle;
}

/**
 * The viewer as HTML to inline at the end of a report's <body>: the bundle gzip-compressed and base64-encoded
 * (2.3 MB of JavaScript becomes 1.05 MB of text) in an inert <script> element, and a loader that inflates it
 * with the browser's DecompressionStream and evaluates it. No network, no CDN: works from file://.
 * The loader marks `<body data-vp-viewers="error">` when the browser cannot run it.
 */
export function viewerScriptTag(): string {
  if (tag !== undefined) return tag;
  const b64 = gzipSync(Buffer.from(viewerBundle(), "utf8"), { level: 9 }).toString("base64");
  const loader = `(async()=>{try{const t=document.getElementById("vp-viewer-bundle").textContent.trim();const b=Uint8Array.from(atob(t),c=>c.charCodeAt(0));const s=new Blob([b]).stream().pipeThrough(new DecompressionStream("gzip"));(0,eval)(await new Response(s).text());}catch(e){document.body.dataset.vpViewers="error";console.error("voxelpipe viewer:",e);}})();`;
  tag = `<script id="vp-viewer-bundle" type="application/gzip+base64">${b64}</script>\n<script>${inlineSafe(loader)}</script>`;
  return tag;
}

/**
 * Text made safe inside an HTML <script> element: `</script` and `<!--` would end or confuse the element, so
 * their `<` becomes the escape `\x3C`, the same character in every JavaScript string, template or regex literal.
 */
export function inlineSafe(js: string): string {
  return js.replace(/<(?=\/script|!--)/gi, "\\x3C");
}
