import { type ExecutionPlan, type PlanInput, planExecution } from "./memory-plan.js";
import { objectiveReduction } from "./micro-batch.js";
import type { StepGraph } from "./step-graph.js";
import type { StepSpec } from "./step-runner.js";

export interface StepPlanInput extends Omit<PlanInput, "modelCalls" | "coupled"> {
  graph: StepGraph;
  objective: string;
}

/**
 * How a train step runs, the one place train runs and step sessions decide it: the memory plan for
 * the step graph (its model calls; a coupling loss forbids micro-batches), gradient checkpointing set
 * on the model as planned, and the step spec the step runners take.
 */
export function planStep({ graph, objective, ...input }: StepPlanInput): { plan: ExecutionPlan; spec: StepSpec } {
  const split = objectiveReduction(graph, objective);
  const plan = planExecution({
    ...input,
    modelCalls: graph.nodes.filter((n) => n.kind === "model").length,
    coupled: "coupled" in split ? split.coupled : undefined,
  });
  input.model.setGradientCheckpointing?.(plan.checkpointing);
  const reduction = "reduction" in split ? split.reduction : "mean";
  return { plan, spec: { graph, objective, microBatch: plan.microBatch, reduction } };
}
