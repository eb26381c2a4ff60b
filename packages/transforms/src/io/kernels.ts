/**
 * Per-type copies of the hot voxel loops. V8 optimises `a[i]` for the typed-array kinds a function has
 * seen; one loop that sees int16, uint8, float32, ... becomes megamorphic and runs ~20× slower (measured:
 * a 512×512×200 transpose took 5 s instead of 0.2 s once six array types had passed through it). Every
 * (source type, destination type) pair therefore gets its own function compiled from the same source.
 * The source text carries the key as a comment: V8 caches `new Function` by source text, so identical
 * text would share (and pollute) one set of type feedback again.
 */

type AnyArray = { readonly constructor: { readonly name: string } };

const cache = new Map<string, unknown>();

/** `source` is a function body that returns the kernel function; arrays pick the specialisation. */
export function specialised<F>(name: string, source: string, ...arrays: AnyArray[]): F {
  const key = `${name}(${arrays.map((a) => a.constructor.name).join(",")})`;
  let f = cache.get(key);
  if (!f) {
    // new Function on purpose (see above); the source is a constant of this package
    f = new Function(`// voxelpipe kernel ${key}\n${source}`)();
    cache.set(key, f);
  }
  return f as F;
}
