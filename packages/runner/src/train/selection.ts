import {
  Codes,
  type Dataset,
  type Inferer,
  isVolume,
  type Metric,
  type Model,
  type StageRuntime,
  spacingOf,
  tf,
  VoxelpipeError,
} from "@voxelpipe/core";
import { collate } from "../data/collate.js";
import type { DataLoader } from "../data/loader.js";
import { type SslView, sslView } from "../report/ssl-report.js";
import type { CaseOverlay } from "../report/train-report.js";
import { perClassTable, segmentationValidation } from "./seg-validation.js";
import type { StepGraph } from "./step-graph.js";
import type { ValidateConfig } from "./train-config.js";

/** The loop counters and the best-model bookkeeping that checkpoints carry. */
export type LoopState = {
  epoch: number;
  iteration: number;
  best: number | null;
  bestAt: number | null;
  stale: number;
};

/** what the report shows of the best validation (segmentation runs) */
export interface BestView {
  value?: number;
  caseBest?: CaseOverlay;
  caseWorst?: CaseOverlay;
  perClass?: Record<string, number | null>;
  /** class names by label value (the dataset's `labels`) */
  classes?: Record<string, string>;
  /** self-supervised runs: original, corrupted views and reconstructions of the first validation item */
  ssl?: SslView;
}

/**
 * Validation and best-model selection: segmentation metrics on whole volumes through the inferer,
 * or the mean of a step node over the validation split; the selected value decides `best` and
 * early stopping.
 */
export class Selection {
  lastValidation: Record<string, unknown> | null = null;
  readonly bestView: BestView = {};
  private loader?: DataLoader;
  private pendingSsl?: SslView;

  constructor(
    private readonly o: {
      rt: StageRuntime;
      config: ValidateConfig | undefined;
      metricName: string;
      metrics: Metric[];
      inferer?: Inferer;
      model: Model;
      graph: StepGraph;
      dataset: Dataset;
      batchSize: number;
      valSplit: string;
      /** opens the validation loader on first use */
      openLoader: () => DataLoader;
      /** predicts a batch of windows, possibly on model replicas (then `concurrency` > 1) */
      predictor: (x: tf.Tensor) => tf.Tensor | Promise<tf.Tensor>;
      concurrency: number;
      /** called when a new best is found (writes the `best` checkpoint) */
      onBest: () => Promise<void>;
    },
  ) {}

  /** validate, log, update `state`; returns true when early stopping says stop */
  async run(state: LoopState): Promise<boolean> {
    const { rt, config: sel, metricName, metrics } = this.o;
    const v = metrics.some((m) => m.name === metricName) ? await this.segmentation(state) : await this.nodeMean();
    const better = state.best === null || (sel!.select_best === "min" ? v < state.best : v > state.best);
    rt.log({ epoch: state.epoch, iteration: state.iteration, [`val_${metricName}`]: v, best: better });
    this.lastValidation = { ...this.lastValidation, iteration: state.iteration, [metricName]: v };
    rt.logger.info(`validation ${metricName} = ${v.toPrecision(6)}${better ? " (best)" : ""}`);
    if (better && this.pendingSsl) this.bestView.ssl = { ...this.pendingSsl, iteration: state.iteration };
    if (better) {
      state.best = v;
      state.bestAt = state.iteration;
      state.stale = 0;
      await this.o.onBest();
    } else state.stale += 1;
    return !!sel!.early_stopping && state.stale >= sel!.early_stopping.patience;
  }

  async close(): Promise<void> {
    await this.loader?.close();
  }

  private get data(): DataLoader {
    this.loader ??= this.o.openLoader();
    return this.loader;
  }

  /** sliding-window prediction of each validation volume; every metric logged, the selected one returned */
  private async segmentation(state: LoopState): Promise<number> {
    const { rt, config: sel, metricName, metrics } = this.o;
    // one batch per item, as batches({ batchSize: 1 }) makes them, keeping each image's voxel size for the report
    const loader = this.data;
    const keys = [sel!.image_key, sel!.label_key];
    const spacings: [number, number, number][] = [];
    async function* batches() {
      for await (const { samples } of loader.items(0)) {
        const v = samples[0]?.[sel!.image_key];
        spacings.push(isVolume(v) ? spacingOf(v.affine) : [1, 1, 1]);
        yield collate(samples, keys);
      }
    }
    const { results, best, worst } = await segmentationValidation({
      predictor: this.o.predictor,
      concurrency: this.o.concurrency,
      inferer: this.o.inferer,
      metrics,
      batches: batches(),
      spacings,
      imageKey: sel!.image_key,
      labelKey: sel!.label_key,
    });
    // per-class keys are class values unless the metric names them: use the dataset's class names
    const names = this.o.dataset.labels;
    if (names) {
      for (const r of results.values()) {
        if (r.detail) r.detail = Object.fromEntries(Object.entries(r.detail).map(([k, v]) => [names[k] ?? k, v]));
      }
    }
    const record: Record<string, unknown> = { epoch: state.epoch, iteration: state.iteration };
    for (const [name, r] of results) {
      record[`val_${name}`] = r.value;
      if (r.detail) record[`val_${name}_per_class`] = r.detail;
    }
    rt.log(record);
    this.lastValidation = record;
    const v = results.get(metricName)?.value ?? Number.NaN;
    const bv = this.bestView;
    const isBest = bv.value === undefined || (sel!.select_best === "min" ? v < bv.value : v > bv.value);
    if (isBest)
      Object.assign(bv, {
        value: v,
        caseBest: best,
        caseWorst: worst,
        perClass: results.get(metricName)?.detail,
        classes: this.o.dataset.labels,
      });
    rt.logger.info(`validation at epoch ${state.epoch}:\n${perClassTable(results)}`);
    return v;
  }

  /** the mean of a step node over the validation split */
  private async nodeMean(): Promise<number> {
    const { rt, graph, model, metricName } = this.o;
    let sum = 0;
    let n = 0;
    let first = true;
    const at = (name: string) => graph.nodes.findIndex((n) => n.name === name);
    const lastModel = graph.nodes.filter((n) => n.kind === "model").pop()?.name;
    const firstUntil = lastModel && at(lastModel) > at(metricName) ? lastModel : metricName;
    for await (const batch of this.data.batches({
      batchSize: this.o.batchSize,
      shuffle: false,
      epoch: 0,
      keys: graph.inputKeys,
    })) {
      const bs = Object.values(batch)[0]?.shape[0] ?? 1;
      // the first batch also runs every model call (not the losses after the metric) so the report can show each
      // view and reconstruction of it; model calls have no state, so training goes on exactly as without
      // the tensors read leave the tidy and are read asynchronously (webgpu in Node has no synchronous read)
      const out = tf.tidy(() => {
        const env = graph.run(batch, { model }, { training: false, until: first ? firstUntil : metricName });
        return first ? Object.fromEntries(env) : { [metricName]: env.get(metricName)! };
      });
      const v = (await out[metricName].data())[0];
      if (first) this.pendingSsl = await sslView(graph, new Map(Object.entries(out)));
      first = false;
      tf.dispose([...Object.values(out), ...Object.values(batch)]);
      sum += v * bs;
      n += bs;
    }
    if (n === 0)
      throw new VoxelpipeError({
        code: Codes.data,
        message: `validation split "${this.o.valSplit}" is empty`,
        hint: rt.where("validate"),
      });
    return sum / n;
  }
}
