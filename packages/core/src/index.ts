// tfjs-core's node bundle registers no gradients, and its per-file ESM build cannot be loaded by
// Node (extensionless imports). The @tensorflow/tfjs node bundle registers them against the same
// tfjs-core instance; importing it once here gives every package differentiable ops.
import "@tensorflow/tfjs";

// one tfjs instance for the whole process: plugins use this re-export, never their own copy
export * as tf from "@tensorflow/tfjs-core";
export { z } from "zod";
export * from "./backend.js";
export * from "./config/index.js";
export type * from "./contracts/components.js";
export * from "./contracts/volume.js";
export * from "./di/components.js";
export * from "./di/container.js";
export * from "./di/tokens.js";
export * as engine from "./engine/index.js";
export * from "./errors.js";
export * from "./io/atomic.js";
export * from "./io/safetensors.js";
export * from "./logger.js";
export * from "./rng/mt19937.js";
export * from "./rng/streams.js";
export type * from "./sdk/context.js";
export * from "./sdk/define.js";
export * from "./sdk/kinds.js";
export * from "./sdk/registry.js";
export * from "./sdk/stage.js";
export * from "./suggest.js";
