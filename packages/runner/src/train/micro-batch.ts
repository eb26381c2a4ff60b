import { tf } from "@voxelpipe/core";
import type { Expr } from "./expr.js";
import type { StepGraph } from "./step-graph.js";

/**
 * Micro-batching: a batch of B samples runs as passes of at most m samples, and the gradient of
 * the batch is the sum, in micro-batch order, of each pass's gradient of `weight × objective`.
 * Exact when the objective is a linear combination of losses that are means (weight m_k / B) or
 * sums (weight 1) of per-sample terms; anything else couples the samples and must run whole.
 */

export interface MicroBatch {
  /** first sample of the batch in this pass */
  start: number;
  size: number;
  /** factor of this pass's objective so that the passes' gradients sum to the batch's */
  weight: number;
}

/** the passes of a batch of n samples, at most m each, in order */
export function microBatches(n: number, m: number, reduction: "mean" | "sum"): MicroBatch[] {
  const out: MicroBatch[] = [];
  for (let start = 0; start < n; start += m) {
    const size = Math.min(m, n - start);
    out.push({ start, size, weight: reduction === "mean" ? size / n : 1 });
  }
  return out;
}

/** the samples [start, start + size) of every batch tensor (views of the batch dim, copied by tfjs) */
export function sliceBatch(batch: Record<string, tf.Tensor>, mb: MicroBatch): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [k, t] of Object.entries(batch)) {
    out[k] =
      mb.start === 0 && mb.size === t.shape[0]
        ? t.clone()
        : tf.slice(t, [mb.start, ...t.shape.slice(1).map(() => 0)], [mb.size, ...t.shape.slice(1)]);
  }
  return out;
}

/**
 * Whether the objective can be split into micro-batches, and with which reduction; otherwise the
 * reason, naming the node that couples the samples.
 */
export function objectiveReduction(
  graph: StepGraph,
  objective: string,
): { reduction: "mean" | "sum" } | { coupled: string } {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const reductions = new Set<"mean" | "sum">();
  const visit = (name: string): string | undefined => {
    const n = byName.get(name);
    if (!n || n.kind === "model") return undefined; // a batch key or a model output: per sample
    if (n.kind === "loss") {
      if (!n.loss.batchReduction) return `loss "${name}" couples the samples of a batch`;
      reductions.add(n.loss.batchReduction);
      return undefined;
    }
    return linear(n.expr, name);
  };
  // linear in the losses: sums, differences, scaling by constants
  const linear = (e: Expr, node: string): string | undefined => {
    switch (e.op) {
      case "num":
        return `"${node}" adds a constant`;
      case "ref":
        return visit(e.name);
      case "neg":
        return linear(e.arg, node);
      case "+":
      case "-":
        return linear(e.left, node) ?? linear(e.right, node);
      case "*":
        if (e.left.op === "num") return linear(e.right, node);
        if (e.right.op === "num") return linear(e.left, node);
        return `"${node}" multiplies two losses`;
      case "/":
        if (e.right.op === "num") return linear(e.left, node);
        return `"${node}" divides by a loss`;
    }
  };
  const why = visit(objective);
  if (why) return { coupled: why };
  if (reductions.size > 1) return { coupled: `"${objective}" mixes mean and sum losses` };
  return { reduction: reductions.has("sum") ? "sum" : "mean" };
}
