/**
 * The `sweep:` block is part of the pipeline's schema: `validate` reports a misspelt key or a wrong type there,
 * located, before a sweep is planned; the JSON Schema completes its keys in editors.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, tmp } from "./helpers.js";

const pipeline = (sweep: string) => `version: 1
name: sweep-block
stages:
  data: { kind: synth, cases: 2, size: 16 }
sweep:
${sweep}
`;

describe("the sweep: block in validate and the JSON Schema", () => {
  it("accepts the documented keys, and names a misspelt key and a wrong type with their lines", async () => {
    const dir = tmp();
    const ok = join(dir, "ok.yaml");
    writeFileSync(
      ok,
      pipeline(
        '  grid: { stages.data.cases: [2, 3] }\n  seeds: "0..1"\n  metrics: [data.cases]\n  executor: slurm\n  slurm: { partition: gpu, gpus: 1, time: "01:00:00" }',
      ),
    );
    const good = await cli(["validate", ok, "--no-data-checks"]);
    expect(good.stderr).toBe("");
    expect(good.code).toBe(0);

    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, pipeline("  grid: { stages.data.cases: [2] }\n  job: 2\n  slurm: { gpus: -1 }"));
    const r = await cli(["validate", bad, "--no-data-checks"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sweep/);
    expect(r.stderr).toMatch(/job/);
    expect(r.stderr).toMatch(/unknown key of sweep "job".*bad\.yaml:7:3.*did you mean "jobs"/s);
    expect(r.stderr).toMatch(/sweep\.slurm\.gpus/);
  });

  it("the JSON Schema lists the block's keys", async () => {
    const r = await cli(["schema"]);
    const sweep = JSON.parse(r.stdout).properties.sweep.anyOf.find((b: { type?: string }) => b.type === "object");
    expect(Object.keys(sweep.properties).sort()).toEqual(["executor", "grid", "jobs", "metrics", "seeds", "slurm"]);
  });
});
