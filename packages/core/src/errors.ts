/**
 * Errors users see. Every problem voxelpipe reports is a Diagnostic: a stable code, a message,
 * where it happened (file:line:col and the dotted config path), what was expected, what was found
 * and a hint. A run stops on a DiagnosticsError carrying all problems found in one pass.
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
  pipelineStructure: "VP010",
  unknownComponent: "VP100",
  ambiguousComponent: "VP101",
  duplicateComponent: "VP102",
  registryFrozen: "VP103",
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
  override: "VP160",
  stepGraph: "VP170",
  backend: "VP180",
  runtime: "VP200",
  data: "VP210",
  nonFinite: "VP220",
  /** --resume: the run directory was made with another configuration (fingerprint differs) */
  runMismatch: "VP230",
  /** another live process holds the run directory's lock */
  runLocked: "VP231",
  /** a file declares more data than the configured limit allows (memory bound) */
  tooLarge: "VP240",
  /** evaluate: a prediction or label is not a segmentation (non-integer values, too many labels) */
  notSegmentation: "VP250",
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
