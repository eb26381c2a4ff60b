/**
 * The MONAI 1.4 reference fixtures (`<shared>/reference/fixtures/*.safetensors`), read with the same decoder
 * the framework uses for checkpoints and weight import — no second reader to drift from it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeSafetensors, type SafeTensor } from "@voxelpipe/core";
import { FIXTURES } from "./gates.js";

export interface Fixture {
  /** the safetensors file read */
  file: string;
  tensors: Map<string, SafeTensor>;
  /** `__metadata__` as stored (string → string) */
  metadata: Record<string, string>;
  /** `__metadata__.case` parsed: how the fixture was made (the network's config, the transforms' arguments…) */
  meta: Record<string, unknown>;
  /** a tensor by name; throws naming the ones present when it is absent */
  get(name: string): SafeTensor;
  /** a tensor's values as float32 (what every io.* tensor of these fixtures holds, U8 labels widened) */
  f32(name: string): Float32Array;
}

/** `name` is the file's stem (`unetr`) or a path to any safetensors file */
export function loadFixture(name: string): Fixture {
  const file = name.endsWith(".safetensors") ? name : join(FIXTURES, `${name}.safetensors`);
  const { tensors, metadata } = decodeSafetensors(readFileSync(file), file);
  const get = (k: string): SafeTensor => {
    const t = tensors.get(k);
    if (!t) throw new Error(`${file}: no tensor "${k}" (has ${[...tensors.keys()].join(", ")})`);
    return t;
  };
  return {
    file,
    tensors,
    metadata,
    meta: metadata.case ? (JSON.parse(metadata.case) as Record<string, unknown>) : {},
    get,
    f32: (k) => {
      const d = get(k).data;
      return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
    },
  };
}

/** PyTorch channel-first `[B, C, S...]` → our channel-last `[B, S..., C]` (C order), as a new Float32Array */
export function toChannelLast(t: SafeTensor): { data: Float32Array; shape: number[] } {
  const [b, c, ...spatial] = t.shape;
  const n = spatial.reduce((a, x) => a * x, 1);
  const src = t.data as ArrayLike<number>;
  const out = new Float32Array(b * c * n);
  for (let bi = 0; bi < b; bi++)
    for (let ci = 0; ci < c; ci++) for (let v = 0; v < n; v++) out[(bi * n + v) * c + ci] = src[(bi * c + ci) * n + v];
  return { data: out, shape: [b, ...spatial, c] };
}
