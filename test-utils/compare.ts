/**
 * Error measures for parity tests. Each parity test states its bound beside the figure it measured, so the
 * measures are defined once here: the same name means the same formula in every package.
 */

function sameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
}

/** ‖got − want‖₂ / ‖want‖₂ over all elements (the fixtures README's measure for network outputs) */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  sameLength(got, want);
  let num = 0;
  let den = 0;
  for (let i = 0; i < got.length; i++) {
    const d = got[i] - want[i];
    num += d * d;
    den += want[i] * want[i];
  }
  return Math.sqrt(num / den);
}

/** max |got − want| */
export function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  sameLength(got, want);
  let m = 0;
  for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m;
}

/** mean |got − want| */
export function meanAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  sameLength(got, want);
  let s = 0;
  for (let i = 0; i < got.length; i++) s += Math.abs(got[i] - want[i]);
  return s / got.length;
}

/** |got − want| / |want| of one scalar (a loss value, a metric) */
export function relDiff(got: number, want: number): number {
  return Math.abs(got - want) / Math.abs(want);
}

/** the fraction of elements exactly equal (label maps) */
export function equalFraction(got: ArrayLike<number>, want: ArrayLike<number>): number {
  sameLength(got, want);
  let eq = 0;
  for (let i = 0; i < got.length; i++) if (got[i] === want[i]) eq++;
  return eq / got.length;
}

/**
 * The largest error of `got` against `want` where NaN and ±∞ must match exactly (MONAI's metrics give NaN for an
 * absent class): `Infinity` when one is NaN/∞ and the other is not, else max |got − want| / (|want| or 1 if rel
 * is false).
 */
export function maxErrNaNAware(got: ArrayLike<number>, want: ArrayLike<number>, rel: boolean): number {
  sameLength(got, want);
  let m = 0;
  for (let i = 0; i < got.length; i++) {
    const [g, w] = [got[i], want[i]];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) return Number.POSITIVE_INFINITY;
      continue;
    }
    if (g === w) continue;
    if (!Number.isFinite(w) || !Number.isFinite(g)) return Number.POSITIVE_INFINITY;
    m = Math.max(m, Math.abs(g - w) / (rel ? Math.abs(w) : 1));
  }
  return m;
}

/** one line a parity test prints so its measured figures can be compared with the bounds in its comments */
export function logParity(what: string, figures: Record<string, number>): void {
  const f = Object.entries(figures).map(([k, v]) => `${k} ${v === 0 ? "0" : v.toExponential(2)}`);
  console.log(`parity ${what}: ${f.join(", ")}`);
}
