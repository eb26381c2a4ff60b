export * from "./cli/io.js";
export { buildProgram, main } from "./cli/main.js";
export * from "./data/index.js";
export * from "./registries.js";
export * from "./run/executor.js";
export * from "./run/metrics-log.js";
export * from "./run/run-dir.js";
export * from "./train/checkpoint.js";

export * from "./train/expr.js";
export * from "./train/step-graph.js";
export * from "./train/step-session.js";
export * from "./train/train-stage.js";
