/**
 * `sweep status` asks every executor what it still holds before it looks at run folders: a variant a
 * scheduler holds is queued or running whatever its folders say, so it is not compiled for a reuse check.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { registerExecutor } from "../src/executors/index.js";
import { executorFrom } from "../src/executors/options.js";
import { SLURM_DEFAULT_PARALLEL } from "../src/executors/slurm.js";
import type { ActiveTask, Executor } from "../src/executors/types.js";
import { planOf, sweepStatuses } from "../src/sweep/sweep.js";
import { REPO, tmp } from "./helpers.js";

const compiledIds = vi.hoisted(() => [] as string[]);
vi.mock("../src/sweep/plan.js", async (importOriginal) => {
  const m = await importOriginal<typeof import("../src/sweep/plan.js")>();
  return {
    ...m,
    compileVariant: (plan: Parameters<typeof m.compileVariant>[0], v: Parameters<typeof m.compileVariant>[1]) => {
      compiledIds.push(v.id);
      return m.compileVariant(plan, v);
    },
  };
});

/** a scheduler that holds the variants it is given, and launches nothing */
function holding(held: Map<string, ActiveTask>): Executor {
  return {
    name: "holding",
    detached: true,
    parallel: 1,
    launch: () => Promise.reject(new Error("not here")),
    active: async () => held,
    ended: async () => new Map(),
  };
}

describe("sweep status and schedulers", () => {
  it("a variant a scheduler holds is queued, not compiled; a started one it does not hold is", async () => {
    const plan = await planOf({
      file: join(REPO, "pipelines/example-regression.yaml"),
      spec: {
        grid: [{ path: "stages.fit.optimizer.lr", values: [1e-3, 3e-3] }],
        seeds: [0],
        metrics: ["fit.best"],
      },
      sets: [],
      runsDir: tmp(),
      load: {},
    });
    const [a, b] = plan.variants.map((v) => v.id);
    for (const id of [a, b]) mkdirSync(join(plan.dir, id), { recursive: true });
    registerExecutor("holding", () => holding(new Map([[a, { job: "7_0", state: "PENDING", detail: "(Priority)" }]])));
    compiledIds.length = 0;
    const statuses = await sweepStatuses(plan);
    expect(statuses.find((s) => s.variant === a)).toEqual({
      variant: a,
      state: "queued",
      job: "7_0",
      detail: "PENDING (Priority)",
    });
    expect(statuses.find((s) => s.variant === b)?.state).toBe("interrupted");
    expect(compiledIds).toEqual([b]);
  });

  it("an executor says how many tasks may run at once", () => {
    const flags = { sbatchArg: [] };
    expect(executorFrom(flags).parallel).toBe(1);
    expect(executorFrom({ ...flags, jobs: 3 }).parallel).toBe(3);
    expect(executorFrom({ ...flags, executor: "slurm" }).parallel).toBe(SLURM_DEFAULT_PARALLEL);
    expect(executorFrom({ ...flags, executor: "slurm", maxParallel: 4 }).parallel).toBe(4);
  });
});
