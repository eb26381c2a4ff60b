import { mountPanels, type PanelsHandle } from "./panels.js";
import { base64ToBytes, VIEWER_ATTRIBUTE, type ViewerCasePayload, type ViewerPanelsPayload } from "./payload.js";
import { mountViewer, type ViewerHandle } from "./viewer.js";

const volume = (b64: string | undefined, name: string) =>
  b64 ? { name: `${name}.nii.gz`, bytes: base64ToBytes(b64) } : undefined;

async function mountOne(host: HTMLElement, p: ViewerCasePayload | ViewerPanelsPayload) {
  if ("kind" in p && p.kind === "panels")
    return mountPanels(host, {
      title: p.title,
      panels: p.panels.map((q, i) => ({ name: q.name, role: q.role, source: volume(q.image, `panel-${i}`)! })),
      window: p.window,
      caption: p.caption,
    });
  const c = p as ViewerCasePayload;
  return mountViewer(host, {
    title: c.title,
    classes: c.classes,
    image: volume(c.image, "image")!,
    prediction: volume(c.prediction, "prediction"),
    groundTruth: volume(c.groundTruth, "ground-truth"),
    window: c.window,
    notes: c.notes,
    errors: c.errors,
    caption: c.caption,
  });
}

/**
 * Mount a viewer on every `[data-vp-viewer]` element of `doc` from the JSON payload inside it (a case, or side-by-
 * side panels). One failing viewer (no WebGL 2, a bad volume) marks its host `data-vp-state="error"` and leaves
 * the others running; `document.body.dataset.vpViewers` ends as "ready" or "error" once all have settled.
 */
export async function mountAll(doc: Document = document): Promise<(ViewerHandle | PanelsHandle)[]> {
  const hosts = [...doc.querySelectorAll<HTMLElement>(`[${VIEWER_ATTRIBUTE}]`)];
  doc.body.dataset.vpViewers = "loading";
  const handles: (ViewerHandle | PanelsHandle)[] = [];
  let failed = false;
  for (const host of hosts) {
    const script = host.querySelector('script[type="application/json"]');
    try {
      const p = JSON.parse(script?.textContent ?? "null") as ViewerCasePayload | ViewerPanelsPayload | null;
      if (!p) throw new Error("no viewer payload");
      script?.remove();
      handles.push(await mountOne(host, p));
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
  if (doc.defaultView)
    (doc.defaultView as Window & { voxelpipeViewers?: (ViewerHandle | PanelsHandle)[] }).voxelpipeViewers = handles;
  doc.body.dataset.vpViewers = failed ? "error" : "ready";
  return handles;
}
