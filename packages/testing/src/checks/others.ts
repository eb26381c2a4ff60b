import {
  type Dataset,
  type Inferer,
  type NamedVariables,
  type OptimizerFactory,
  type Registries,
  type Scheduler,
  type StageDefinition,
  tf,
  validationSlots,
  z,
} from "@voxelpipe/core";
import { expectThat, finite } from "./common.js";

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Stage kinds declare their outputs (unique identifiers) and their config schema builds with slots. */
export function checkStage(def: StageDefinition, registries: Registries): void {
  expectThat(
    Array.isArray(def.outputs),
    () => "the stage kind declares no outputs list (outputs: [...], may be empty)",
  );
  const bad = def.outputs.filter((o) => !IDENT.test(o));
  expectThat(
    bad.length === 0,
    () => `outputs must be identifiers (they are written @stages.<s>.outputs.<name>): ${bad.join(", ")}`,
  );
  expectThat(new Set(def.outputs).size === def.outputs.length, () => "outputs lists a name twice");
  const schema = def.schema(validationSlots(registries));
  expectThat(schema instanceof z.ZodObject, () => "schema(slots) must return a z.object");
  expectThat(typeof def.run === "function", () => "the stage kind has no run()");
}

/** a scheduler gives finite, non-negative learning rates over a run */
export function checkScheduler(s: Scheduler): void {
  for (const it of [0, 1, 10, 50, 99]) {
    const lr = s.lrAt(it, 100, 0.01);
    expectThat(Number.isFinite(lr) && lr >= 0, () => `lrAt(${it}, 100, 0.01) is ${lr}`);
  }
}

/** an optimizer factory makes an optimizer whose step moves a parameter against its gradient and whose state round-trips */
export function checkOptimizer(factory: OptimizerFactory): void {
  const make = (): NamedVariables => new Map([["w", tf.tidy(() => tf.variable(tf.tensor1d([1, -2, 3]), true))]]);
  const [p1, p2] = [make(), make()];
  try {
    const o1 = factory(p1);
    expectThat(typeof o1.lr === "number", () => "the optimizer has no numeric lr");
    const grad = () => ({ w: tf.tensor1d([0.5, -0.5, 1]) });
    const g = grad();
    o1.apply(p1, g);
    tf.dispose(Object.values(g));
    const after = p1.get("w")!.dataSync();
    expectThat(finite(after as Float32Array), () => "a step gives non-finite parameters");
    expectThat(
      after[0] < 1 && after[1] > -2 && after[2] < 3,
      () => `a step with gradient [0.5, -0.5, 1] moved [1, -2, 3] to [${[...after]}], not against the gradient`,
    );
    const o2 = factory(p2);
    p2.get("w")!.assign(p1.get("w")!);
    o2.setState(o1.getState(), p2);
    const [g1, g2] = [grad(), grad()];
    o1.apply(p1, g1);
    o2.apply(p2, g2);
    tf.dispose([...Object.values(g1), ...Object.values(g2)]);
    expectThat(
      [...p1.get("w")!.dataSync()].join() === [...p2.get("w")!.dataSync()].join(),
      () =>
        "an optimizer restored with setState(getState()) takes another step than the original: the state must hold everything",
    );
  } finally {
    for (const v of [...p1.values(), ...p2.values()]) v.dispose();
  }
}

/** a dataset lists its splits, their sizes, and gives a record for an index in range */
export async function checkDataset(d: Dataset): Promise<void> {
  const splits = d.splits();
  expectThat(
    Array.isArray(splits) && splits.every((s) => typeof s === "string"),
    () => "splits() must return a list of names",
  );
  for (const s of splits) {
    const n = d.size(s);
    expectThat(Number.isInteger(n) && n >= 0, () => `size("${s}") is ${n}`);
    if (n > 0) {
      const r = await d.get(s, 0);
      expectThat(typeof r === "object" && r !== null, () => `get("${s}", 0) is not a record`);
    }
  }
}

/** an inferer with the identity predictor returns a tensor of the input's spatial shape */
export async function checkInferer(inf: Inferer, input: (() => tf.Tensor) | undefined): Promise<void> {
  if (!input) return;
  const x = input();
  try {
    const y = await inf.infer(x, (b) => tf.clone(b));
    expectThat(
      y.shape.slice(0, -1).join() === x.shape.slice(0, -1).join(),
      () => `infer() with the identity predictor gives shape [${y.shape}] for input [${x.shape}]`,
    );
    y.dispose();
  } finally {
    x.dispose();
  }
}
