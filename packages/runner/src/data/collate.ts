import { isVolume, type Sample, tf, type Volume } from "@voxelpipe/core";

/**
 * Stack samples into batch tensors: a Volume becomes [B, S0, S1, S2, C] (channel-last), a numeric
 * vector [B, n], a number [B]. Other values (paths, metadata) stay out of the batch. Every sample
 * must have the same shape per key.
 */
export function collate(samples: Sample[], keys?: readonly string[]): Record<string, tf.Tensor> {
  if (samples.length === 0) return {};
  const out: Record<string, tf.Tensor> = {};
  const wanted = keys ?? Object.keys(samples[0]);
  for (const key of wanted) {
    const first = samples[0][key];
    if (isVolume(first)) {
      const v0 = first as Volume;
      const n = v0.data.length;
      const buf = new Float32Array(n * samples.length);
      samples.forEach((s, i) => {
        const v = s[key] as Volume;
        if (!isVolume(v) || v.data.length !== n || v.shape.some((d, j) => d !== v0.shape[j])) {
          throw new Error(
            `cannot batch "${key}": sample ${i} has shape ${isVolume(v) ? `${v.shape.join("×")}×${v.channels}` : typeof v} but sample 0 has ${v0.shape.join("×")}×${v0.channels} (crop or pad to a common size)`,
          );
        }
        buf.set(v.data, i * n);
      });
      out[key] = tf.tensor5d(buf, [samples.length, ...v0.shape, v0.channels]);
    } else if (first instanceof Float32Array || (Array.isArray(first) && typeof first[0] === "number")) {
      const n = (first as ArrayLike<number>).length;
      const buf = new Float32Array(n * samples.length);
      samples.forEach((s, i) => {
        buf.set(s[key] as ArrayLike<number>, i * n);
      });
      out[key] = tf.tensor2d(buf, [samples.length, n]);
    } else if (typeof first === "number") {
      out[key] = tf.tensor1d(samples.map((s) => s[key] as number));
    }
  }
  return out;
}
