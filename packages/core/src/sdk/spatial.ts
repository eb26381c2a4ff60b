/**
 * Invertible transforms (MONAI InvertibleTransform): a transform definition declares `spatial` with
 * its inverse, and every instance its `create` returns carries that inverse as `invert`, answering
 * for the records that bear the definition's name. Inversion (transforms/src/transforms/invert.ts)
 * walks a volume's records, newest first, and asks the transforms of the chain to undo each one.
 */
import type { Transform, TransformSpatial } from "../contracts/components.js";
import type { ComponentContext } from "./context.js";
import type { ArgsSchema, ComponentDefinition } from "./define.js";

/** A transform definition: what it does to voxel grids is declared (absent: nothing). */
export type TransformDefinition<S extends ArgsSchema = ArgsSchema> = ComponentDefinition<"transform", S, Transform> & {
  readonly spatial?: TransformSpatial;
};

type Create<A> = (args: A, ctx: ComponentContext) => Transform | Promise<Transform>;

/** `create` whose instances undo the ops named `name` with `spatial.inverse` (unless they define `invert`). */
export function withInverse<A>(name: string, spatial: TransformSpatial | undefined, create: Create<A>): Create<A> {
  const undo = spatial?.inverse;
  if (!undo) return create;
  const invert: Transform["invert"] = (vol, op, opts) => (op.op === name ? undo(vol, op, opts) : undefined);
  const attach = (t: Transform): Transform => {
    if (typeof t !== "object" || t === null || typeof t.invert === "function") return t;
    // a frozen instance gets a thin object in front of it (its prototype keeps apply and random)
    if (!Object.isExtensible(t)) return Object.create(t, { invert: { value: invert } });
    Object.defineProperty(t, "invert", { value: invert, configurable: true, writable: true });
    return t;
  };
  return (args, ctx) => {
    const t = create(args, ctx);
    return typeof (t as PromiseLike<Transform>)?.then === "function"
      ? Promise.resolve(t).then(attach)
      : attach(t as Transform);
  };
}
