import { base64ToBytes, VIEWER_ATTRIBUTE, type ViewerCasePayload } from "./payload.js";
import { mountViewer, type ViewerHandle } from "./viewer.js";

/**
 * Mount a viewer on every `[data-vp-viewer]` element of `doc` from the JSON payload inside it. One failing
 * viewer (no WebGL 2, a bad volume) marks its host `data-vp-state="error"` and leaves the others running;
 * `document.body.dataset.vpViewers` ends as "ready" or "error" once all have settled.
 */
export async function mountAll(doc: Document = document): Promise<ViewerHandle[]> {
  const hosts = [...doc.querySelectorAll<HTMLElement>(`[${VIEWER_ATTRIBUTE}]`)];
  doc.body.dataset.vpViewers = "loading";
  const handles: ViewerHandle[] = [];
  let failed = false;
  for (const host of hosts) {
    const script = host.querySelector('script[type="application/json"]');
    try {
      const p = JSON.parse(script?.textContent ?? "null") as ViewerCasePayload | null;
      if (!p) throw new Error("no viewer payload");
      script?.remove();
      const vol = (b64: string | undefined, name: string) =>
        b64 ? { name: `${name}.nii.gz`, bytes: base64ToBytes(b64) } : undefined;
      handles.push(
        await mountViewer(host, {
          title: p.title,
          classes: p.classes,
          image: vol(p.image, "image")!,
          prediction: vol(p.prediction, "prediction"),
          groundTruth: vol(p.groundTruth, "ground-truth"),
          window: p.window,
          notes: p.notes,
          errors: p.errors,
          caption: p.caption,
        }),
      );
      // the static slices stay for print and no-JavaScript readers; with a working viewer they fold away
      const statics = host.nextElementSibling;
      if (statics instanceof HTMLDetailsElement && statics.classList.contains("vp-statics")) statics.open = false;
    } catch (e) {
      failed = true;
      host.dataset.vpState = "error";
      console.error("voxelpipe viewer:", e);
    }
  }
  // kept for the console and for browser tests, before the page says it is ready
  if (doc.defaultView) (doc.defaultView as Window & { voxelpipeViewers?: ViewerHandle[] }).voxelpipeViewers = handles;
  doc.body.dataset.vpViewers = failed ? "error" : "ready";
  return handles;
}
