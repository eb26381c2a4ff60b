/**
 * Environment for test processes that use WebGPU in Node: where no GPU driver is set up, Dawn runs on SwiftShader,
 * whose Vulkan driver ships with Debian's chromium. VK_ADD_DRIVER_FILES adds it beside any real GPU's driver
 * (VK_ICD_FILENAMES would replace them); set only for the test processes, only when unset.
 */
import { existsSync } from "node:fs";

const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";

export function gpuTestEnv(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  if (!env.VK_ICD_FILENAMES && !env.VK_ADD_DRIVER_FILES && existsSync(SWIFTSHADER))
    out.VK_ADD_DRIVER_FILES = SWIFTSHADER;
  if (!env.XDG_RUNTIME_DIR) out.XDG_RUNTIME_DIR = "/tmp";
  return out;
}
