import { RandomState, type Sample, type Transform, type Volume } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { coarseDropout, coarseShuffle, sampleHoles } from "../src/transforms/coarse.js";
import { applyTransforms, compose } from "../src/transforms/compose.js";
import { keepsInputs, own, withOwnership, writableInPlace } from "../src/transforms/owned.js";
import { create, vol } from "./transforms-util.js";

/** random float32 volume (values in [0, 1)) */
function noise(shape: [number, number, number], seed: number, channels = 1): Volume {
  const r = new RandomState(seed);
  const n = shape[0] * shape[1] * shape[2] * channels;
  return vol(
    Array.from({ length: n }, () => r.rand()),
    shape,
    { channels },
  );
}

const cutout = (key: string) => ({
  type: "OneOf",
  transforms: [
    {
      type: "RandCoarseDropout",
      keys: [key],
      prob: 1,
      holes: 6,
      spatial_size: 2,
      dropout_holes: true,
      max_spatial_size: 6,
    },
    {
      type: "RandCoarseDropout",
      keys: [key],
      prob: 1,
      holes: 6,
      spatial_size: 3,
      dropout_holes: false,
      max_spatial_size: 8,
    },
  ],
});
const SSL = [
  { type: "RandSpatialCropSamples", keys: ["image"], roi_size: 12, num_samples: 2 },
  { type: "CopyItems", keys: ["image"], times: 2, names: ["gt_image", "image_2"] },
  cutout("image"),
  { type: "RandCoarseShuffle", keys: ["image"], prob: 0.8, holes: 10, spatial_size: 3 },
  cutout("image_2"),
  { type: "RandCoarseShuffle", keys: ["image_2"], prob: 0.8, holes: 10, spatial_size: 3 },
];

async function sslChain(): Promise<Transform[]> {
  return Promise.all(SSL.map(({ type, ...args }) => create(type, args)));
}

/** runChain without an ownership scope: every transform applied alone (copies everywhere, nothing in place) */
function applyAlone(chain: Transform[], sample: Sample, rng: RandomState): Sample[] {
  const streams = chain.map((c) => (c.random ? new RandomState(rng.randint(2 ** 32)) : rng));
  let cur: Sample[] = [sample];
  chain.forEach((t, i) => {
    cur = cur.flatMap<Sample>((s) => t.apply(s, streams[i]));
  });
  return cur;
}

const vals = (s: Sample, k: string) => Array.from((s[k] as Volume).data);

describe("copy on write: in-place writes only into arrays the chain run owns", () => {
  it("✔ the SSL chain gives the same values as the transforms applied alone, never touches its input, and its copies are independent", async () => {
    const chain = await sslChain();
    expect(chain.every(keepsInputs)).toBe(true);
    for (let seed = 0; seed < 12; seed++) {
      const input = noise([20, 17, 15], 100 + seed);
      const before = Array.from(input.data);
      const out = applyTransforms(chain, { image: input }, new RandomState(seed)) as Sample[];
      const ref = applyAlone(chain, { image: noise([20, 17, 15], 100 + seed) }, new RandomState(seed));
      expect(Array.from(input.data)).toEqual(before); // the user's input is never written
      expect(out).toHaveLength(2);
      for (let i = 0; i < 2; i++) {
        for (const k of ["image", "gt_image", "image_2"]) expect(vals(out[i], k)).toEqual(vals(ref[i], k));
        const bufs = ["image", "gt_image", "image_2"].map((k) => (out[i][k] as Volume).data.buffer);
        // both corrupted views were written, each into an array of its own; gt_image is the clean crop
        expect(new Set(bufs).size).toBe(3);
        expect(bufs.includes(input.data.buffer)).toBe(false);
        expect(vals(out[i], "image")).not.toEqual(vals(out[i], "gt_image"));
        expect(vals(out[i], "image_2")).not.toEqual(vals(out[i], "gt_image"));
        const gt = out[i].gt_image as Volume;
        const start = gt.meta.applied!.at(-1)!.params.start as number[];
        const [, n1, n2] = input.shape;
        for (let a = 0; a < 12; a++)
          for (let b = 0; b < 12; b++)
            for (let c = 0; c < 12; c++)
              expect(gt.data[(a * 12 + b) * 12 + c]).toBe(
                input.data[((start[0] + a) * n1 + start[1] + b) * n2 + start[2] + c],
              );
      }
      // the two samples of the crop hold different arrays
      expect((out[0].image as Volume).data.buffer).not.toBe((out[1].image as Volume).data.buffer);
    }
  });

  it("✔ CopyItems: real copies when applied alone; inside a run of built-ins the copies share until a transform writes", async () => {
    const copy = await create("CopyItems", { keys: ["image"], times: 2, names: ["a", "b"] });
    const drop = await create("RandCoarseDropout", { keys: ["a"], prob: 1, holes: 2, spatial_size: 2, fill_value: -1 });
    const v = noise([6, 6, 6], 1);
    const alone = copy.apply({ image: v }, new RandomState(0)) as Sample;
    expect((alone.a as Volume).data).not.toBe(v.data);
    const run = compose([copy, drop]).apply({ image: v }, new RandomState(0)) as Sample;
    // "a" was written: into its own array; "b" and the input share the (untouched) input array
    expect((run.b as Volume).data).toBe(v.data);
    expect((run.a as Volume).data).not.toBe(v.data);
    expect(Array.from(v.data)).toEqual(Array.from(noise([6, 6, 6], 1).data));
    expect(vals(run, "a").filter((x) => x === -1).length).toBeGreaterThan(0);
  });

  it("✔ a plugin transform (not known to keep its inputs) turns sharing off: CopyItems copies", async () => {
    const copy = await create("CopyItems", { keys: ["image"], names: ["a"] });
    const plugin: Transform = { random: false, apply: (s) => s };
    const v = noise([4, 4, 4], 2);
    const out = compose([copy, plugin]).apply({ image: v }, new RandomState(0)) as Sample;
    expect((out.a as Volume).data).not.toBe(v.data);
    expect(keepsInputs(compose([copy, plugin]))).toBe(false);
  });

  it("✔ writableInPlace: only owned arrays held by one key, only inside a run", () => {
    const v = noise([3, 3, 3], 3);
    const fresh = { ...v, data: v.data.slice() };
    expect(writableInPlace({ x: fresh }, "x")).toBe(false); // no run
    withOwnership([], () => {
      expect(writableInPlace({ x: fresh }, "x")).toBe(false); // not owned
      own(fresh.data);
      expect(writableInPlace({ x: fresh }, "x")).toBe(true);
      expect(writableInPlace({ x: fresh, y: { ...fresh } }, "x")).toBe(false); // another key holds it
    });
    expect(writableInPlace({ x: fresh }, "x")).toBe(false); // the run is over
  });

  it("✔ in-place cutouts and shuffle equal the copying ones bit for bit (1 and 2 channels, all fills)", () => {
    for (const C of [1, 2]) {
      for (let seed = 0; seed < 6; seed++) {
        const v = noise([9, 8, 7], 40 + seed, C);
        const holesOf = (r: RandomState) => sampleHoles(r, v.shape, { holes: 4, spatialSize: 2, maxSpatialSize: 5 });
        for (const [dropoutHoles, fill] of [
          [true, null],
          [false, null],
          [false, [-2, 3]],
          [false, 7],
          [true, 5],
        ] as const) {
          const r1 = new RandomState(seed);
          const r2 = new RandomState(seed);
          const copy = coarseDropout(v, holesOf(r1), dropoutHoles, fill as never, r1);
          const w = { ...v, data: v.data.slice() };
          const inPlace = coarseDropout(w, holesOf(r2), dropoutHoles, fill as never, r2, true);
          expect(inPlace.data).toBe(w.data);
          expect(Array.from(inPlace.data)).toEqual(Array.from(copy.data));
          expect(r1.rand()).toBe(r2.rand()); // the streams advanced alike
        }
        const r1 = new RandomState(seed);
        const r2 = new RandomState(seed);
        const sh = (r: RandomState) => sampleHoles(r, v.shape, { holes: 5, spatialSize: 3 });
        const copy = coarseShuffle(v, sh(r1), r1);
        const w = { ...v, data: v.data.slice() };
        expect(Array.from(coarseShuffle(w, sh(r2), r2, true).data)).toEqual(Array.from(copy.data));
        expect(r1.rand()).toBe(r2.rand());
      }
    }
  });
});
