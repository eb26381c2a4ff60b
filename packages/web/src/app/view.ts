/**
 * The result in the report viewer (packages/web/src/viewer: NiiVue, organ colour table, legend): the
 * input image with the predicted label map as a layer. One viewer per input; a new input remounts it.
 */
import { mountViewer, organColor, type ViewerHandle } from "../viewer/index.js";

export const classColour = organColor;

let current: ViewerHandle | undefined;

export async function showResult(
  host: HTMLElement,
  input: { name: string; bytes: Uint8Array },
  prediction: { name: string; bytes: Uint8Array },
  classes: string[],
): Promise<void> {
  current?.dispose();
  current = undefined;
  host.replaceChildren();
  current = await mountViewer(host, {
    title: input.name,
    classes,
    image: { name: input.name, bytes: input.bytes },
    prediction: { name: prediction.name, bytes: prediction.bytes },
  });
}
