/**
 * The fixed organ colour table shared by the report's static PNGs (Node) and the NiiVue viewer (browser), so a
 * class has the same colour everywhere. Pure data: no DOM, no Node APIs.
 *
 * Colours come from Paul Tol's colour-blind-safe "vibrant", "muted" and "light" palettes
 * (https://personal.sron.nl/~pault/). Thirteen classes cannot all stay distinct for every reader, so the choice
 * keeps organs that touch apart in hue *and* lightness (liver rose vs. right kidney orange vs. IVC blue; aorta red
 * vs. esophagus sand; spleen purple vs. left kidney cyan vs. stomach olive) and keeps the left/right kidneys and
 * adrenals on opposite hues. The error view uses Okabe–Ito blue (missed, false negative) and orange (extra, false
 * positive), the pair that stays distinct under every common colour-vision deficiency.
 */
import { BTCV_CLASS_NAMES as BTCV_LABELS } from "@voxelpipe/transforms/labels";

/** BTCV's 13 organs with background at 0: the one list, @voxelpipe/transforms' (its tensor-free subpath) */
export const BTCV_CLASS_NAMES: readonly string[] = BTCV_LABELS;

/** RGB per class index; index 0 (background) is never drawn. */
export const ORGAN_COLORS: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [0xaa, 0x44, 0x99], // spleen: purple
  [0xee, 0x77, 0x33], // right kidney: orange
  [0x33, 0xbb, 0xee], // left kidney: cyan
  [0x11, 0x77, 0x33], // gallbladder: green
  [0xdd, 0xcc, 0x77], // esophagus: sand
  [0xcc, 0x66, 0x77], // liver: rose
  [0xaa, 0xaa, 0x00], // stomach: olive
  [0xcc, 0x33, 0x11], // aorta: red
  [0x00, 0x77, 0xbb], // inferior vena cava: blue
  [0x44, 0xaa, 0x99], // portal and splenic vein: teal
  [0xff, 0xaa, 0xbb], // pancreas: pink
  [0xee, 0xdd, 0x88], // right adrenal gland: light yellow
  [0xbb, 0xcc, 0x33], // left adrenal gland: pear
];

/** false negative (missed organ voxels) and false positive (extra voxels): Okabe–Ito blue and orange */
export const ERROR_COLORS = { missed: [0x00, 0x72, 0xb2], extra: [0xe6, 0x9f, 0x00] } as const;

/** The colour of class `i`: the table above, then evenly spread hues (golden angle) for classes beyond it. */
export function organColor(i: number): [number, number, number] {
  const c = ORGAN_COLORS[i];
  if (c) return [c[0], c[1], c[2]];
  const h = (i * 137.508) % 360;
  return hslToRgb(h, 0.65, 0.55);
}

export function organHex(i: number): string {
  return `#${organColor(i)
    .map((v) => v.toString(16).padStart(2, "0"))
    .join("")}`;
}

/**
 * Class names for `count` classes: the pipeline's names where given (dataset `labels`, evaluation organs), else
 * BTCV's names when there are exactly 14 classes, else "class i".
 */
export function classNames(count: number, given?: Readonly<Record<string, string>> | readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const g = Array.isArray(given) ? given[i] : (given as Record<string, string> | undefined)?.[String(i)];
    out.push(g ?? (count === BTCV_CLASS_NAMES.length ? BTCV_CLASS_NAMES[i] : i === 0 ? "background" : `class ${i}`));
  }
  return out;
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}
