import { RandomState } from "@voxelpipe/core";
import { describe, expect, it } from "vitest";
import { sampleHoles } from "../src/transforms/coarse.js";
import { multinomialOne } from "../src/transforms/compose.js";

// Every expected value below was produced by numpy 2.4 `np.random.RandomState` (legacy MT19937)
// so a failure here means the port is not numpy-compatible and MONAI parity is impossible.
describe("RandomState is numpy-legacy compatible", () => {
  it("rand() matches numpy for seed 0 (53-bit doubles)", () => {
    const r = new RandomState(0);
    expect([r.rand(), r.rand(), r.rand()]).toEqual([0.5488135039273248, 0.7151893663724195, 0.6027633760716439]);
  });

  it("survives the 624-word state regeneration", () => {
    const r = new RandomState(7);
    const x: number[] = [];
    for (let i = 0; i < 1000; i++) x.push(r.rand());
    expect(x[311]).toBe(0.8344787191622668);
    expect(x[312]).toBe(0.8690583863056699);
    expect(x[999]).toBe(0.016448753231374513);
  });

  it("randint uses masked rejection (small, large and the full 2^32 range)", () => {
    const r = new RandomState(42);
    const small = Array.from({ length: 10 }, () => r.randint(0, 7));
    expect(small).toEqual([6, 3, 4, 6, 2, 4, 4, 6, 1, 2]);
    expect([r.randint(-5, 1000000), r.randint(-5, 1000000), r.randint(-5, 1000000)]).toEqual([521425, 954693, 87493]);
    expect(r.randint(0, 2 ** 32)).toBe(3720198231);
  });

  it("uniform scalar and array draws", () => {
    const r = new RandomState(3);
    expect(r.uniform(-0.1, 0.1)).toBe(0.010159580514915098);
    expect(Array.from(r.uniformArray(2, 5, 3) as Float64Array)).toEqual([
      4.124443467854315, 2.872714216738833, 3.532482815592989,
    ]);
  });

  it("shuffle is numpy's Fisher-Yates and consumes the same draws", () => {
    const r = new RandomState(5);
    const a = Float32Array.from({ length: 20 }, (_, i) => i);
    r.shuffle(a);
    expect(Array.from(a)).toEqual([2, 5, 17, 19, 12, 1, 11, 10, 13, 18, 7, 4, 8, 9, 0, 16, 6, 15, 14, 3]);
    expect(r.rand()).toBe(0.1583098677126512);
  });

  it("seed 2^32-1 and randint(max_k)+1 of RandRotate90 for seeds 1, 2", () => {
    expect(new RandomState(4294967295).rand()).toBe(0.0976320289940138);
    expect(new RandomState(1).randint(3) + 1).toBe(2);
    expect(new RandomState(2).randint(3) + 1).toBe(1);
  });

  it("multinomial(1, weights).argmax() (OneOf's pick) matches numpy", () => {
    const r = new RandomState(11);
    const two = Array.from({ length: 12 }, () => multinomialOne(r, [0.5, 0.5]));
    expect(two).toEqual([1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1]);
    // with two equal weights index 0 is picked iff one rand() > 0.5 (monai-semantics §2)
    const r2 = new RandomState(11);
    expect(Array.from({ length: 12 }, () => (r2.rand() > 0.5 ? 0 : 1))).toEqual(two);
    const r3 = new RandomState(9);
    const three = Array.from({ length: 20 }, () => multinomialOne(r3, [0.2, 0.3, 0.5]));
    expect(three).toEqual([2, 2, 2, 2, 2, 1, 0, 1, 1, 2, 2, 1, 1, 0, 0, 2, 0, 1, 0, 2]);
  });
});

describe("MONAI coarse-hole draw order", () => {
  it("seed-0 inner cutout hole sizes on 96³ (holes 6, spatial_size 5, max 32) are non-decreasing", () => {
    // MONAI: the dict wrapper draws its prob check from its OWN RandomState; the inner array transform
    // (seeded with the same seed by set_random_state) draws one rand() for its prob, then per hole
    // 3 size randints and ≤3 corner randints. So the inner stream sees exactly ONE rand() first.
    const inner = new RandomState(0);
    inner.rand();
    const holes = sampleHoles(inner, [96, 96, 96], { holes: 6, spatialSize: [5, 5, 5], maxSpatialSize: [32, 32, 32] });
    expect(holes.map((h) => h.size)).toEqual([
      [26, 5, 8],
      [31, 23, 12],
      [31, 30, 26],
      [31, 30, 29],
      [32, 31, 32],
      [32, 31, 32],
    ]);
    // one shared stream with TWO rand()s first does NOT give MONAI's boxes (numpy: [8,32,8], ...)
    const single = new RandomState(0);
    single.rand();
    single.rand();
    const wrong = sampleHoles(single, [96, 96, 96], { holes: 6, spatialSize: [5, 5, 5], maxSpatialSize: [32, 32, 32] });
    expect(wrong[0].size).toEqual([8, 32, 8]);
  });
});
