import { readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Dataset, decodeSafetensors, RngStreams, type Sample, type Transform, type Volume } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { DataLoader } from "../src/data/loader.js";
import { decodeSamples, encodeSamples, transferables } from "../src/data/sample-codec.js";
import { tmp } from "./helpers.js";

const EYE = Float64Array.from([2, 0, 0, -3, 0, 2, 0, 4, 0, 0, 3, 5, 0, 0, 0, 1]);

describe("sample codec", () => {
  it("round-trips volumes of every voxel type with their metadata, numbers and strings", () => {
    const image: Volume = {
      data: Int16Array.from([-1024, 0, 5, 3071, 7, 8, 9, 10]),
      shape: [2, 2, 2],
      channels: 1,
      affine: EYE,
      meta: {
        source: "/data/a.nii.gz",
        originalAffine: EYE.slice(),
        originalShape: [4, 4, 2],
        applied: [{ op: "Spacing", params: { pixdim: [1.5, 1.5, 2] }, before: [4, 4, 2], affineBefore: EYE.slice() }],
      },
    };
    const label: Volume = { ...image, data: Uint32Array.from([0, 1, 2, 4294967295, 0, 0, 0, 1]), meta: {} };
    const samples: Sample[] = [
      { image, label, name: "a", n: 3, nan: Number.NaN, inf: Number.NEGATIVE_INFINITY, list: [1, "x"] },
      { vec: Float64Array.from([0.1, 0.2]), flag: true },
    ];
    const bytes = encodeSamples(samples, { subject: "/data/a.nii.gz" });
    const back = decodeSamples(bytes);
    expect(back.metadata).toEqual({ subject: "/data/a.nii.gz" });
    expect(back.samples).toEqual(samples);
    expect((back.samples[0].label as Volume).data).toBeInstanceOf(Uint32Array);
    // the file is plain safetensors: the volume is a [S0,S1,S2,C] I16 tensor
    const st = decodeSafetensors(bytes);
    const shapes = [...st.tensors.values()].map((t) => `${t.dtype}:${t.shape.join("x")}`);
    expect(shapes).toContain("I16:2x2x2x1");
    expect(shapes).toContain("U8:32"); // uint32 has no safetensors dtype: raw bytes, retyped on read
  });

  it("lists each transferable buffer once", () => {
    const a = new Float32Array(4);
    const s = [{ x: { data: a, shape: [1, 1, 4], channels: 1, affine: EYE, meta: { again: a } } }];
    const t = transferables(s);
    expect(t).toHaveLength(2);
    expect(t).toContain(a.buffer);
  });
});

describe("DataLoader: on-disk cache (cache_dir)", () => {
  function setup(dir: string) {
    const files = [0, 1, 2].map((i) => {
      const f = join(dir, `case${i}.nii.gz`);
      writeFileSync(f, `fake ${i}`);
      return f;
    });
    const dataset: Dataset = { splits: () => ["training"], size: () => 3, get: (_s, i) => ({ image: files[i] }) };
    let prefixCalls = 0;
    const chain: Transform[] = [
      {
        random: false,
        apply: (s) => {
          prefixCalls++;
          const text = readFileSync(s.image as string, "utf8");
          const data = Float32Array.from(text, (c) => c.charCodeAt(0));
          return {
            ...s,
            image: { data, shape: [data.length, 1, 1], channels: 1, affine: EYE, meta: { source: s.image } },
          };
        },
      },
      { random: true, apply: (s, rng) => ({ ...s, r: rng.rand() }) },
    ];
    return { files, dataset, chain, calls: () => prefixCalls };
  }

  it("writes each item's deterministic result once; a second run reads it instead of recomputing", async () => {
    const dir = tmp();
    const cacheDir = join(dir, "cache");
    const { files, dataset, chain, calls } = setup(dir);
    const make = (cacheKey: unknown, config = {}) =>
      new DataLoader({
        dataset,
        split: "training",
        chain,
        rng: new RngStreams(2),
        config: { cache_dir: "cache", cache_rate: 0, ...config },
        cacheKey,
        baseDir: dir,
      });
    const drain = async (l: DataLoader, epoch: number) => {
      const out: Sample[][] = [];
      for await (const it of l.items(epoch)) out.push(it.samples);
      return out;
    };
    const first = make({ t: "Load" });
    const a = await drain(first, 0);
    expect(calls()).toBe(3);
    expect(first.stats).toEqual({ prefixRuns: 3, diskHits: 0, diskWrites: 3 });
    const entries = readdirSync(cacheDir).filter((f) => f.endsWith(".safetensors"));
    expect(entries).toHaveLength(3);
    // header metadata names the subject; the volume's metadata is in the skeleton
    const one = decodeSamples(readFileSync(join(cacheDir, entries[0])));
    const src = (one.samples[0].image as Volume).meta.source as string;
    expect(files).toContain(src);
    expect(one.metadata.subject).toMatch(/^\/.*case\d\.nii\.gz \(training\[\d\]\)$/);
    expect(one.metadata.subject.startsWith(src)).toBe(true);
    // epoch 1 of the same loader (cache_rate 0: nothing in memory) reads the disk
    await drain(first, 1);
    expect(calls()).toBe(3);
    expect(first.stats.diskHits).toBe(3);

    // a new loader (a later run): no recomputation, identical samples
    const second = make({ t: "Load" });
    const b = await drain(second, 0);
    expect(calls()).toBe(3);
    expect(b).toEqual(a);
    expect(second.stats).toEqual({ prefixRuns: 0, diskHits: 3, diskWrites: 0 });

    // in-memory caching on top: one disk read per item, then memory
    const third = make({ t: "Load" }, { cache_rate: 1 });
    await drain(third, 0);
    await drain(third, 1);
    expect(third.stats.diskHits).toBe(3);
    expect(calls()).toBe(3);

    // another transforms config, or an edited source file, is another key
    await drain(make({ t: "Load", v: 2 }), 0);
    expect(calls()).toBe(6);
    utimesSync(files[1], new Date(), new Date(Date.now() + 5000));
    await drain(make({ t: "Load" }), 0);
    expect(calls()).toBe(7);
  });

  it("an unreadable entry is recomputed (with a warning), not trusted", async () => {
    const dir = tmp();
    const { dataset, chain, calls } = setup(dir);
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {}, child: () => logger };
    const make = () =>
      new DataLoader({
        dataset,
        split: "training",
        chain,
        rng: new RngStreams(2),
        config: { cache_dir: join(dir, "c"), cache_rate: 0 },
        cacheKey: 1,
        logger,
      });
    for await (const _ of make().items(0));
    const f = readdirSync(join(dir, "c"))[0];
    writeFileSync(join(dir, "c", f), "garbage");
    for await (const _ of make().items(0));
    expect(calls()).toBe(4);
    expect(warnings.join("\n")).toContain("ignoring unreadable cache entry");
  });
});
