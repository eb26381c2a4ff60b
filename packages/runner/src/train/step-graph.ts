import {
  Codes,
  isReference,
  isVoxelpipeError,
  type Loss,
  type Model,
  type Slots,
  tf,
  VoxelpipeError,
  z,
} from "@voxelpipe/core";
import { type Expr, ExprSyntaxError, evalExpr, exprNames, parseExpr } from "./expr.js";

/**
 * The per-batch dataflow graph of a train stage, in YAML order:
 *   recon1: { call: model, in: image }                  # a model call
 *   l1:     { call: { type: L1Loss }, in: [recon1, gt] } # a loss component
 *   loss:   l1 + cl * l1                                 # arithmetic over named scalars
 * Inputs name batch keys or earlier nodes. Gradients flow through every term.
 */
export type StepNodeConfig = string | { call: string | Record<string, unknown>; in: string | string[] };

export function stepGraphSchema(s: Slots, modelNames: () => string[] = () => ["model"]) {
  // Long by design: the step graph's zod schema and its cross-node refinements, one place for the YAML it
  // validates.
  const loss = s.component("loss");
  // a valid loss entry comes out as the loss slot parsed it (built later without parsing again)
  const parsed = new WeakMap<object, unknown>();
  const call = z
    .any()
    .superRefine((v, ctx) => {
      if (typeof v === "string" && !isReference(v)) {
        const names = modelNames();
        if (!names.includes(v)) {
          ctx.addIssue({
            code: "custom",
            message: `"${v}" is not a model of this stage`,
            params: {
              vp: {
                code: Codes.stepGraph,
                message: `step calls "${v}", which is not a model of this stage`,
                expected: `one of: ${names.join(", ")}, or a loss entry { type: ... }`,
                got: JSON.stringify(v),
              },
            },
          });
        }
        return;
      }
      const r = loss.safeParse(v);
      if (r.success && typeof v === "object" && v !== null) parsed.set(v, r.data);
      if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue } as never);
    })
    .transform((v) => (typeof v === "object" && v !== null && parsed.has(v) ? parsed.get(v) : v));
  const node = z.union([
    z.string().describe("arithmetic over earlier scalar nodes, e.g. `l1 + cl * l1`"),
    z
      .object({
        call: call.describe("`model` (a model of this stage) or a loss entry { type: L1Loss, ... }"),
        in: z.union([z.string(), z.array(z.string())]).describe("batch keys or earlier node names"),
      })
      .strict(),
  ]);
  return z
    .record(z.string(), node)
    .superRefine((graph, ctx) => {
      const seen: string[] = [];
      for (const [name, n] of Object.entries(graph)) {
        if (typeof n === "string") {
          try {
            for (const ref of exprNames(parseExpr(n))) {
              if (!seen.includes(ref)) {
                ctx.addIssue({
                  code: "custom",
                  path: [name],
                  message: `unknown name ${ref}`,
                  params: {
                    vp: {
                      code: Codes.stepGraph,
                      message: `"${ref}" in \`${n}\` is not an earlier node of the step graph`,
                      expected: `one of: ${seen.join(", ") || "(no earlier nodes)"}`,
                      got: JSON.stringify(ref),
                      hint: "nodes run in the order written; define it above this line",
                    },
                  },
                });
              }
            }
          } catch (e) {
            if (!(e instanceof ExprSyntaxError)) throw e;
            ctx.addIssue({
              code: "custom",
              path: [name],
              message: e.message,
              params: {
                vp: {
                  code: Codes.stepGraph,
                  message: `cannot parse \`${n}\`: ${e.message} (column ${e.column})`,
                  expected: "arithmetic over node names and numbers with + - * / and parentheses",
                  got: JSON.stringify(n),
                },
              },
            });
          }
        }
        seen.push(name);
      }
    })
    .describe("the per-batch dataflow graph: model calls, losses and their arithmetic");
}

type CompiledNode =
  | { name: string; kind: "model"; model: string; inputs: string[] }
  | { name: string; kind: "loss"; loss: Loss; inputs: string[]; type: string }
  | { name: string; kind: "expr"; expr: Expr };

export class StepGraph {
  private constructor(
    readonly nodes: CompiledNode[],
    /** config path of the stage (`stages.fit`): errors name `stages.fit.step.<node>` */
    readonly at = "",
  ) {}

  /** `at`: the stage's config path (`stages.<name>`), so diagnostics name the full path of a step node */
  static async compile(
    config: Record<string, StepNodeConfig>,
    buildLoss: (entry: unknown, name: string) => Promise<Loss>,
    at = "",
  ): Promise<StepGraph> {
    const nodes: CompiledNode[] = [];
    for (const [name, n] of Object.entries(config)) {
      if (typeof n === "string") nodes.push({ name, kind: "expr", expr: parseExpr(n) });
      else {
        const inputs = Array.isArray(n.in) ? n.in : [n.in];
        if (typeof n.call === "string" && !isReference(n.call))
          nodes.push({ name, kind: "model", model: n.call, inputs });
        else {
          const type = typeof n.call === "string" ? n.call : typeof n.call.type === "string" ? n.call.type : "loss";
          nodes.push({ name, kind: "loss", loss: await buildLoss(n.call, name), inputs, type });
        }
      }
    }
    return new StepGraph(nodes, at);
  }

  /** config path of a step node: `stages.<stage>.step.<node>` */
  nodePath(node: string): string {
    return `${this.at ? `${this.at}.` : ""}step.${node}`;
  }

  /** names of nodes that produce scalars (losses and expressions): logged each step */
  get scalarNames(): string[] {
    return this.nodes.filter((n) => n.kind !== "model").map((n) => n.name);
  }

  /** batch keys the graph reads */
  get inputKeys(): string[] {
    const produced = new Set(this.nodes.map((n) => n.name));
    return [...new Set(this.nodes.flatMap((n) => (n.kind === "expr" ? [] : n.inputs)).filter((k) => !produced.has(k)))];
  }

  /** run the graph on a batch; must be called inside tf.tidy / variableGrads */
  run(
    batch: Record<string, tf.Tensor>,
    models: Record<string, Model>,
    opts: { training: boolean; until?: string; seed?: number },
  ): Map<string, tf.Tensor> {
    // Long by design: the graph interpreter: one branch per node kind (model, loss, expression) sharing the
    // tensor environment and the error guard; split, both would be passed everywhere.
    const env = new Map<string, tf.Tensor>(Object.entries(batch));
    const get = (k: string, node: string) => {
      const t = env.get(k);
      if (!t) {
        throw new VoxelpipeError({
          code: Codes.stepGraph,
          message: `step node "${node}" reads "${k}", which is neither a batch key (${Object.keys(batch).join(", ")}) nor an earlier node`,
          path: this.nodePath(node),
          got: JSON.stringify(k),
        });
      }
      return t;
    };
    // an error thrown inside a component names the component and its step node
    const guarded = <T>(n: CompiledNode, what: string, f: () => T): T => {
      try {
        return f();
      } catch (e) {
        if (isVoxelpipeError(e)) throw e;
        throw new VoxelpipeError({
          code: Codes.componentFailed,
          message: `${what} failed: ${String((e as Error)?.message ?? e).split("\n")[0]}`,
          path: this.nodePath(n.name),
          hint: "the inputs of this step node (shapes, dtypes, value ranges) may not be what the component expects",
        });
      }
    };
    for (const n of this.nodes) {
      if (n.kind === "model") {
        const model = models[n.model];
        if (!model) {
          throw new VoxelpipeError({
            code: Codes.stepGraph,
            message: `step node "${n.name}" calls model "${n.model}", which this stage did not build`,
            path: this.nodePath(n.name),
          });
        }
        const x = get(n.inputs[0], n.name);
        env.set(
          n.name,
          guarded(n, `model "${n.model}" (step node "${n.name}")`, () =>
            model.apply(x, {
              training: opts.training,
              // one seed per model call of the pass
              seed: opts.seed === undefined ? undefined : mixSeed(opts.seed, this.nodes.indexOf(n)),
            }),
          ),
        );
      } else if (n.kind === "loss") {
        const inputs = n.inputs.map((k) => get(k, n.name));
        const what = `loss ${n.type} (step node "${n.name}")`;
        const out = guarded(n, what, () => n.loss.compute(inputs));
        if (!(out instanceof tf.Tensor) || out.rank !== 0) {
          throw new VoxelpipeError({
            code: Codes.componentFailed,
            message: `${what} returned ${out instanceof tf.Tensor ? `a tensor of shape [${out.shape.join(", ")}]` : typeof out}, not a scalar`,
            path: this.nodePath(n.name),
            expected: "a scalar tensor (shape [])",
            got: out instanceof tf.Tensor ? `shape [${out.shape.join(", ")}]` : String(out),
            hint: "a loss must reduce over the batch (e.g. reduction: mean)",
          });
        }
        env.set(n.name, out);
      } else {
        env.set(
          n.name,
          guarded(n, `step expression "${n.name}"`, () =>
            evalExpr<tf.Tensor>(n.expr, (k) => get(k, n.name), {
              num: (v) => tf.scalar(v),
              add: tf.add,
              sub: tf.sub,
              mul: tf.mul,
              div: tf.div,
              neg: tf.neg,
            }),
          ),
        );
      }
      if (opts.until === n.name) break;
    }
    return env;
  }
}

/** a 32-bit seed from a base seed and integers (splitmix-style mixing; deterministic everywhere) */
export function mixSeed(base: number, ...parts: number[]): number {
  let h = base >>> 0;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x9e3779b1) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
  }
  return h >>> 0;
}
