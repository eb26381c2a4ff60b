import { defineTransform, isVolume, type Sample, z } from "@voxelpipe/core";

/** Multiply the values of some keys (Volumes or typed arrays) by a constant: a deterministic transform. */
export const ScaleDef = defineTransform({
  name: "Scale",
  description: "multiply the values of the given keys by a constant",
  args: z.object({
    keys: z.array(z.string()).min(1).describe("sample keys to scale (Volumes or number arrays)"),
    factor: z.number().default(1).describe("the constant"),
  }),
  create: (a) => ({
    random: false,
    apply(sample: Sample): Sample {
      // a new sample with new arrays: the input stays untouched (data loaders cache it)
      const out: Sample = { ...sample };
      for (const k of a.keys) {
        const v = sample[k];
        if (isVolume(v)) out[k] = { ...v, data: Float32Array.from(v.data, (x) => x * a.factor), meta: { ...v.meta } };
        else if (v instanceof Float32Array) out[k] = v.map((x) => x * a.factor);
        else throw new Error(`"${k}" is ${v === undefined ? "missing" : typeof v}, not a Volume or Float32Array`);
      }
      return out;
    },
  }),
});
