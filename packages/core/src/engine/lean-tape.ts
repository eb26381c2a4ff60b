import * as tf from "@tensorflow/tfjs-core";

/**
 * Backpropagation that frees memory as it goes, like PyTorch's autograd.
 *
 * tfjs 4.22's `engine.gradients` walks the tape backwards and keeps, until the whole backward ends,
 * (1) the gradient of every intermediate tensor and (2) every tensor saved for a node's gradient.
 * So the peak of a backward pass is about twice the activations of the forward: for a 96³ UNETR
 * that alone overflows wasm's 4 GB heap. This replacement runs the same gradient functions in the
 * same order (results are bit-identical) but disposes a node's output gradients and saved tensors
 * as soon as the node has been processed. It is installed on the engine instance (a method
 * override: no fork, no patched node_modules) and checks the internals it relies on.
 */

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
  gradients: unknown;
}

let original: unknown;

/** nodes on a path from xs to y, inputs pruned to those that depend on xs (tfjs' getFilteredNodesXToY) */
function filterTape(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    for (const k in node.inputs) {
      if (fromX.has(node.inputs[k].id)) {
        for (const o of node.outputs) fromX.add(o.id);
        nodesFromX.add(node.id);
        break;
      }
    }
  }
  const toY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      for (const k in node.inputs) {
        toY.add(node.inputs[k].id);
        nodesToY.add(node.id);
      }
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const k in node.inputs) if (fromX.has(node.inputs[k].id)) inputs[k] = node.inputs[k];
    out.push({ ...node, inputs });
  }
  return out;
}

function gradients(
  this: EngineInternals,
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy?: tf.Tensor,
  allowNoGradients = false,
): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] } {
  // Long by design: mirrors tfjs 4.22's engine.gradients / backpropagateGradients statement by statement
  // (results are bit-identical) with the early disposals added; the reading against tfjs's source is the check.
  if (xs.length === 0) throw new Error("gradients() received an empty list of xs.");
  if (dy != null && dy.dtype !== "float32") throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const y = this.scopedRun(
    () => this.startTape(),
    () => this.endTape(),
    () => this.tidy("forward", f),
  );
  if (!(y instanceof tf.Tensor)) throw new Error("The result y returned by f() must be a tensor.");
  const tape = this.state.activeTape ?? [];
  const filtered = filterTape(tape, xs, y);
  if (!allowNoGradients && filtered.length === 0 && xs.length > 0) {
    throw new Error(
      "Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.",
    );
  }
  // free as we go only for a first-order gradient (a recording outer tape may still need them)
  const lean = this.state.gradientDepth === 0;
  const keepIds = new Set<number>(xs.map((x) => x.id));
  return this.tidy("backward", () => {
    const acc = new Map<number, tf.Tensor>();
    // a gradient object can be shared (a gradient function may pass dy through): free it only when
    // nothing holds it any more
    const release = (t: tf.Tensor) => {
      if (t !== dy && ![...acc.values()].includes(t)) t.dispose();
    };
    acc.set(y.id, dy ?? tf.ones(y.shape));
    for (let i = filtered.length - 1; i >= 0; i--) {
      const node = filtered[i];
      const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
      if (!node.gradient)
        throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
      const inputGradients = node.gradient(dys);
      for (const name in node.inputs) {
        if (!(name in inputGradients)) {
          throw new Error(
            `Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGradients)}.`,
          );
        }
        const dx = this.tidy(() => inputGradients[name]());
        if (dx.dtype !== "float32") {
          throw new Error(
            `Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`,
          );
        }
        const x = node.inputs[name];
        if (!tf.util.arraysEqual(dx.shape, x.shape)) {
          throw new Error(
            `Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
          );
        }
        const cur = acc.get(x.id);
        if (cur == null) acc.set(x.id, dx);
        else {
          acc.set(x.id, tf.add(cur, dx));
          if (lean) {
            release(cur);
            release(dx);
          } else cur.dispose();
        }
      }
      if (lean) {
        // this node's output gradients and saved tensors are never read again
        for (const o of node.outputs) {
          const g = acc.get(o.id);
          if (!g || keepIds.has(o.id)) continue;
          acc.delete(o.id);
          release(g);
        }
        for (const t of node.saved ?? []) t.dispose();
      }
    }
    const grads = xs.map((x) => acc.get(x.id));
    if (this.state.gradientDepth === 0) {
      for (const node of this.state.activeTape ?? []) for (const t of node.saved ?? []) t.dispose();
      this.state.activeTape = null;
    }
    return { value: y, grads } as never;
  });
}

/** replace `engine.gradients` by the lean walk; idempotent. Returns false when the internals differ. */
export function installLeanBackprop(): boolean {
  const eng = tf.engine() as unknown as EngineInternals;
  if (eng.gradients === gradients) return true;
  const ok =
    typeof eng.scopedRun === "function" &&
    typeof eng.startTape === "function" &&
    typeof eng.endTape === "function" &&
    typeof eng.tidy === "function" &&
    typeof eng.state === "object" &&
    typeof eng.state.gradientDepth === "number";
  if (!ok) return false;
  original = eng.gradients;
  eng.gradients = gradients;
  return true;
}

/** put tfjs' own `engine.gradients` back (tests) */
export function uninstallLeanBackprop(): void {
  const eng = tf.engine() as unknown as EngineInternals;
  if (original && eng.gradients === gradients) eng.gradients = original;
}
