import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { splitShards } from "../src/infer/shards.js";
import { cli, tmp } from "./helpers.js";
import { folderBytes, TINY_INFER, type TinyModel, trainTinyModel } from "./shard-fixture.js";

// Measured on the loaded 2-core dev machine: ~60 s for the file (training the tiny model ~13 s,
// each inference of 5 cases 10–20 s); on an idle machine about half.
describe("sharded cohort inference (local executor)", () => {
  let model: TinyModel;
  beforeAll(async () => {
    model = await trainTinyModel();
  });

  it("splits cases round-robin into at most n non-empty shards", () => {
    expect(splitShards([1, 2, 3, 4, 5], 2)).toEqual([
      [1, 3, 5],
      [2, 4],
    ]);
    expect(splitShards([1, 2], 8)).toEqual([[1], [2]]);
    expect(splitShards([], 3)).toEqual([[]]);
  });

  it("--jobs 2 writes the label maps of one in-process run, byte for byte; evaluate reads the merged folder", async () => {
    const base = ["infer", TINY_INFER, "--checkpoint", model.checkpoint, "--input", model.datalist, "--split", "test"];
    const ref = join(tmp(), "ref");
    const a = await cli([...base, "--output", ref, "--runs-dir", model.runs, "--backend", "cpu"]);
    expect(a.code, a.stderr).toBe(0);
    const out = join(tmp(), "out");
    const runs = tmp();
    const b = await cli([...base, "--output", out, "--runs-dir", runs, "--backend", "cpu", "--jobs", "2"]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toContain("5 of 5 cases to predict in 2 shards (local)");
    expect(b.stderr).toContain("2 tasks, 2 at a time");
    expect(b.stdout).toContain("5 of 5 cases written");
    const want = folderBytes(ref);
    expect(want.size).toBe(5);
    const got = folderBytes(out);
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [f, bytes] of want) expect(got.get(f)?.equals(bytes), f).toBe(true);
    const labels = join(model.datalist, "..", "labelsTs");
    const ev = await cli(["evaluate", "--pred", out, "--label", labels, "--out", join(tmp(), "ev"), "--json"]);
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).cases).toHaveLength(5);
  });

  it("a failing case is listed by the final check (VP276); a re-run predicts only the missing cases", async () => {
    const inputs = join(tmp(), "in");
    mkdirSync(inputs);
    const list = JSON.parse(readFileSync(model.datalist, "utf8")).test as { image: string }[];
    const images = list.slice(0, 2).map((r) => join(model.datalist, "..", r.image));
    for (const f of images) copyFileSync(f, join(inputs, f.split("/").pop()!));
    writeFileSync(join(inputs, "broken.nii.gz"), gzipSync(Buffer.from("not a nifti")));
    const out = join(tmp(), "out");
    const runs = tmp();
    const args = ["infer", TINY_INFER, "--checkpoint", model.checkpoint, "--input", inputs, "--output", out];
    const flags = ["--runs-dir", runs, "--backend", "cpu", "--shards", "2"];
    const first = await cli([...args, ...flags]);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/2 of 3 cases written to .*; missing:\n- broken: .*VP003/);
    expect(first.stderr).toMatch(/error\[VP276\]: 1 of 3 cases were not written: broken/);
    const shards = join(
      runs,
      "tiny-infer",
      readdirSync(join(runs, "tiny-infer")).find((d) => d.startsWith("infer-shards-"))!,
    );
    expect(JSON.parse(readFileSync(join(shards, "check.json"), "utf8"))).toMatchObject({
      total: 3,
      written: 2,
      missing: ["broken"],
    });
    const written = folderBytes(out);

    const second = await cli([...args, ...flags]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("1 of 3 cases to predict in 1 shard (local)");
    expect(folderBytes(out)).toEqual(written); // the written cases were not predicted again

    rmSync(join(inputs, "broken.nii.gz"));
    const third = await cli([...args, ...flags]);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toContain("2 of 2 cases written");
  });
});
