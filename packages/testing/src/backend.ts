import { selectBackend, tf } from "@voxelpipe/core";

/** select the backend once (the checks compare exact values, so one backend per suite) */
export async function useBackend(name: "cpu" | "wasm"): Promise<void> {
  if (tf.getBackend() === name) return;
  await selectBackend(name);
}
