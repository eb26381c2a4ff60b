/**
 * Chains that are inverted (the infer stage's) may hold only spatial transforms that declare an
 * inverse: `voxelpipe validate` (and a run's preflight) reports one that does not as VP105, located,
 * before any data are read. A third-party plugin's transforms get the same treatment as built-ins:
 * the inverse its definition declares travels with its instances.
 */
import type { Sample, Transform, TransformDefinition, Volume } from "@voxelpipe/core";
import { invertSpatial } from "@voxelpipe/transforms";
import { describe, expect, it } from "vitest";
// biome-ignore lint/suspicious/noTsIgnore: a JavaScript test plugin without type declarations
// @ts-ignore
import spatialPlugin from "./fixtures/plugins/spatial/index.js";
import { cli } from "./helpers.js";

const PLUGIN = "plugins=[../packages/runner/test/fixtures/plugins/spatial]";

/** `voxelpipe validate` of the demo pipeline (its predict stage inverts `@stages.finetune.transforms.val`) */
async function validate(...sets: string[]) {
  const r = await cli([
    "validate",
    "pipelines/demo.yaml",
    "--no-data-checks",
    "--json",
    ...[PLUGIN, ...sets].flatMap((s) => ["--set", s]),
  ]);
  return { code: r.code, out: JSON.parse(r.stdout || "{}"), stderr: r.stderr };
}

describe("a spatial transform without inverse in a chain that is inverted is a validation diagnostic", () => {
  it("VP105 where it is written, naming the stage that inverts it", async () => {
    const r = await validate("stages.finetune.transforms.val.3={type: Warp, keys: [image, label]}");
    expect(r.code).toBe(1);
    expect(r.out.errors).toHaveLength(1);
    expect(r.out.errors[0]).toMatchObject({
      code: "VP105",
      path: "stages.finetune.transforms.val[3]",
      file: "--set #2",
      got: "acme/Warp (plugin @acme/spatial-plugin): spatial, inverse null",
    });
    expect(r.out.errors[0].message).toContain('stage "predict" undoes its transforms');
  });

  it("inside a Compose too; an invertible one, or the same transform where nothing is inverted, is fine", async () => {
    const nested = await validate(
      "stages.finetune.transforms.val.3={type: Compose, transforms: [{type: Shift, keys: [image]}, {type: Warp, keys: [image]}]}",
    );
    expect(nested.out.errors?.map((d: { code: string; path: string }) => [d.code, d.path])).toEqual([
      ["VP105", "stages.finetune.transforms.val[3].transforms[1]"],
    ]);
    const fine = await validate(
      "stages.finetune.transforms.val.3={type: Shift, keys: [image, label]}",
      "stages.finetune.transforms.train.4={type: Warp, keys: [image, label]}",
    );
    expect(fine.stderr).toBe("");
    expect(fine.out).toMatchObject({ ok: true });
  });
});

describe("a plugin's transforms undo themselves through the chain", () => {
  const defs = spatialPlugin.components as TransformDefinition[];
  const build = (name: string) => {
    const def = defs.find((d) => d.name === name) as TransformDefinition;
    return def.create(def.args.parse({ keys: ["image"] }), {} as never) as Transform;
  };
  const affine = Float64Array.from([0.8, 0, 0, -10, 0, 0.8, 0, 5, 0, 0, 2, 1, 0, 0, 0, 1]);
  const image: Volume = {
    data: new Float32Array(24).map((_, i) => i),
    shape: [4, 3, 2],
    channels: 1,
    affine,
    meta: { originalShape: [4, 3, 2], originalAffine: Float64Array.from(affine) },
  };

  it("Shift's declared inverse is its instances' invert; Warp's record cannot be undone (VP106)", () => {
    const shift = build("Shift");
    expect(typeof shift.invert).toBe("function");
    const moved = (shift.apply({ image }, undefined as never) as Sample).image as Volume;
    expect(moved.affine[3]).toBeCloseTo(-9.2, 12);
    const back = invertSpatial(moved, [shift]);
    expect(Array.from(back.affine)).toEqual(Array.from(affine));
    expect(Array.from(back.data)).toEqual(Array.from(image.data));
    const warp = build("Warp");
    expect(warp.invert).toBeUndefined();
    const warped = (warp.apply({ image }, undefined as never) as Sample).image as Volume;
    expect(() => invertSpatial(warped, [shift, warp])).toThrow(expect.objectContaining({ code: "VP106" }));
  });
});
