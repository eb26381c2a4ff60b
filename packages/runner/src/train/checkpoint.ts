import { existsSync } from "node:fs";
import { join } from "node:path";
import { isPlainObject, type Model, type Optimizer, type StageRuntime, tf } from "@voxelpipe/core";
import { loadCheckpoint, saveCheckpoint } from "@voxelpipe/models";
import { expectedGeometry } from "../data/geometry.js";

/**
 * `checkpoints/{last,best}.safetensors`: the model's checkpoint format (weights under their
 * parameter names + `{ component, args, versions }` metadata, so `init.from` and `voxelpipe infer`
 * read it; `geometry`: the Orientation axcodes / Spacing pixdim of the training chain, which infer
 * warns against) plus the optimizer state under `optimizer/<slot>` and the loop counters. Written
 * atomically (temp file + rename), so a killed run never leaves a torn checkpoint. RNG state needs
 * no saving: every stream derives from (seed, stage, component, epoch, sample), so counters restore it.
 */
export class Checkpointer {
  constructor(
    private readonly rt: StageRuntime,
    private readonly model: Model,
    private readonly optimizer: Optimizer,
  ) {}

  path(which: "last" | "best"): string {
    return join(this.rt.artifacts.dir, "checkpoints", `${which}.safetensors`);
  }

  async save(which: "last" | "best", state: Record<string, unknown>): Promise<void> {
    const { type, ...args } = (this.rt.deref(this.rt.get("model")) ?? {}) as Record<string, unknown>;
    // webgpu in Node reads only asynchronously: download the variables (optimizer slots) first, so the
    // optimizer's synchronous getState reads cached values
    if (tf.getBackend() === "webgpu")
      await Promise.all(Object.values(tf.engine().state.registeredVariables).map((v) => v.data()));
    const opt = this.optimizer.getState();
    const extra = new Map(
      Object.entries(opt.slots).map(([k, s]) => [`optimizer/${k}`, { dtype: "F32" as const, ...s }]),
    );
    const transforms = this.rt.deref(this.rt.get("transforms"));
    const chain = isPlainObject(transforms) ? this.rt.deref(transforms.train) : undefined;
    const geometry = expectedGeometry(Array.isArray(chain) ? chain : [], this.rt.deref);
    await saveCheckpoint(
      this.path(which),
      this.model,
      { component: String(type), args, state, optimizer_step: opt.step, lr: this.optimizer.lr, geometry },
      extra,
    );
  }

  /** load `last` into the model and optimizer; returns the saved loop state */
  async restoreLast(): Promise<{ state: Record<string, unknown> } | undefined> {
    const file = this.path("last");
    if (!existsSync(file)) return undefined;
    const { tensors, meta } = await loadCheckpoint(file);
    for (const [name, v] of this.model.params) {
      const t = tensors.get(name);
      if (!t) throw new Error(`checkpoint ${file} has no tensor "${name}"`);
      tf.tidy(() => v.assign(tf.tensor(t.data as Float32Array, t.shape, "float32")));
    }
    const slots: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, t] of tensors)
      if (k.startsWith("optimizer/"))
        slots[k.slice("optimizer/".length)] = { shape: t.shape, data: t.data as Float32Array };
    this.optimizer.setState({ step: Number(meta?.optimizer_step ?? 0), slots }, this.model.params);
    return { state: (meta?.state ?? {}) as Record<string, unknown> };
  }
}
