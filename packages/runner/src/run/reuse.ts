import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CompiledPipeline, Registries } from "@voxelpipe/core";
import { readFingerprint, stageFingerprint } from "./fingerprint.js";
import { latestRunDir } from "./run-dir.js";

export interface StageReuse {
  stage: string;
  /** the stage's latest run directory, if any */
  dir?: string;
  finished: boolean;
  /** its fingerprint equals the pipeline's as compiled now */
  matches: boolean;
}

/**
 * What `--resume` would reuse, per stage, without running anything: the latest run of each stage,
 * whether it finished and whether it was made with this configuration. A sweep (or any caller)
 * may skip a variant only when every stage is `finished && matches`; otherwise runPipeline with
 * `resume` decides (and refuses a changed configuration, or starts anew with onChange: "new").
 */
export function reusableRuns(p: CompiledPipeline, registries: Registries, runsDir: string): StageReuse[] {
  const outputs = new Map<string, Record<string, string>>();
  return p.order.map((stage) => {
    const dir = latestRunDir(runsDir, p.name, stage);
    const out = dir ? join(dir, "outputs.json") : undefined;
    const finished = !!out && existsSync(out);
    const matches = !!dir && readFingerprint(dir)?.hash === stageFingerprint(p, stage, registries, outputs).hash;
    if (finished && out) {
      try {
        outputs.set(stage, JSON.parse(readFileSync(out, "utf8")));
      } catch {}
    }
    return { stage, dir, finished, matches };
  });
}

/** every stage finished with this very configuration: nothing to run */
export function allReusable(p: CompiledPipeline, registries: Registries, runsDir: string): boolean {
  return reusableRuns(p, registries, runsDir).every((s) => s.finished && s.matches);
}
