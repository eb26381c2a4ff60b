/**
 * The 14 classes of the BTCV multi-organ task (MONAI's label map: 0 background + 13 organs), in the order the
 * fine-tuning tutorial uses, so a model trained on synthetic cases speaks the same label language as BTCV.
 */
export const BTCV_CLASS_NAMES = [
  "background",
  "spleen",
  "right kidney",
  "left kidney",
  "gallbladder",
  "esophagus",
  "liver",
  "stomach",
  "aorta",
  "inferior vena cava",
  "portal and splenic vein",
  "pancreas",
  "right adrenal gland",
  "left adrenal gland",
] as const;

/** label values by organ, for code that paints or checks a specific organ */
export const BtcvLabel = {
  spleen: 1,
  rightKidney: 2,
  leftKidney: 3,
  gallbladder: 4,
  esophagus: 5,
  liver: 6,
  stomach: 7,
  aorta: 8,
  ivc: 9,
  portalVein: 10,
  pancreas: 11,
  rightAdrenal: 12,
  leftAdrenal: 13,
} as const;

export type BtcvLabelName = keyof typeof BtcvLabel;

export const BTCV_NUM_CLASSES = BTCV_CLASS_NAMES.length;

/** Decathlon-style `labels` object: { "0": "background", "1": "spleen", ... } */
export function btcvLabelNames(): Record<string, string> {
  const out: Record<string, string> = {};
  BTCV_CLASS_NAMES.forEach((name, i) => {
    out[String(i)] = name;
  });
  return out;
}
