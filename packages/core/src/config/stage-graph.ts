/**
 * Checks over the whole pipeline after each stage parsed: the `needs` graph (dependency order,
 * cycles with their path) and every `@` reference (dangling paths, unknown stage outputs, outputs
 * used without `needs`, reference cycles and over-long chains).
 */
import { Codes, type Diagnostic } from "../errors.js";
import type { StageDefinition } from "../sdk/stage.js";
import { didYouMean } from "../suggest.js";
import { unknownPath } from "./interpolate.js";
import { ConfigLimits, forbiddenKeyDiagnostic, isForbiddenKey, limitDiagnostic } from "./limits.js";
import { formatPath, getAt, isPlainObject, type Path } from "./paths.js";
import { isReference, parseReference, type Reference } from "./references.js";
import type { LocationMap } from "./source.js";

/** what the graph checks need of a stage */
export interface StageNode {
  kind: string;
  needs: string[];
  def: Pick<StageDefinition, "outputs">;
}

/** Dependency order of stages; a cycle is reported with its path. */
export function topoOrder(stages: Map<string, StageNode>, locs: LocationMap, diagnostics: Diagnostic[]): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const reported = new Set<string>();
  const visit = (name: string, stack: string[]) => {
    const s = state.get(name);
    if (s === "done") return;
    if (s === "visiting") {
      const cycle = [...stack.slice(stack.indexOf(name)), name];
      const key = [...cycle].sort().join(",");
      if (!reported.has(key)) {
        reported.add(key);
        const from = cycle[cycle.length - 2];
        const idx = stages.get(from)?.needs.indexOf(name) ?? -1;
        diagnostics.push({
          code: Codes.stageCycle,
          message: `stage cycle: ${cycle.join(" -> ")}`,
          path: formatPath(["stages", from, "needs", idx]),
          loc: locs.get(["stages", from, "needs", idx])?.value ?? locs.get(["stages", from])?.key,
          expected: "`needs` to form a DAG (no stage may depend on itself, directly or through others)",
          hint: `remove "${name}" from the needs of "${from}" or break the cycle elsewhere`,
        });
      }
      return;
    }
    state.set(name, "visiting");
    for (const n of stages.get(name)?.needs ?? []) if (stages.has(n)) visit(n, [...stack, name]);
    state.set(name, "done");
    order.push(name);
  };
  for (const name of stages.keys()) visit(name, []);
  return order;
}

function ancestors(stage: string, stages: Map<string, StageNode>): Set<string> {
  const out = new Set<string>();
  const todo = [...(stages.get(stage)?.needs ?? [])];
  while (todo.length) {
    const n = todo.pop()!;
    if (out.has(n)) continue;
    out.add(n);
    todo.push(...(stages.get(n)?.needs ?? []));
  }
  return out;
}

/** Every `@path` must point at something: a config path, or an output of an upstream stage. */
export function checkReferences(
  root: Record<string, unknown>,
  stages: Map<string, StageNode>,
  locs: LocationMap,
  diagnostics: Diagnostic[],
): void {
  walkReferences({ root, stages, locs, diagnostics }, root, []);
}

/** what the reference checks read, and where they report */
interface ReferenceCheck {
  root: Record<string, unknown>;
  stages: Map<string, StageNode>;
  locs: LocationMap;
  diagnostics: Diagnostic[];
}

function walkReferences(cx: ReferenceCheck, v: unknown, path: Path): void {
  const ref = parseReference(v);
  if (ref) {
    checkOne(cx, ref, path);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      walkReferences(cx, x, [...path, i]);
    });
  } else if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      // `plugins:` entries are package names or paths, never references (`@acme/pkg` is a scoped package)
      if (path.length === 0 && k === "plugins") continue;
      walkReferences(cx, x, [...path, k]);
    }
  }
}

function checkOne(cx: ReferenceCheck, ref: Reference, site: Path): void {
  const { locs, diagnostics } = cx;
  const loc = locs.nearest(site)?.value;
  if (ref.path.length > ConfigLimits.maxPathSegments) {
    diagnostics.push(
      limitDiagnostic("maxPathSegments", `${ref.text.slice(0, 40)}... has ${ref.path.length} segments`, {
        loc,
        path: formatPath(site),
      }),
    );
    return;
  }
  const bad = ref.path.find(isForbiddenKey);
  if (bad !== undefined) {
    diagnostics.push(forbiddenKeyDiagnostic(String(bad), "reference path segment", loc, formatPath(site)));
    return;
  }
  if (ref.kind === "output") checkOutput(cx, ref, site, loc);
  else checkChain(cx, ref, site, loc);
}

/** `@stages.<s>.outputs.<o>`: the stage exists, has that output, and the stage using it needs it */
function checkOutput(
  cx: ReferenceCheck,
  ref: Extract<Reference, { kind: "output" }>,
  site: Path,
  loc: Diagnostic["loc"],
): void {
  const { root, stages, locs, diagnostics } = cx;
  const s = ref.stage;
  const st = stages.get(s);
  if (!st) {
    diagnostics.push(unknownPath(root, ref.path, site, locs, ref.text));
    return;
  }
  const out = ref.output;
  if (out === undefined || !st.def.outputs.includes(out) || ref.rest.length) {
    diagnostics.push({
      code: Codes.danglingReference,
      message: `${ref.text}: stage "${s}" (${st.kind}) has no output "${out ?? ""}"`,
      path: formatPath(site),
      loc,
      expected: `one of: ${st.def.outputs.map((o) => `@stages.${s}.outputs.${o}`).join(", ") || "(this stage kind has no outputs)"}`,
      got: JSON.stringify(ref.text),
      hint: out !== undefined ? didYouMean(out, st.def.outputs) : undefined,
    });
    return;
  }
  const user = site[0] === "stages" ? String(site[1]) : undefined;
  if (user && user !== s && !ancestors(user, stages).has(s)) {
    diagnostics.push({
      code: Codes.missingNeeds,
      message: `stage "${user}" uses an output of stage "${s}" but does not need it`,
      path: formatPath(site),
      loc,
      hint: `add "${s}" to stages.${user}.needs so it runs first`,
    });
  }
}

/** a config-path reference: follow the chain of references to a value (no dangling end, no cycle, within the limit) */
function checkChain(cx: ReferenceCheck, ref: Reference, site: Path, loc: Diagnostic["loc"]): void {
  const { root, locs, diagnostics } = cx;
  const seen = [formatPath(site)];
  let cur = ref.path;
  for (;;) {
    const r = getAt(root, cur);
    if (!r.found) {
      diagnostics.push(unknownPath(root, cur, site, locs, ref.text));
      return;
    }
    if (!isReference(r.value)) return;
    const key = formatPath(cur);
    if (seen.includes(key)) {
      diagnostics.push({
        code: Codes.referenceCycle,
        message: `reference cycle: ${[...seen, key].join(" -> ")}`,
        path: formatPath(site),
        loc,
        hint: "references must end at a value",
      });
      return;
    }
    seen.push(key);
    if (seen.length > ConfigLimits.maxReferenceChain) {
      diagnostics.push(
        limitDiagnostic(
          "maxReferenceChain",
          `${ref.text} starts a chain of more than ${ConfigLimits.maxReferenceChain} references`,
          { loc, path: formatPath(site) },
        ),
      );
      return;
    }
    // an output reference reached through another reference is not followed at run time: reported as a path here
    cur = parseReference(r.value)!.path;
    if (cur.some(isForbiddenKey)) {
      diagnostics.push(forbiddenKeyDiagnostic(String(cur.find(isForbiddenKey)), "reference path segment", loc, key));
      return;
    }
  }
}
