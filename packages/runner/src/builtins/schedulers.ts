import { defineScheduler, type Scheduler, z } from "@voxelpipe/core";

/** Learning-rate schedules as a function of the iteration (0-based) and the run's total iterations. */
export const ConstantLRDef = defineScheduler({
  name: "ConstantLR",
  description: "the optimizer's lr throughout",
  args: z.object({}),
  create: (): Scheduler => ({ lrAt: (_i, _n, base) => base }),
});

export const StepLRDef = defineScheduler({
  name: "StepLR",
  description: "lr × gamma every step_size iterations",
  args: z.object({
    step_size: z.number().int().positive().describe("iterations between decays"),
    gamma: z.number().positive().default(0.1).describe("factor applied every step_size iterations"),
  }),
  create: (a): Scheduler => ({ lrAt: (i, _n, base) => base * a.gamma ** Math.floor(i / a.step_size) }),
});

export const WarmupCosineDef = defineScheduler({
  name: "WarmupCosine",
  description: "linear warm-up from 0 over warmup_steps, then cosine decay to min_lr at the last iteration",
  args: z.object({
    warmup_steps: z.number().int().min(0).default(0).describe("iterations of linear warm-up from 0"),
    min_lr: z.number().min(0).default(0).describe("learning rate at the last iteration"),
  }),
  create: (a): Scheduler => ({
    lrAt(i, n, base) {
      if (i < a.warmup_steps) return (base * (i + 1)) / a.warmup_steps;
      const span = Math.max(1, n - a.warmup_steps);
      const t = Math.min(1, (i - a.warmup_steps) / span);
      return a.min_lr + 0.5 * (base - a.min_lr) * (1 + Math.cos(Math.PI * t));
    },
  }),
});
