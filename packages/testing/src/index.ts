/**
 * @voxelpipe/testing: the conformance kit for voxelpipe plugins. `describeConformance` (from
 * "@voxelpipe/testing/vitest") registers one vitest test per component and contract;
 * `conformanceChecks` gives the same checks to any other runner.
 */
export { useBackend } from "./backend.js";
export { checkArgs } from "./checks/args.js";
export { ConformanceError } from "./checks/common.js";
export { checkLoss } from "./checks/loss.js";
export { checkMetric, type MetricBatch } from "./checks/metric.js";
export { checkModel } from "./checks/model.js";
export { checkDataset, checkInferer, checkOptimizer, checkScheduler, checkStage } from "./checks/others.js";
export { checkTransform, syntheticSample } from "./checks/transform.js";
export {
  type ComponentCase,
  type ConformanceCheck,
  type ConformanceOptions,
  conformanceChecks,
  pluginChecks,
  type RunnableCheck,
  type SkippedCheck,
} from "./conformance.js";
export { buildEntry, registriesOf, type TestContextOptions, testContext } from "./context.js";
