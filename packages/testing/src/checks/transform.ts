import { type AppliedOp, isVolume, RandomState, type Sample, type Transform, type Volume } from "@voxelpipe/core";
import { deepEqual, expectThat, fail, noLeak } from "./common.js";

const asList = (r: Sample | Sample[]): Sample[] => (Array.isArray(r) ? r : [r]);

/** the spatial ops a volume carries */
const appliedOf = (v: Volume): AppliedOp[] => v.meta.applied ?? [];

/**
 * Transforms are deterministic under the seeded stream (two runs with RandomStates seeded alike
 * give identical samples; a transform that is not `random` ignores the stream), leave their input
 * sample untouched, keep Volume metadata (every key of the input's `meta`; `source`,
 * `originalShape`, `originalAffine` unchanged), produce consistent Volumes, leak no tensors, and
 * spatial ones invert: the records they add to `meta.applied` are undone by the instance's
 * `invert`, back to the input's grid (shape and affine).
 */
export async function checkTransform(t: Transform, sample: () => Sample, spatial: boolean): Promise<void> {
  // Long by design: the transform contract as one checklist run in order (determinism, untouched input,
  // metadata, volumes, leaks, inversion); each check is a few lines and they share the samples produced.
  expectThat(typeof t.random === "boolean", () => `random is ${typeof t.random}, not a boolean`);
  const input = sample();
  const pristine = structuredClone(input);
  const r1 = await noLeak("apply()", () => asList(t.apply(input, new RandomState(1234))));
  expectThat(
    deepEqual(input, pristine),
    () => "apply() modified its input sample: return new arrays/objects (the data loader caches inputs)",
  );
  const r2 = asList(t.apply(sample(), new RandomState(1234)));
  expectThat(
    deepEqual(r1, r2),
    () =>
      "two apply() calls with RandomStates seeded alike give different samples: draw randomness only from the rng argument",
  );
  if (!t.random) {
    const r3 = asList(t.apply(sample(), new RandomState(99)));
    expectThat(
      deepEqual(r1, r3),
      () =>
        "the transform is not random (random: false) but its output depends on the rng stream: declare random: true",
    );
  }
  expectThat(r1.length > 0, () => "apply() returned no samples");
  for (const out of r1) {
    for (const [k, v] of Object.entries(input)) {
      if (!isVolume(v)) continue;
      const o = out[k];
      if (o === undefined) continue; // a transform may drop keys (e.g. DeleteItems)
      expectThat(isVolume(o), () => `"${k}" was a Volume and is now ${typeof o}`);
      const vol = o as Volume;
      expectThat(
        vol.data.length === vol.shape[0] * vol.shape[1] * vol.shape[2] * vol.channels,
        () => `"${k}": data has ${vol.data.length} values for shape [${vol.shape}] × ${vol.channels} channels`,
      );
      expectThat(
        vol.affine instanceof Float64Array && vol.affine.length === 16,
        () => `"${k}": affine is not a 4×4 Float64Array`,
      );
      const lost = Object.keys(v.meta).filter((m) => !(m in vol.meta));
      expectThat(
        lost.length === 0,
        () => `"${k}": meta lost ${lost.join(", ")}; keep the input's meta ({ ...vol.meta, ... })`,
      );
      for (const m of ["source", "originalShape", "originalAffine"] as const) {
        expectThat(
          deepEqual(vol.meta[m], v.meta[m]),
          () => `"${k}": meta.${m} changed; it must keep describing the file as read`,
        );
      }
      const before = appliedOf(v).length;
      expectThat(
        deepEqual(appliedOf(vol).slice(0, before), appliedOf(v)),
        () => `"${k}": meta.applied lost or changed earlier records; append new ones`,
      );
      const added = appliedOf(vol).slice(before);
      const gridChanged = !deepEqual(vol.shape, v.shape) || !deepEqual(vol.affine, v.affine);
      if (gridChanged && !added.length) {
        fail(
          `"${k}": the grid changed ([${v.shape}] → [${vol.shape}] or the affine) but no record was added to meta.applied, so predictions cannot be mapped back: record the op and declare spatial: { inverse } (defineTransform)`,
        );
      }
      if (!added.length) continue;
      // a composite (Compose, OneOf) answers for its children through its instance's invert
      expectThat(
        spatial || typeof t.invert === "function",
        () =>
          `"${k}": apply() recorded ${added.map((a) => a.op).join(", ")} in meta.applied but the definition declares no spatial: { inverse }`,
      );
      const invert = t.invert;
      if (typeof invert !== "function") fail(`"${k}": apply() recorded spatial ops but the transform has no invert()`);
      let cur: Volume = vol;
      for (let i = added.length - 1; i >= 0; i--) {
        const op = added[i];
        const undone = invert.call(t, cur, op, {});
        if (!undone) fail(`"${k}": invert() does not claim the op "${op.op}" it recorded`);
        expectThat(
          deepEqual([...undone.shape], [...op.before]),
          () => `"${k}": invert() of "${op.op}" gives shape [${undone.shape}], the op was applied to [${op.before}]`,
        );
        cur = {
          ...undone,
          affine: Float64Array.from(op.affineBefore),
          meta: { ...undone.meta, applied: appliedOf(vol).slice(0, before + i) },
        };
      }
      expectThat(
        deepEqual([...cur.shape], [...v.shape]),
        () => `"${k}": after invert() the shape is [${cur.shape}], the input's [${v.shape}]`,
      );
      const maxAffine = Math.max(...Array.from(cur.affine, (x, i) => Math.abs(x - v.affine[i])));
      expectThat(maxAffine < 1e-6, () => `"${k}": after invert() the affine differs from the input's by ${maxAffine}`);
    }
  }
}

/** a small synthetic sample: a float image and an integer label on the same 8×8×8 grid (2 mm, RAS) */
export function syntheticSample(seed = 0, shape: [number, number, number] = [8, 8, 8]): Sample {
  const rng = new RandomState(seed);
  const n = shape[0] * shape[1] * shape[2];
  const affine = Float64Array.from([2, 0, 0, -8, 0, 2, 0, -8, 0, 0, 2, -8, 0, 0, 0, 1]);
  const meta = () => ({
    source: "synthetic.nii.gz",
    originalShape: [...shape] as [number, number, number],
    originalAffine: Float64Array.from(affine),
    applied: [],
  });
  const image: Volume = {
    data: Float32Array.from({ length: n }, () => rng.normal(0, 1)),
    shape: [...shape],
    channels: 1,
    affine: Float64Array.from(affine),
    meta: meta(),
  };
  const label: Volume = {
    data: Uint8Array.from({ length: n }, () => rng.randint(0, 3)),
    shape: [...shape],
    channels: 1,
    affine: Float64Array.from(affine),
    meta: meta(),
  };
  return { image, label };
}
