/**
 * The tensor backend of the page: @voxelpipe/core's selectBackend (the Node code; in a browser
 * `auto` tries webgpu → webgl → wasm → cpu) and the same engine preparation the runner does (the wasm
 * kernel fixes matter for correctness). `?backend=wasm|webgpu|webgl|cpu` names one.
 */
import "@tensorflow/tfjs-backend-webgl"; // registers webgl, which selectBackend finds in a browser
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import {
  type BackendChoice,
  type BackendSelection,
  backendNames,
  engine,
  type Logger,
  selectBackend,
} from "@voxelpipe/core";

/** the backend a URL asks for (`auto` when none or an unknown one is given: selectBackend reports unknown names) */
export function backendChoice(params: URLSearchParams): BackendChoice {
  const b = params.get("backend");
  return b && (b === "auto" || (backendNames as readonly string[]).includes(b)) ? (b as BackendChoice) : "auto";
}

export async function startBackend(choice: BackendChoice, logger: Logger): Promise<BackendSelection> {
  // the .wasm binaries ship in the site's wasm/ folder (vite.app.config.ts copies them)
  setWasmPaths(new URL("wasm/", document.baseURI).href);
  const sel = await selectBackend(choice, logger);
  // the engine's kernel fixes, as in Node (without them tfjs-webgpu's rank-5 shaders do not compile and leave
  // outputs unwritten); no gradients: the page never trains and does not bundle them
  engine.prepareBackend(sel.tfBackend, { inferenceOnly: true });
  return sel;
}
