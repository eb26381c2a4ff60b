import { resolve } from "node:path";
import { type BackendChoice, backendNames, Codes, createLogger, loadPipeline, VoxelpipeError } from "@voxelpipe/core";
import { type Command, Option } from "commander";
import { type GridAxis, parseGridOption, parseSeeds, type SweepSpec, specFromYaml } from "../sweep/grid.js";
import { requireMetrics, runSweep, sweepMarkdown } from "../sweep/sweep.js";
import { addLoadFlags, type LoadFlags, loadOptions } from "./args.js";
import type { CliIO } from "./io.js";

interface SweepCliOptions extends LoadFlags {
  grid: string[];
  seeds?: string;
  metric: string[];
  set: string[];
  backend?: BackendChoice;
  runsDir: string;
}

/** `voxelpipe sweep`: the same pipeline over a grid of overrides × seeds, summarised as mean ± std. */
export function registerSweep(program: Command, io: CliIO): void {
  addLoadFlags(
    program
      .command("sweep")
      .description("run a pipeline over a grid of values × seeds (resumable) and summarise metrics as mean ± std"),
  )
    .argument("<pipeline>", "pipeline YAML (its `sweep:` block gives defaults)")
    .option(
      "--grid <path=v1,v2,...>",
      "a config path and its values (YAML; `none` removes the key); repeatable",
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option("--seeds <list>", "seeds, e.g. 0..2 or 0,1,2 (default: the pipeline's seed)")
    .option(
      "--metric <stage.path>",
      "a number from a stage's summary/report, e.g. score.mean.dice.mean; repeatable",
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option(
      "--set <path=value>",
      "override applied to every variant; repeatable",
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .addOption(new Option("--backend <backend>", "tensor backend").choices(["auto", ...backendNames]))
    .option("--runs-dir <dir>", "where the sweep folder goes", "runs")
    .action(async (file: string, o: SweepCliOptions) => {
      const path = resolve(io.cwd, file);
      const load = loadOptions(o, io.cwd);
      const raw = loadPipeline(path, o.set, load);
      if (raw.diagnostics.length) throw new VoxelpipeError(raw.diagnostics);
      const fromYaml = specFromYaml(raw.value.sweep);
      const grid = new Map<string, GridAxis>((fromYaml.grid ?? []).map((a) => [a.path, a]));
      for (const g of o.grid.map(parseGridOption)) grid.set(g.path, g);
      const spec: SweepSpec = {
        grid: [...grid.values()],
        seeds: o.seeds
          ? parseSeeds(o.seeds)
          : (fromYaml.seeds ?? [typeof raw.value.seed === "number" ? raw.value.seed : 0]),
        metrics: o.metric.length ? o.metric : (fromYaml.metrics ?? []),
      };
      requireMetrics(spec);
      const r = await runSweep({
        file: path,
        spec,
        sets: o.set,
        runsDir: resolve(io.cwd, o.runsDir),
        backend: o.backend,
        logger: createLogger({ write: (_l, line) => io.err(line) }),
        load,
      });
      io.out(
        `${sweepMarkdown(r.rows, spec.metrics)}\n\nsweep: ${r.dir} (${r.ran.length} run, ${r.skipped.length} already finished${r.failed.length ? `, ${r.failed.length} failed` : ""})`,
      );
      if (r.failed.length) {
        throw new VoxelpipeError({
          code: Codes.sweepFailed,
          message: `${r.failed.length} of ${r.ran.length + r.skipped.length + r.failed.length} sweep variants failed: ${r.failed
            .slice(0, 3)
            .map((f) => f.variant)
            .join(", ")}${r.failed.length > 3 ? ", ..." : ""}`,
          got: r.failed
            .slice(0, 3)
            .map((f) => `${f.variant}: ${f.diagnostics[0]?.code} ${f.diagnostics[0]?.message.split("\n")[0]}`)
            .join("; "),
          hint: `their diagnostics are in ${r.dir}/summary.md; re-run the same command to retry them (finished variants are skipped)`,
        });
      }
    });
}
