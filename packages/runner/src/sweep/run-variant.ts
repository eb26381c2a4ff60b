import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { Codes, type Diagnostic, isVoxelpipeError, type Logger, VoxelpipeError } from "@voxelpipe/core";
import { runPipeline } from "../run/executor.js";
import { allReusable } from "../run/reuse.js";
import { removeEmptyRunDirs, runDirMark } from "../run/run-dir.js";
import { compileVariant, type SweepPlan } from "./plan.js";
import { currentJob, type VariantRecord, writeRecord } from "./status.js";

export type VariantOutcome = { kind: "ran" | "skipped" } | { kind: "failed"; diagnostics: Diagnostic[] };

/**
 * Run one variant of a sweep in its own runs folder `<sweep>/<variant>/`. Every executor ends up
 * here (in this process, in a child process, in a Slurm array task), so seeds, RNG streams and run
 * folders do not depend on where it ran. Skipped when every stage finished with this configuration
 * (fingerprints); an interrupted one resumes; a changed one starts new run directories. Its record
 * in `<sweep>/status/` says running while it runs, then finished or failed (with the diagnostics).
 */
export async function runVariant(
  plan: SweepPlan,
  variantId: string,
  o: { logger: Logger; executor: string; threads?: number },
): Promise<VariantOutcome> {
  const v = plan.variants.find((x) => x.id === variantId);
  if (!v) {
    throw new VoxelpipeError({
      code: Codes.notASweep,
      message: `sweep ${plan.dir} has no variant "${variantId}"`,
      expected: plan.variants.map((x) => x.id).join(", "),
    });
  }
  const vdir = join(plan.dir, v.id);
  const log = o.logger.child(v.id);
  const base: VariantRecord = {
    variant: v.id,
    state: "running",
    executor: o.executor,
    host: hostname(),
    pid: process.pid,
    job: currentJob(),
    started: new Date().toISOString(),
  };
  writeRecord(plan.dir, base);
  const mark = runDirMark();
  try {
    const { r, registries } = await compileVariant(plan, v);
    if (!r.pipeline) throw new VoxelpipeError(r.diagnostics);
    if (existsSync(vdir) && allReusable(r.pipeline, registries, vdir)) {
      writeRecord(plan.dir, { ...base, state: "finished", ended: new Date().toISOString() });
      log.info("finished earlier, skipped");
      return { kind: "skipped" };
    }
    await runPipeline(r.pipeline, registries, {
      runsDir: vdir,
      backend: plan.backend,
      // unset: the pipeline's, capped to a task's share of the cores (local jobs, Slurm allocation)
      threads: o.threads,
      // finished matching stages are reused, interrupted ones resume; a stage whose
      // configuration changed starts a new run directory (its latest run is what the summary reads)
      resume: existsSync(vdir),
      onChange: "new",
      logger: log,
    });
    writeRecord(plan.dir, { ...base, state: "finished", ended: new Date().toISOString() });
    return { kind: "ran" };
  } catch (e) {
    removeEmptyRunDirs(mark);
    const diagnostics: Diagnostic[] = isVoxelpipeError(e)
      ? e.diagnostics
      : [{ code: Codes.runtime, message: String((e as Error)?.message ?? e).split("\n")[0] }];
    writeRecord(plan.dir, { ...base, state: "failed", ended: new Date().toISOString(), diagnostics });
    log.error(`failed: ${diagnostics[0].code} ${diagnostics[0].message}`);
    return { kind: "failed", diagnostics };
  }
}
