import * as tf from "@tensorflow/tfjs-core";
import type { NamedVariables, SafeTensor } from "@voxelpipe/core";

/** Copy every variable out of the backend as float32 safetensors entries (insertion order kept). */
export async function modelTensors(params: NamedVariables): Promise<Map<string, SafeTensor>> {
  const out = new Map<string, SafeTensor>();
  for (const [k, v] of params) {
    const data = (await v.data()) as Float32Array;
    out.set(k, { dtype: "F32", shape: [...v.shape], data: Float32Array.from(data) });
  }
  return out;
}

/** Float32 view/copy of a tensor's data for assignment into a float32 variable. */
export function toFloat32(t: SafeTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof BigInt64Array) return Float32Array.from(t.data, (v) => Number(v));
  return Float32Array.from(t.data as ArrayLike<number>);
}

/** Assign values to an existing variable (shape already checked by the caller). */
export function assignVariable(v: tf.Variable, t: SafeTensor): void {
  const val = tf.tensor(toFloat32(t), v.shape, "float32");
  v.assign(val);
  val.dispose();
}
