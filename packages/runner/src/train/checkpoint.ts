import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { encodeSafetensors, type Model, type Optimizer, readSafetensors, type StageRuntime, tf } from "@voxelpipe/core";
import { writeFileAtomic } from "../run/run-dir.js";

export const CHECKPOINT_FORMAT = "voxelpipe-checkpoint/1";

/**
 * `checkpoints/{last,best}.safetensors`: model weights under their parameter names, optimizer
 * state under `optimizer/<slot>`, and the loop counters in the metadata. Written atomically
 * (temp file + rename), so a killed run never leaves a torn checkpoint. RNG state needs no saving:
 * every stream derives from (seed, stage, component, epoch, sample), so counters restore it.
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
    const dir = join(this.rt.artifacts.dir, "checkpoints");
    mkdirSync(dir, { recursive: true });
    const entries: [string, { shape: number[]; data: Float32Array }][] = [];
    for (const [name, v] of this.model.params)
      entries.push([name, { shape: v.shape, data: (await v.data()) as Float32Array }]);
    const opt = this.optimizer.getState();
    for (const [k, s] of Object.entries(opt.slots)) entries.push([`optimizer/${k}`, s]);
    const bytes = encodeSafetensors(entries, {
      format: CHECKPOINT_FORMAT,
      state: JSON.stringify(state),
      optimizer_step: String(opt.step),
      lr: String(this.optimizer.lr),
    });
    writeFileAtomic(this.path(which), bytes);
  }

  /** load `last` into the model and optimizer; returns the saved loop state */
  async restoreLast(): Promise<{ state: Record<string, unknown> } | undefined> {
    const file = this.path("last");
    if (!existsSync(file)) return undefined;
    const { tensors, metadata } = readSafetensors(file);
    for (const [name, v] of this.model.params) {
      const t = tensors.get(name);
      if (!t) throw new Error(`checkpoint ${file} has no tensor "${name}"`);
      tf.tidy(() => v.assign(tf.tensor(t.data as Float32Array, t.shape, "float32")));
    }
    const slots: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, t] of tensors)
      if (k.startsWith("optimizer/")) slots[k.slice(10)] = { shape: t.shape, data: t.data as Float32Array };
    this.optimizer.setState({ step: Number(metadata.optimizer_step ?? 0), slots }, this.model.params);
    return { state: JSON.parse(metadata.state ?? "{}") };
  }
}
