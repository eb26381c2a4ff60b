/**
 * The image size limit in a pipeline file (`max_image_bytes:`), for `voxelpipe run` and in the data worker threads
 * that read the images: the flag over the file, the file over VOXELPIPE_MAX_IMAGE_BYTES.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_IMAGE_BYTES_ENV, MAX_IMAGE_BYTES_FROM_ENV, writeNifti } from "@voxelpipe/transforms";
import { describe, expect, it } from "vitest";
import { keepEnv } from "../../../test-utils/env.js";
import { builtOrSkip } from "../../../test-utils/gates.js";
import { workerFile } from "../src/data/pool.js";
import { cli, tmp } from "./helpers.js";
import { TINY_INFER, trainTinyModel } from "./shard-fixture.js";

const SHAPE: [number, number, number] = [12, 10, 8];
/** int16: 1920 bytes of voxel data */
const N = SHAPE[0] * SHAPE[1] * SHAPE[2];

async function project(limit: string | undefined, workers: number): Promise<string> {
  const dir = tmp();
  mkdirSync(join(dir, "data"));
  const affine = Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  for (const c of ["a", "b"])
    await writeNifti(
      join(dir, "data", `${c}.nii.gz`),
      { data: Int16Array.from({ length: N }, (_, v) => v % 100), shape: SHAPE, channels: 1, affine, meta: {} },
      { dtype: "int16" },
    );
  writeFileSync(
    join(dir, "data", "dataset.json"),
    JSON.stringify({ training: [{ image: "a.nii.gz" }], validation: [{ image: "b.nii.gz" }] }),
  );
  writeFileSync(
    join(dir, "pipe.yaml"),
    `version: 1
name: limit-test
seed: 1${limit === undefined ? "" : `\nmax_image_bytes: ${limit}`}
stages:
  prep:
    kind: preprocess
    data: { type: Datalist, datalist: data/dataset.json }
    split: [training, validation]
    transforms:
      - { type: LoadImage, keys: [image] }
    loader: { num_workers: ${workers} }
`,
  );
  return dir;
}

const run = (dir: string, ...more: string[]) =>
  cli(["run", join(dir, "pipe.yaml"), "--runs-dir", join(dir, "runs"), "--backend", "cpu", ...more]);

const before = process.env[MAX_IMAGE_BYTES_ENV];
keepEnv(MAX_IMAGE_BYTES_ENV, MAX_IMAGE_BYTES_FROM_ENV);

describe("max_image_bytes: in the pipeline file", () => {
  // images are read in data worker threads where the runner is built (CI builds first), else in the main thread
  // worker threads need the built runner: under CI a missing build fails instead of quietly testing the main thread
  const workers = builtOrSkip(workerFile()).ok ? 2 : 0;

  it(`a limit below the image's size refuses it with VP240 naming the file's line (${workers} workers); raised, it runs`, async () => {
    const low = await project("1KiB", workers);
    const r = await run(low);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("VP240");
    expect(r.stderr).toContain("declares 1.9 KiB of voxel data (dim 12×10×8 of int16), more than the 1.0 KiB limit");
    expect(r.stderr).toContain(`≤ 1024 bytes (max_image_bytes: at ${join(low, "pipe.yaml")}:4)`);
    // the run's limit does not stay in the process
    expect(process.env[MAX_IMAGE_BYTES_ENV]).toBe(before);

    const high = await project('"1 MiB"', workers);
    const ok = await run(high);
    expect(ok.stderr).not.toContain("VP240");
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("--max-image-bytes wins over the file, the file over VOXELPIPE_MAX_IMAGE_BYTES", async () => {
    const workers = 0; // the worker threads are the first test's
    const raised = await run(await project("1KiB", workers), "--max-image-bytes", "1MiB");
    expect(raised.code, raised.stderr).toBe(0);

    const lowered = await run(await project("1MiB", workers), "--max-image-bytes", "1000");
    expect(lowered.code).toBe(1);
    expect(lowered.stderr).toContain("VP240");
    expect(lowered.stderr).toContain("≤ 1000 bytes (--max-image-bytes)");

    const bad = await run(await project("1MiB", workers), "--max-image-bytes", "lots");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--max-image-bytes "lots" is not a size');

    process.env[MAX_IMAGE_BYTES_ENV] = "1000";
    const overEnv = await run(await project("1MiB", workers));
    expect(overEnv.code, overEnv.stderr).toBe(0);
    // without the key, the variable is the limit
    const envOnly = await run(await project(undefined, workers));
    expect(envOnly.code).toBe(1);
    expect(envOnly.stderr).toContain(`≤ 1000 bytes (${MAX_IMAGE_BYTES_ENV})`);
  });

  it("voxelpipe infer: the pipeline's limit refuses an input; --max-image-bytes raises it", async () => {
    const model = await trainTinyModel();
    const image = JSON.parse(readFileSync(model.datalist, "utf8")).test[0].image as string;
    const args = (out: string) => [
      "infer",
      TINY_INFER,
      "--checkpoint",
      model.checkpoint,
      "--input",
      join(model.datalist, "..", image),
      "--output",
      out,
      "--runs-dir",
      model.runs,
      "--backend",
      "cpu",
      "--set",
      "max_image_bytes=1KiB",
    ];
    const refused = await cli(args(join(tmp(), "out")));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("VP240");
    expect(refused.stderr).toContain("of voxel data (dim 24×24×24 of int16), more than the 1.0 KiB limit");
    const out = join(tmp(), "out");
    const raised = await cli([...args(out), "--max-image-bytes", "64MiB"]);
    expect(raised.code, raised.stderr).toBe(0);
    expect(readdirSync(out)).toHaveLength(1);
  });

  it("validate reports a bad value at its line with VP111 and a hint", async () => {
    const dir = await project("2 GB please", 0);
    const r = await cli(["validate", join(dir, "pipe.yaml"), "--no-data-checks"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[VP111]: not a size in bytes: the string "2 GB please"');
    expect(r.stderr).toContain(`--> ${join(dir, "pipe.yaml")}:4:18`);
    expect(r.stderr).toContain("help: write the limit as bytes or with a unit, e.g. max_image_bytes: 8GiB");
    const json = await cli(["validate", join(dir, "pipe.yaml"), "--json", "--no-data-checks"]);
    expect(JSON.parse(json.stdout).errors).toEqual([
      expect.objectContaining({ code: "VP111", path: "max_image_bytes", line: 4, col: 18 }),
    ]);
  });
});
