/**
 * What a report (or the export-web site) hands the viewer. Pure types and helpers: no DOM, no Node APIs, so the
 * runner (Node) writes these and the browser bundle reads them.
 */

/** One case for the viewer, as inlined in report.html: volumes are base64 NIfTI (gzip) bytes on one grid. */
export interface ViewerCasePayload {
  title: string;
  /** class names by label value (index 0 = background) */
  classes: string[];
  image: string;
  prediction?: string;
  groundTruth?: string;
  /** the image's display window in its own units (the quantised CT's range) */
  window?: [number, number];
  /** per class index, a short text shown in the legend (for example "Dice 0.91 · HD95 3.2 mm") */
  notes?: Record<string, string>;
  /** open with the false-positive / false-negative layer on (worst cases) */
  errors?: boolean;
  /** what was done to fit the report (crop, stride, 8-bit), shown under the viewer */
  caption?: string;
}

/**
 * Several volumes on one grid side by side, crosshairs in step (the SSL report: original, corrupted views,
 * reconstructions). Each image is base64 NIfTI (gzip).
 */
export interface ViewerPanelsPayload {
  kind: "panels";
  title: string;
  panels: { name: string; role: string; image: string }[];
  /** one display window for all panels (the original's range) */
  window?: [number, number];
  caption?: string;
}

/** the element attribute a report uses to mark a viewer host; its first `<script type="application/json">` child holds the payload */
export const VIEWER_ATTRIBUTE = "data-vp-viewer";

/** base64 → bytes, in the browser (atob) or Node (Buffer is not used so the module stays DOM/Node neutral) */
export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
