import type { Logger, SafeTensor } from "@voxelpipe/core";
import { readSafetensors, writeSafetensors } from "@voxelpipe/core";
import type { Network } from "../nets/common.js";
import type { ParamInfo } from "../params/param-store.js";
import { fromTorchLayout, toTorchLayout } from "./layout.js";
import { modelTensors } from "./tensors.js";

/**
 * MONAI ≥ 1.4 TransformerBlocks create cross-attention modules that never run (monai-semantics §3.2);
 * their keys are dropped on import and never exported.
 */
export function isUnusedMonaiKey(key: string): boolean {
  return /(^|\.)blocks\.\d+\.(norm_cross_attn|cross_attn)\./.test(key);
}

/**
 * Convert a MONAI/PyTorch state dict (names unchanged, PyTorch layouts) to our layouts. Keys with
 * no entry in `info` (not parameters of the target) are passed through unchanged: the caller reports
 * them as unexpected. Unused cross-attention keys are dropped and listed in `ignored`.
 */
export function importMonaiStateDict(
  stateDict: Map<string, SafeTensor>,
  info: ReadonlyMap<string, ParamInfo>,
  rename: (k: string) => string = (k) => k,
): { tensors: Map<string, SafeTensor>; ignored: string[] } {
  const tensors = new Map<string, SafeTensor>();
  const ignored: string[] = [];
  for (const [k, t] of stateDict) {
    if (isUnusedMonaiKey(k)) {
      ignored.push(k);
      continue;
    }
    const target = rename(k);
    const pi = info.get(target);
    tensors.set(k, pi ? fromTorchLayout(t, pi.layout, k) : t);
  }
  return { tensors, ignored };
}

/** Our parameters as a MONAI state dict (PyTorch layouts, MONAI key names), float32. */
export async function exportMonaiStateDict(model: Network): Promise<Map<string, SafeTensor>> {
  const ours = await modelTensors(model.params);
  const out = new Map<string, SafeTensor>();
  for (const [k, t] of ours) {
    const pi = model.paramInfo.get(k);
    out.set(k, pi ? toTorchLayout(t, pi.layout, k) : t);
  }
  return out;
}

/** Write a MONAI-layout safetensors file that `model.load_state_dict(safetensors.torch.load_file(p), strict=False)` accepts. */
export async function saveMonaiSafetensors(path: string, model: Network, logger?: Logger): Promise<void> {
  const sd = await exportMonaiStateDict(model);
  await writeSafetensors(path, sd, { format: "pt", source: `voxelpipe ${model.component}` });
  logger?.info(`wrote ${sd.size} MONAI-layout tensors to ${path}`);
}

/** Read a MONAI-layout safetensors file into our layouts for `model`. */
export async function loadMonaiSafetensors(path: string, model: Network): Promise<Map<string, SafeTensor>> {
  const { tensors } = await readSafetensors(path);
  return importMonaiStateDict(tensors, model.paramInfo).tensors;
}
