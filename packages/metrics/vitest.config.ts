import { defineConfig } from "vitest/config";
import { gpuTestEnv } from "../../test-utils/vitest-env.js";

// WebGPU tests run on SwiftShader where no GPU driver is set up (see test-utils/vitest-env.ts)
const gpuEnv = gpuTestEnv();

export default defineConfig({
  test: { include: ["test/**/*.test.ts"], testTimeout: 300_000, hookTimeout: 300_000, env: gpuEnv },
});
