import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compilePipeline } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { builtinRegistries } from "../src/registries.js";
import { preflight } from "../src/run/preflight.js";
import { cli, REPO, tmp } from "./helpers.js";

const PIPELINE = join(REPO, "pipelines", "unetr-btcv-finetune.yaml");

async function problems(sets: string[]) {
  const r = await compilePipeline(PIPELINE, { overrides: sets, registries: builtinRegistries() });
  expect(r.diagnostics).toEqual([]);
  return preflight(r.pipeline!);
}

describe("preflight: what a run would only find out late is reported before any stage runs", () => {
  it("missing datalist images (located in the datalist), a missing init checkpoint, loss weights, num_classes and roi vs the model", async () => {
    const dir = tmp();
    mkdirSync(join(dir, "imagesTr"));
    writeFileSync(join(dir, "imagesTr", "a.nii.gz"), "");
    const dl = join(dir, "dataset.json");
    writeFileSync(
      dl,
      JSON.stringify(
        {
          training: [{ image: "imagesTr/a.nii.gz", label: "imagesTr/a.nii.gz" }],
          validation: [{ image: "imagesTr/b.nii.gz", label: "imagesTr/a.nii.gz" }],
        },
        null,
        1,
      ),
    );
    const ds = await problems([
      `vars.btcv_datalist=${dl}`,
      "stages.finetune.step.loss.call.weight=[1, 1, 1]",
      "stages.finetune.validate.inferer.roi_size=[64, 64, 64]",
      "stages.finetune.validate.metrics.0.num_classes=3",
    ]);
    const by = (path: string) => ds.find((d) => d.path === path);
    expect(by("validation[0].image")?.loc).toEqual({ file: dl, line: 10, col: 13 });
    expect(by("validation[0].image")?.message).toContain("file not found");
    expect(by("stages.finetune.model.init.from")?.code).toBe("VP002");
    expect(by("stages.finetune.step.loss.call.weight")).toMatchObject({
      code: "VP111",
      expected: "14 weights",
      got: "3 weights",
      loc: { file: "--set #2" },
    });
    expect(by("stages.finetune.validate.metrics[0].num_classes")?.message).toContain("num_classes is 3");
    expect(by("stages.finetune.validate.inferer.roi_size")?.message).toContain(
      "roi_size [64, 64, 64] differs from the model's img_size [96, 96, 96]",
    );
  });

  it("a missing datalist is VP002 at its line in the pipeline; DiceLoss without background needs out_channels − 1 weights", async () => {
    const ds = await problems([
      "vars.btcv_datalist=/nonexistent/dataset.json",
      "vars.ssl_checkpoint=null",
      "stages.finetune.model.init=null",
      "stages.finetune.step.loss.call={type: DiceLoss, include_background: false, to_onehot_y: true, softmax: true, weight: [1,1,1,1,1,1,1,1,1,1,1,1,1]}",
    ]);
    expect(ds.map((d) => [d.code, d.path])).toEqual([["VP002", "stages.finetune.data.datalist"]]);
    expect(ds[0].loc?.file).toBe(PIPELINE);
    const line =
      readFileSync(PIPELINE, "utf8")
        .split("\n")
        .findIndex((l) => l.includes("type: Datalist")) + 1;
    expect(ds[0].loc?.line).toBe(line);
  });
  it("voxelpipe validate runs these checks: data files (unless --no-data-checks) and the constraints (always)", async () => {
    const dir = tmp();
    mkdirSync(join(dir, "imagesTr"));
    writeFileSync(join(dir, "imagesTr", "a.nii.gz"), "");
    const dl = join(dir, "dataset.json");
    writeFileSync(
      dl,
      JSON.stringify({ training: [{ image: "imagesTr/a.nii.gz" }, { image: "imagesTr/b.nii.gz" }] }, null, 1),
    );
    const file = join("pipelines", "preprocess-synth.yaml");
    const missing = JSON.parse((await cli(["validate", file, "--set", `vars.datalist=${dl}`, "--json"])).stdout);
    expect(missing.ok).toBe(false);
    const at = missing.errors.find((e: { path: string }) => e.path === "training[1].image");
    expect(at).toMatchObject({ code: "VP210", file: dl, line: 7, col: 13 });
    expect(at.message).toContain(`file not found: ${join(dir, "imagesTr", "b.nii.gz")}`);
    const skipped = await cli(["validate", file, "--set", `vars.datalist=${dl}`, "--no-data-checks"]);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toContain("ok (1 stage: preprocess) (data files not checked)");
    writeFileSync(join(dir, "imagesTr", "b.nii.gz"), "");
    const ok = await cli(["validate", file, "--set", `vars.datalist=${dl}`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(`${file}: ok (1 stage: preprocess)\n`);

    // cross-component constraints are checked with or without data checks, located in the override
    for (const flags of [[], ["--no-data-checks"]]) {
      const r = await cli([
        "validate",
        join("pipelines", "demo.yaml"),
        "--set",
        "stages.finetune.step.loss.call.weight=[1, 1, 1]",
        ...flags,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("error[VP111]: DiceCELoss has 3 class weights, the model (UNETR) has out_channels 14");
      expect(r.stderr).toContain("--> --set #1");
      expect(r.stderr).toContain("1 problem found");
    }
  });
});
