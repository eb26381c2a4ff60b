import { fileURLToPath } from "node:url";
import { CORE_API_VERSION, CORE_VERSION } from "./version.js";

/**
 * One @voxelpipe/core per process. Two copies (a plugin that bundles or installs its own core
 * instead of a peer dependency) mean two TensorFlow.js engines — tensors from one are unknown to
 * the other — and `instanceof VoxelpipeError` failing across them. Every copy of core registers
 * itself under a global symbol when it loads, and `definePlugin` stamps each plugin with the copy
 * that defined it, so loading a plugin defined by another copy is a diagnostic (VP153) naming both.
 */
export interface CoreInstance {
  /** unique per loaded copy of the module */
  readonly id: symbol;
  /** where that copy lives (its dist folder) */
  readonly location: string;
  readonly version: string;
  readonly api: number;
}

const KEY = Symbol.for("voxelpipe.core.instances");
type Global = typeof globalThis & { [KEY]?: CoreInstance[] };

function locationOf(url: string): string {
  try {
    return fileURLToPath(new URL("..", url));
  } catch {
    return url;
  }
}

/** this copy of core */
export const coreInstance: CoreInstance = Object.freeze({
  id: Symbol("voxelpipe.core"),
  location: locationOf(import.meta.url),
  version: CORE_VERSION,
  api: CORE_API_VERSION,
});

const g = globalThis as Global;
g[KEY] ??= [];
g[KEY].push(coreInstance);

/** every copy of core loaded in this process (this one included), in load order */
export function loadedCores(): readonly CoreInstance[] {
  return g[KEY] ?? [];
}
