import { engine, selectBackend, tf } from "@voxelpipe/core";

/**
 * Select the backend once (the checks compare exact values, so one backend per suite) and prepare it as the
 * runner does: gradients registered, the engine's kernel fixes installed (idempotent).
 */
export async function useBackend(name: "cpu" | "wasm"): Promise<void> {
  if (tf.getBackend() !== name) await selectBackend(name);
  engine.prepareBackend(name);
}
