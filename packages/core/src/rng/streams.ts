import { RandomState } from "./mt19937.js";

/**
 * All randomness flows from one run seed through named streams: the seed of a stream is a hash of
 * the run seed and the stream's name parts (stage, component path, epoch, sample, ...). The same
 * seed and names always give the same draws; a new epoch gives new draws.
 */
export function deriveSeed(seed: number, ...parts: (string | number)[]): number {
  // FNV-1a over the text, then a murmur3 finaliser to spread the bits
  let h = 0x811c9dc5 ^ (seed >>> 0);
  const text = parts.join("\u0000");
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class RngStreams {
  constructor(readonly seed: number) {}
  /** a fresh RandomState for the named stream */
  stream(...parts: (string | number)[]): RandomState {
    return new RandomState(deriveSeed(this.seed, ...parts));
  }
  /** a child family of streams (e.g. per stage) */
  child(...parts: (string | number)[]): RngStreams {
    return new RngStreams(deriveSeed(this.seed, ...parts));
  }
}
