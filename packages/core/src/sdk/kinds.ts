/** The kinds of components a plugin can contribute. One registry per kind. */
export const componentKinds = [
  "transform",
  "model",
  "loss",
  "metric",
  "optimizer",
  "scheduler",
  "inferer",
  "dataset",
  "stage",
] as const;

export type ComponentKind = (typeof componentKinds)[number];

export function isComponentKind(s: string): s is ComponentKind {
  return (componentKinds as readonly string[]).includes(s);
}
