import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";

// WebGPU tests (*.webgpu.test.ts, engine-webgpu) run where no GPU driver is set up on SwiftShader:
// Debian's chromium ships its Vulkan ICD. VK_ADD_DRIVER_FILES adds it beside any real GPU's
// driver (VK_ICD_FILENAMES would replace them), only for the test processes, only when unset.
const swiftshader = "/usr/lib/chromium/vk_swiftshader_icd.json";
const gpuEnv: Record<string, string> = {};
if (!process.env.VK_ICD_FILENAMES && !process.env.VK_ADD_DRIVER_FILES && existsSync(swiftshader))
  gpuEnv.VK_ADD_DRIVER_FILES = swiftshader;
if (!process.env.XDG_RUNTIME_DIR) gpuEnv.XDG_RUNTIME_DIR = "/tmp";

export default defineConfig({
  test: { include: ["test/**/*.test.ts"], testTimeout: 300_000, hookTimeout: 300_000, env: gpuEnv },
});
