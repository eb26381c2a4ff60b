/**
 * Errors users see. Every problem voxelpipe reports is a Diagnostic: a stable code, a message,
 * where it happened (file:line:col and the dotted config path), what was expected, what was found
 * and a hint. Compilation collects every problem found in one pass; a run stops on a VoxelpipeError carrying them.
 */

export interface SourceLocation {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
  /** number of characters to underline in a code frame */
  length?: number;
}

export interface Diagnostic {
  /** stable machine-readable code, e.g. VP100 */
  code: string;
  message: string;
  /** dotted config path, e.g. stages.train.model.type */
  path?: string;
  loc?: SourceLocation;
  expected?: string;
  got?: string;
  hint?: string;
}

/** Stable error codes. Never renumber: users and scripts match on them. */
export const Codes = {
  yamlSyntax: "VP001",
  fileNotFound: "VP002",
  fileInvalid: "VP003",
  /** `extends:` / pipeline argument that is not a regular .yaml/.yml file under the size cap */
  notPipelineFile: "VP004",
  /** a run directory or output cannot be written (disk full, read-only, permissions) */
  cannotWrite: "VP005",
  pipelineStructure: "VP010",
  /** `__proto__`, `constructor` or `prototype` as a key or path segment */
  forbiddenKey: "VP012",
  /** a config crossed one of the limits in config/limits.ts */
  limitExceeded: "VP013",
  unknownComponent: "VP100",
  ambiguousComponent: "VP101",
  duplicateComponent: "VP102",
  registryFrozen: "VP103",
  /** a spatial transform that declares no inverse, in a chain that is inverted (the infer stage's) */
  spatialWithoutInverse: "VP105",
  /** a recorded spatial op that no transform of the chain undoes */
  notInvertible: "VP106",
  /** after undoing every record the grid is not the loaded one: a transform changed it without recording */
  unrecordedSpatial: "VP107",
  /** a transform's inverse returned another grid than the one its op was applied to, or read a malformed record */
  badInverse: "VP108",
  unknownArgument: "VP110",
  invalidValue: "VP111",
  missingArgument: "VP112",
  danglingReference: "VP120",
  referenceCycle: "VP121",
  stageCycle: "VP130",
  unknownStage: "VP131",
  missingNeeds: "VP132",
  interpolation: "VP140",
  plugin: "VP150",
  /** a plugin outside the pipeline's project tree, not allowed by a flag */
  untrustedPlugin: "VP151",
  /** a plugin built for another voxelpipe core plugin API (or declaring none) */
  pluginApi: "VP152",
  /** a plugin defined by a second copy of @voxelpipe/core (not a peer dependency): two TensorFlow.js engines */
  coreCopies: "VP153",
  /** a `plugins:` package name that is not installed where the pipeline is */
  pluginNotInstalled: "VP154",
  /** a plugin package that is installed but has no entry Node's ESM resolution can load */
  pluginEntry: "VP155",
  /** a module that loads but exports no plugin */
  notAPlugin: "VP156",
  override: "VP160",
  stepGraph: "VP170",
  backend: "VP180",
  /** the webgpu backend was named but no usable WebGPU adapter/device could be made */
  gpuAdapter: "VP280",
  /** a synchronous read (dataSync) of a tensor on webgpu in Node, which only reads asynchronously */
  gpuSyncRead: "VP281",
  /** a sweep metric that no stage publishes */
  unknownMetric: "VP190",
  runtime: "VP200",
  /** an error thrown inside a component (construction or call), with its name and config path */
  componentFailed: "VP201",
  /** a component's `create` returned something that is not its kind's contract (e.g. a transform without apply) */
  componentContract: "VP202",
  data: "VP210",
  nonFinite: "VP220",
  /** some variants of a sweep failed (each is in the summary with its diagnostic) */
  sweepFailed: "VP270",
  /** an executor (`--executor`) that is unknown, or options it does not take (e.g. --shards without sharding) */
  executorOptions: "VP271",
  /** Slurm's client commands (sbatch, squeue) are missing, or no cluster answers */
  slurmUnavailable: "VP272",
  /** sbatch refused a submission (its message is quoted) */
  slurmSubmit: "VP273",
  /** the runs folder is not what every task sees (not writable, or not the same path on the compute node) */
  sharedFilesystem: "VP274",
  /** `sweep status`: the target is neither a sweep folder nor a pipeline with a sweep */
  notASweep: "VP275",
  /** sharded inference: cases missing after every shard ended (listed) */
  shardsIncomplete: "VP276",
  /** --resume: the run directory was made with another configuration (fingerprint differs) */
  runMismatch: "VP230",
  /** another live process holds the run directory's lock */
  runLocked: "VP231",
  /** a file declares more data than the configured limit allows (memory bound) */
  tooLarge: "VP240",
  /** evaluate: a prediction or label is not a segmentation (non-integer values, too many labels) */
  notSegmentation: "VP250",
  /** a training step does not fit the backend's memory (estimated before it starts, or trapped at run time) */
  outOfMemory: "VP260",
  /** a train stage's execution plan is impossible (e.g. micro-batches asked of a loss that couples samples) */
  executionPlan: "VP261",
  /** report.html: the viewer bundle of @voxelpipe/web is not built (run `npm run build`) */
  reportAssets: "VP290",
  /** export web: a component of the inference chain that the browser app does not bundle (a plugin's) */
  webUnsupported: "VP295",
  /** export web: the browser app of @voxelpipe/web is not built, or the output folder is unusable */
  webSite: "VP296",
  /** the web app: manifest.json or the weights are missing, damaged or not this model's */
  webManifest: "VP297",
  /** the web app: the input cannot be fetched or is not a NIfTI image */
  webInput: "VP298",
  /** voxelpipe serve: the folder is not a site, or the port cannot be bound */
  serve: "VP299",
} as const;

export class VoxelpipeError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic | Diagnostic[]) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics];
    super(list.map((d) => `${d.code}: ${d.message}`).join("\n"));
    this.name = "VoxelpipeError";
    this.diagnostics = list;
  }
  get code(): string {
    return this.diagnostics[0]?.code ?? Codes.runtime;
  }
}

/** Convenience constructor for a single diagnostic error. */
export function fail(code: string, message: string, extra: Omit<Diagnostic, "code" | "message"> = {}): never {
  throw new VoxelpipeError({ code, message, ...extra });
}

export function isVoxelpipeError(e: unknown): e is VoxelpipeError {
  return e instanceof VoxelpipeError;
}
