/** The viewer's CSS, injected once by the bundle (so the report stays one file with one inline script). */
export const VIEWER_CSS = `
.vp-viewer{border:1px solid #ccc;border-radius:4px;padding:8px;margin:8px 0;background:#fafafa;font:13px/1.4 system-ui,sans-serif}
.vp-viewer h4{margin:0 0 6px;font-size:14px}.vp-viewer [hidden]{display:none!important}
.vp-bar{display:flex;flex-wrap:wrap;gap:4px 16px;align-items:center;margin-bottom:6px}
.vp-bar fieldset{border:0;padding:0;margin:0;display:flex;gap:8px;align-items:center}
.vp-bar legend{float:left;font-weight:600;margin-right:6px;padding:0}
.vp-bar label{white-space:nowrap;cursor:pointer}
.vp-main{display:flex;gap:8px;align-items:stretch}
.vp-canvas{flex:1 1 auto;min-width:0;position:relative;background:#000}
.vp-canvas canvas{position:absolute;inset:0;width:100%;height:100%;outline:none}
.vp-legend{flex:0 0 260px;max-height:100%;overflow:auto;margin:0;padding:0;list-style:none}
.vp-legend li{display:grid;grid-template-columns:14px 1fr;column-gap:6px;align-items:center;padding:1px 4px;border-radius:3px;cursor:pointer}
.vp-legend li:hover{background:#eee}.vp-legend li.vp-sel{background:#dde8f5;font-weight:600}
.vp-legend li.vp-absent{color:#999}
.vp-legend .vp-sw{width:12px;height:12px;border:1px solid #0003}
.vp-legend small{grid-column:2;color:#666;font-size:11px}.vp-legend small:empty{display:none}
.vp-legend .vp-key{cursor:default;font-size:12px;color:#444}
.vp-slices{display:flex;flex-wrap:wrap;gap:4px 18px;margin-top:6px;align-items:center}
.vp-slices label{display:flex;gap:6px;align-items:center}
.vp-slices input{width:180px}
.vp-slices output{font-variant-numeric:tabular-nums;min-width:5em}
.vp-status{color:#555;font-variant-numeric:tabular-nums;min-height:1.4em;margin-top:4px}
.vp-caption{color:#777;font-size:12px;margin-top:2px}
.vp-error{color:#a00;padding:12px}
.vp-panels{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:8px}
.vp-panels figure{margin:0}.vp-panels figcaption{font-size:12px;color:#444;text-align:center}
@media (max-width:800px){.vp-main{flex-direction:column}.vp-legend{flex-basis:auto}}
`;

let injected = false;
export function injectStyles(doc: Document): void {
  if (injected || doc.getElementById("vp-viewer-css")) return;
  const s = doc.createElement("style");
  s.id = "vp-viewer-css";
  s.textContent = VIEWER_CSS;
  doc.head.appendChild(s);
  injected = true;
}
