/**
 * Samples as data: deep copies (the cache hands out copies), the buffers to transfer between
 * threads, and a safetensors encoding for the on-disk cache (every typed array becomes a tensor,
 * the rest of the sample — volume shape, affine slot, metadata — a JSON skeleton in the header).
 */
import {
  decodeSafetensors,
  encodeSafetensors,
  isVolume,
  type SafeArray,
  type SafeDtype,
  type Sample,
} from "@voxelpipe/core";

type View = ArrayBufferView & { length: number };

const isView = (x: unknown): x is View => ArrayBuffer.isView(x) && !(x instanceof DataView);

/**
 * Deep copy of a value of a sample. Typed arrays are copied with slice() (a memcpy; structuredClone
 * serialises and deserialises, ~5× slower on a 30 MB volume); plain objects and arrays recursively;
 * anything else through structuredClone, or shared when it cannot be cloned (functions, classes).
 */
function cloneValue(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (isView(v)) return (v as unknown as { slice(): unknown }).slice();
  if (Array.isArray(v)) return v.map(cloneValue);
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneValue(x);
    return out;
  }
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}

/** Deep copy of samples (MONAI CacheDataset copy_cache): transforms may then modify them in place. */
export function cloneSamples(samples: Sample[]): Sample[] {
  return samples.map((s) => cloneValue(s) as Sample);
}

/**
 * The samples a chain made from `shared` ones (the loader's cached items), made safe to hand out without
 * a deep copy of the cache: a typed array held by `shared`, or by an earlier place in `out` (two keys or
 * samples sharing one array), is copied; the others (the chain's own new arrays) are kept; containers and
 * metadata are copied. The consumer then owns every array it gets, as after a deep copy.
 */
export function detachSamples(out: Sample[], shared: Sample[]): Sample[] {
  const taken = new Set<ArrayBufferLike>();
  const collect = (v: unknown, seen: Set<object>) => {
    if (v === null || typeof v !== "object" || seen.has(v)) return;
    seen.add(v);
    if (isView(v)) taken.add(v.buffer);
    else for (const x of Array.isArray(v) ? v : Object.values(v)) collect(x, seen);
  };
  collect(shared, new Set());
  const detach = (v: unknown): unknown => {
    if (v === null || typeof v !== "object") return v;
    if (isView(v)) {
      if (taken.has(v.buffer)) return (v as unknown as { slice(): unknown }).slice();
      taken.add(v.buffer);
      return v;
    }
    if (Array.isArray(v)) return v.map(detach);
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = detach(x);
      return o;
    }
    return cloneValue(v);
  };
  return out.map((s) => detach(s) as Sample);
}

/** The distinct ArrayBuffers under `x` (typed arrays in volumes, metadata, ...) to transfer with a message. */
export function transferables(x: unknown): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const seen = new Set<object>();
  const walk = (v: unknown) => {
    if (v === null || typeof v !== "object" || seen.has(v)) return;
    seen.add(v);
    if (isView(v)) {
      if (v.buffer instanceof ArrayBuffer) out.add(v.buffer);
      return;
    }
    if (v instanceof ArrayBuffer) {
      out.add(v);
      return;
    }
    for (const x of Array.isArray(v) ? v : Object.values(v)) walk(x);
  };
  walk(x);
  return [...out];
}

/** typed-array constructors by name (what the skeleton records) */
const CTORS: Record<string, { new (b: ArrayBuffer, o: number, n: number): View; BYTES_PER_ELEMENT: number }> = {
  Float32Array,
  Float64Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
};

/** safetensors dtypes for arrays it knows; others are stored as raw bytes (U8) and retyped from the skeleton */
const NATIVE: Record<string, SafeDtype> = {
  Float32Array: "F32",
  Float64Array: "F64",
  Int8Array: "I8",
  Uint8Array: "U8",
  Int16Array: "I16",
  Uint16Array: "U16",
  Int32Array: "I32",
  BigInt64Array: "I64",
};

const TA = "__vp_typed_array__";
const NUM = "__vp_number__";

/** Encode a list of samples (a cached item) as safetensors bytes. */
export function encodeSamples(samples: Sample[], metadata: Record<string, string> = {}): Uint8Array {
  const tensors: [string, { shape: number[]; data: SafeArray; dtype?: SafeDtype }][] = [];
  const put = (a: View, shape?: number[]): Record<string, unknown> => {
    const name = `t${tensors.length}`;
    const ctor = a.constructor.name;
    const native = NATIVE[ctor];
    if (native) tensors.push([name, { shape: shape ?? [a.length], data: a as unknown as SafeArray, dtype: native }]);
    else {
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      tensors.push([name, { shape: [bytes.length], data: bytes, dtype: "U8" }]);
    }
    return { [TA]: name, type: ctor };
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === "number") return Number.isFinite(v) ? v : { [NUM]: String(v) };
    if (v === null || typeof v !== "object") return v;
    if (isView(v)) return put(v);
    if (Array.isArray(v)) return v.map(walk);
    if (isVolume(v)) {
      const { data, ...rest } = v;
      const out = walk(rest) as Record<string, unknown>;
      out.data = put(data as View, [...v.shape, v.channels]);
      return out;
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  };
  const skeleton = JSON.stringify(samples.map(walk));
  return encodeSafetensors(tensors, { ...metadata, "voxelpipe.samples": skeleton });
}

/** Decode what `encodeSamples` wrote; `source` names the file in errors. */
export function decodeSamples(
  bytes: Uint8Array,
  source?: string,
): { samples: Sample[]; metadata: Record<string, string> } {
  const file = decodeSafetensors(bytes, source);
  const skeleton = file.metadata["voxelpipe.samples"];
  if (skeleton === undefined)
    throw new Error(`${source ?? "<memory>"}: not a voxelpipe sample cache (no voxelpipe.samples metadata)`);
  const revive = (v: unknown): unknown => {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map(revive);
    const o = v as Record<string, unknown>;
    if (typeof o[TA] === "string") {
      const t = file.tensors.get(o[TA] as string);
      const C = CTORS[o.type as string];
      if (!t || !C) throw new Error(`${source ?? "<memory>"}: tensor ${String(o[TA])} (${String(o.type)}) is missing`);
      const d = t.data;
      // decodeSafetensors copies each tensor into its own buffer at offset 0, so any type is aligned
      return new C(d.buffer as ArrayBuffer, d.byteOffset, d.byteLength / C.BYTES_PER_ELEMENT);
    }
    if (typeof o[NUM] === "string") return Number(o[NUM]);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
  };
  const { "voxelpipe.samples": _s, ...metadata } = file.metadata;
  return { samples: revive(JSON.parse(skeleton)) as Sample[], metadata };
}
