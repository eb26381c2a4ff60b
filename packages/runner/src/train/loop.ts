import { Codes, type Optimizer, type Scheduler, type StageRuntime, tf, VoxelpipeError } from "@voxelpipe/core";
import type { DataLoader } from "../data/loader.js";
import { Progress } from "../run/progress.js";
import type { Checkpointer } from "./checkpoint.js";
import { clipByGlobalNorm } from "./clip.js";
import type { LoopState, Selection } from "./selection.js";
import { mixSeed } from "./step-graph.js";
import type { StepRunner } from "./step-runner.js";
import type { TrainConfig } from "./train-config.js";

export interface LoopParts {
  rt: StageRuntime;
  config: TrainConfig;
  data: DataLoader;
  inputKeys: string[];
  runner: StepRunner;
  optimizer: Optimizer;
  scheduler?: Scheduler;
  params: Map<string, tf.Variable>;
  checkpoints: Checkpointer;
  selection?: Selection;
  /** batches per epoch and the total number of optimizer steps */
  perEpoch: number;
  totalIters: number;
}

/**
 * The training loop: epochs of batches → one step each (forward/backward by the step runner,
 * clipping, the optimizer) → metrics.jsonl, progress, validation at its cadence, `last` at each
 * epoch end. A resumed run skips the batches its checkpoint had already seen.
 */
export async function trainLoop(p: LoopParts, state: LoopState): Promise<void> {
  const { rt, config: c, runner, optimizer } = p;
  const sel = c.validate;
  const baseLr = optimizer.lr;
  const epochs = Math.ceil(p.totalIters / p.perEpoch);
  const progress = new Progress(rt.logger, p.totalIters, {
    unit: "iter",
    fields: ["loss", "lr"],
    initial: state.iteration,
  });
  outer: for (let epoch = state.epoch; epoch < epochs; epoch++) {
    let iInEpoch = 0;
    for await (const batch of p.data.batches({ batchSize: c.batch_size, shuffle: true, epoch, keys: p.inputKeys })) {
      if (iInEpoch++ < state.iteration - epoch * p.perEpoch) {
        tf.dispose(Object.values(batch));
        continue; // resumed mid-epoch: these batches were already seen
      }
      const it = state.iteration;
      optimizer.lr = p.scheduler ? p.scheduler.lrAt(it, p.totalIters, baseLr) : baseLr;
      let outcome: Awaited<ReturnType<StepRunner["step"]>>;
      try {
        outcome = await runner.step(batch, mixSeed(rt.rng.seed, it));
      } finally {
        tf.dispose(Object.values(batch));
      }
      const { scalars, grads } = outcome;
      const bad = Object.entries(scalars).find(([, v]) => !Number.isFinite(v));
      if (bad) {
        tf.dispose(Object.values(grads));
        throw new VoxelpipeError({
          code: Codes.nonFinite,
          message: `${bad[0]} is ${bad[1]} at iteration ${it + 1} (epoch ${epoch + 1}); training stopped`,
          got: Object.entries(scalars)
            .map(([k, v]) => `${k}=${v}`)
            .join(", "),
          hint: `the last good checkpoints are kept in ${rt.artifacts.dir}/checkpoints; lower the learning rate or check the inputs (${rt.where("step")})`,
        });
      }
      if (c.clip_grad_norm) await clipByGlobalNorm(grads, c.clip_grad_norm);
      optimizer.apply(p.params, grads);
      runner.weightsChanged();
      tf.dispose(Object.values(grads));
      state.iteration = it + 1;
      if (state.iteration % c.log_every === 0)
        rt.log({ epoch: epoch + 1, iteration: state.iteration, lr: optimizer.lr, ...scalars });
      progress.tick({ loss: scalars[c.objective]?.toPrecision(4) ?? "-", lr: optimizer.lr.toExponential(2) });
      if (sel?.unit === "iteration" && state.iteration % sel.every === 0 && p.selection) {
        if (await p.selection.run(state)) break outer;
      }
      if (state.iteration >= p.totalIters) break;
    }
    state.epoch = epoch + 1;
    if (
      sel &&
      p.selection &&
      sel.unit === "epoch" &&
      (state.epoch % sel.every === 0 || state.iteration >= p.totalIters)
    ) {
      if (await p.selection.run(state)) break;
    }
    await p.checkpoints.save("last", state);
    if (state.iteration >= p.totalIters) break;
  }
  progress.done();
}
