#!/usr/bin/env python3
"""The SSL random chain of bench/preprocess.mjs in plain numpy, for a same-machine comparison.

MONAI cannot be installed everywhere the benchmark runs, so this is a faithful numpy re-implementation of what
MONAI 1.4 does per volume (monai-semantics §1, §2), with the same draws from np.random.RandomState (MT19937) and
the same array work (views where MONAI views, copies where MONAI copies), minus MONAI's MetaTensor bookkeeping:

  CacheDataset: deepcopy of the cached deterministic output (copy_cache=True, before the first random transform)
  RandSpatialCropSamplesd(roi 96, num_samples 2): per sample randint per dim, the crop is a view
  CopyItemsd(times 2 → gt_image, image_2): clones
  OneOf(RandCoarseDropoutd inner | outer) on image, RandCoarseShuffled(prob 0.8, holes 10, size 8) on image,
  the same on image_2 (each transform owns a RandomState, seeded like Compose.set_random_state)

Usage: python3 bench/ssl_chain_numpy.py --shape 243 193 168 [--volumes 12] [--warmup 2] [--seed 0]
Prints one JSON line: {"ms_per_volume": wall, "cpu_ms_per_volume": process time, "volumes": n, ...}.
"""

import argparse
import json
import time

import numpy as np

MAX_SEED = 2**32


def sample_holes(R, dims, holes, spatial_size, max_spatial_size=None):
    """RandCoarseTransform.randomize after the prob check (sizes never decrease when max_spatial_size is set)."""
    size = (spatial_size,) * 3
    out = []
    for _ in range(holes):
        if max_spatial_size is not None:
            size = tuple(R.randint(size[d], max_spatial_size + 1) for d in range(3))
        valid = tuple(min(s, n) for s, n in zip(size, dims))
        start = tuple(R.randint(0, n - v + 1) if n > v else 0 for n, v in zip(dims, valid))
        out.append((slice(None),) + tuple(slice(s, s + v) for s, v in zip(start, valid)))
    return out


class RandCoarseDropoutd:
    def __init__(self, key, holes, spatial_size, dropout_holes, max_spatial_size, prob=1.0):
        self.key, self.holes, self.size, self.max = key, holes, spatial_size, max_spatial_size
        self.dropout_holes, self.prob = dropout_holes, prob

    def set_random_state(self, seed):
        self.R = np.random.RandomState(seed)  # the dict wrapper's
        self.inner = np.random.RandomState(seed)  # the array transform's

    def __call__(self, d):
        if not self.R.rand() < self.prob:
            return d
        img = d[self.key]
        self.inner.rand()  # the inner transform's own prob check (1.0)
        hole_coords = sample_holes(self.inner, img.shape[1:], self.holes, self.size, self.max)
        lo, hi = img.min(), img.max()
        if self.dropout_holes:
            for h in hole_coords:
                img[h] = self.inner.uniform(lo, hi, size=img[h].shape)
            ret = img
        else:
            ret = self.inner.uniform(lo, hi, size=img.shape).astype(img.dtype, copy=False)
            for h in hole_coords:
                ret[h] = img[h]
        d[self.key] = ret
        return d


class RandCoarseShuffled:
    def __init__(self, key, holes, spatial_size, prob):
        self.key, self.holes, self.size, self.prob = key, holes, spatial_size, prob

    def set_random_state(self, seed):
        self.R = np.random.RandomState(seed)
        self.inner = np.random.RandomState(seed)

    def __call__(self, d):
        if not self.R.rand() < self.prob:
            return d
        img = d[self.key]
        self.inner.rand()
        for h in sample_holes(self.inner, img.shape[1:], self.holes, self.size):
            for i, c in enumerate(img[h]):
                patch_channel = c.flatten()
                self.inner.shuffle(patch_channel)
                img[h][i] = patch_channel.reshape(c.shape)
        return d


class OneOf:
    def __init__(self, transforms):
        self.transforms = transforms

    def set_random_state(self, seed):
        self.R = np.random.RandomState(seed)
        for t in self.transforms:
            t.set_random_state(self.R.randint(MAX_SEED))

    def __call__(self, d):
        return self.transforms[int(np.argmax(self.R.multinomial(1, [0.5, 0.5])))](d)


class RandSpatialCropSamplesd:
    def __init__(self, key, roi, num_samples):
        self.key, self.roi, self.num_samples = key, roi, num_samples

    def set_random_state(self, seed):
        self.R = np.random.RandomState(seed)

    def __call__(self, d):
        out = []
        for _ in range(self.num_samples):
            img = d[self.key]
            dims = img.shape[1:]
            size = tuple(min(self.roi, n) for n in dims)
            start = [self.R.randint(0, n - s + 1) if n > s else 0 for n, s in zip(dims, size)]
            s = dict(d)
            s[self.key] = img[(slice(None),) + tuple(slice(a, a + b) for a, b in zip(start, size))]  # a view
            out.append(s)
        return out


def copy_items(d):
    d["gt_image"] = d["image"].copy()
    d["image_2"] = d["image"].copy()
    return d


def cutout(key):
    return OneOf(
        [
            RandCoarseDropoutd(key, 6, 5, True, 32),
            RandCoarseDropoutd(key, 6, 20, False, 64),
        ]
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", type=int, nargs=3, default=[243, 193, 168])
    ap.add_argument("--volumes", type=int, default=12)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    crop = RandSpatialCropSamplesd("image", 96, 2)
    per_sample = [
        copy_items,
        cutout("image"),
        RandCoarseShuffled("image", 10, 8, 0.8),
        cutout("image_2"),
        RandCoarseShuffled("image_2", 10, 8, 0.8),
    ]
    master = np.random.RandomState(a.seed)  # Compose.set_random_state
    for t in [crop, *per_sample]:
        if hasattr(t, "set_random_state"):
            t.set_random_state(master.randint(MAX_SEED))

    # a cached deterministic output: values in [0, 1] like ScaleIntensityRange(clip) output
    cached = {"image": np.random.RandomState(1).rand(1, *a.shape).astype(np.float32)}

    def one_volume():
        d = {k: v.copy() for k, v in cached.items()}  # CacheDataset deepcopy
        samples = crop(d)
        for i, s in enumerate(samples):
            for t in per_sample:
                s = t(s)
            samples[i] = s
        return samples

    for _ in range(a.warmup):
        one_volume()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.volumes):
        one_volume()
    wall = (time.perf_counter() - t0) / a.volumes * 1000
    cpu = (time.process_time() - c0) / a.volumes * 1000
    print(
        json.dumps(
            {
                "ms_per_volume": round(wall, 2),
                "cpu_ms_per_volume": round(cpu, 2),
                "volumes": a.volumes,
                "shape": a.shape,
                "numpy": np.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
