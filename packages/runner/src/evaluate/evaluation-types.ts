// The metric names and result shapes of an evaluation, apart from the code that computes them:
// the CLI's help text and the report page need them without loading NIfTI reading and the metrics.

export const evaluationMetrics = ["dice", "hd95", "hd", "nsd"] as const;
export type EvaluationMetric = (typeof evaluationMetrics)[number];

export type OrganValues = Record<string, number | null>;

export interface EvaluationResult {
  cases: { pred: string; label: string; metrics: Partial<Record<EvaluationMetric, OrganValues>> }[];
  mean: Partial<Record<EvaluationMetric, OrganValues & { mean: number | null }>>;
  /** organ names in class order */
  organs: string[];
  /** the class value of each organ (same order as `organs`) */
  classValues?: number[];
  /** per metric: how many organs the mean is over (those with a value in some case) */
  counted: Partial<Record<EvaluationMetric, number>>;
}
