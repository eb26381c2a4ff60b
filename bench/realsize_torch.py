#!/usr/bin/env python3
"""The seed's pipelines at their real size in plain PyTorch, written to MONAI 1.4's semantics (MONAI is not
installable here), for bench/realsize.mjs. One case per process so that the peak RSS is the case's own.

Cases (MONAI tutorial settings, monai-semantics §1, §3, §4, §5):
  btcv-step-4   UNETR BTCV (96³, feature 16, hidden 768, mlp 3072, 12 heads, 14 classes) train step, batch 4
                (1 image × 4 RandCropByPosNegLabeld crops): DiceCELoss(to_onehot_y=True, softmax=True) on random
                labels 0..13, Adam(lr 1e-4); forward + backward + optimizer step
  btcv-step-1   the same at batch 1
  btcv-forward  UNETR BTCV forward, batch 1, eval + no_grad
  ssl-step      ViTAutoEnc (96³, patch 16, hidden 768, mlp 3072, 12 layers, 12 heads, deconv_chns 16), two
                corrupted views of --ssl-batch crops (8 = batch_size 4 × num_samples 2):
                loss = L1(recon1, gt) + ContrastiveLoss(T=0.05)(flat recon1, flat recon2) · L1, Adam(lr 1e-4)
  sw-ct         sliding_window_inference(roi 96³, sw_batch_size 4, overlap 0.5, mode gaussian, sigma_scale 0.125)
                of a whole preprocessed CT (--volume FILE.f32 --shape S0,S1,S2: raw little-endian float32, C-order,
                one channel) with the BTCV UNETR (random weights, seed 0), eval + no_grad

Prints one JSON line: {"case", "ms" (median of --reps after --warmup untimed runs), "samples", "peak_rss_mb"
(ru_maxrss of this process), "threads", "torch", ...}.
Usage: python3 bench/realsize_torch.py --case CASE [--reps 2] [--warmup 1] [--threads 2] [--ssl-batch 8]
       [--net btcv|small] [--volume F --shape S0,S1,S2]
--net small shrinks every case (32³, hidden 96, mlp 384, 4 heads) for a quick smoke run.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unetr_torch import CONFIGS, UNETR, PatchEmbeddingBlock, TransformerBlock  # noqa: E402

CASES = ["btcv-step-4", "btcv-step-1", "btcv-forward", "ssl-step", "sw-ct"]

# ViTAutoEnc of the SSL tutorial (ssl_train.ipynb); "small" mirrors unetr_torch's small UNETR
SSL_CONFIGS = {
    "small": dict(img_size=32, patch_size=16, hidden_size=96, mlp_dim=384, num_layers=12, num_heads=4),
    "btcv": dict(img_size=96, patch_size=16, hidden_size=768, mlp_dim=3072, num_layers=12, num_heads=12),
}


# --------------------------------------------------------------------------------------------------------------
# ViTAutoEnc (monai.networks.nets.ViTAutoEnc, 1.4, without the unused cross-attention modules)
class ViTAutoEnc(nn.Module):
    """Same state-dict names as MONAI: patch_embedding.*, blocks.N.*, norm.*, conv3d_transpose(_1).*"""

    def __init__(self, in_channels, img_size, patch_size, out_channels=1, deconv_chns=16, hidden_size=768,
                 mlp_dim=3072, num_layers=12, num_heads=12):
        super().__init__()
        self.patch_size = patch_size
        self.patch_embedding = PatchEmbeddingBlock(in_channels, img_size, patch_size, hidden_size)
        self.blocks = nn.ModuleList([TransformerBlock(hidden_size, mlp_dim, num_heads) for _ in range(num_layers)])
        self.norm = nn.LayerNorm(hidden_size)
        up = int(patch_size**0.5)  # MONAI: patch must be a perfect square per dim; 16 → kernel = stride = 4
        self.conv3d_transpose = nn.ConvTranspose3d(hidden_size, deconv_chns, kernel_size=up, stride=up)
        self.conv3d_transpose_1 = nn.ConvTranspose3d(deconv_chns, out_channels, kernel_size=up, stride=up)

    def forward(self, x):
        spatial_size = x.shape[2:]
        x = self.patch_embedding(x)
        hidden_states_out = []
        for blk in self.blocks:
            x = blk(x)
            hidden_states_out.append(x)
        x = self.norm(x)
        x = x.transpose(1, 2)
        d = [s // self.patch_size for s in spatial_size]
        x = torch.reshape(x, [x.shape[0], x.shape[1], *d])
        x = self.conv3d_transpose(x)
        x = self.conv3d_transpose_1(x)
        return x, hidden_states_out


# --------------------------------------------------------------------------------------------------------------
# Losses (monai.losses 1.4, the code paths the tutorials' configurations take)
def one_hot(labels, num_classes):
    """monai.networks.utils.one_hot: labels [B, 1, ...] → float [B, C, ...] by scatter_"""
    sh = list(labels.shape)
    sh[1] = num_classes
    o = torch.zeros(size=sh, dtype=torch.float32, device=labels.device)
    return o.scatter_(dim=1, index=labels.long(), value=1)


class DiceCELoss(nn.Module):
    """DiceCELoss(to_onehot_y=True, softmax=True), every other argument at MONAI's default:
    include_background, no squared_pred / jaccard, smooth_nr = smooth_dr = 1e-5, batch=False, reduction mean,
    lambda_dice = lambda_ce = 1; CE (nn.CrossEntropyLoss, mean) on the raw logits with the squeezed long labels."""

    def __init__(self, smooth_nr=1e-5, smooth_dr=1e-5):
        super().__init__()
        self.smooth_nr = smooth_nr
        self.smooth_dr = smooth_dr
        self.cross_entropy = nn.CrossEntropyLoss()

    def dice(self, input, target):
        n_pred_ch = input.shape[1]
        input = torch.softmax(input, 1)
        target = one_hot(target, num_classes=n_pred_ch)
        reduce_axis = list(range(2, len(input.shape)))
        intersection = torch.sum(target * input, dim=reduce_axis)
        ground_o = torch.sum(target, dim=reduce_axis)
        pred_o = torch.sum(input, dim=reduce_axis)
        denominator = ground_o + pred_o
        f = 1.0 - (2.0 * intersection + self.smooth_nr) / (denominator + self.smooth_dr)
        return torch.mean(f)

    def ce(self, input, target):
        if input.shape[1] != target.shape[1] and target.shape[1] == 1:
            target = torch.squeeze(target, dim=1).long()
        return self.cross_entropy(input, target)

    def forward(self, input, target):
        return self.dice(input, target) + self.ce(input, target)


class ContrastiveLoss(nn.Module):
    """monai.losses.ContrastiveLoss 1.4 verbatim in arithmetic: cosine similarities of all 2B rows through
    F.cosine_similarity(repr.unsqueeze(1), repr.unsqueeze(0), dim=2) (which broadcasts to [2B, 2B, F]),
    NT-Xent with exp / log (no log-space), sum / 2B."""

    def __init__(self, temperature=0.5):
        super().__init__()
        self.temperature = temperature

    def forward(self, input, target):
        temperature_tensor = torch.as_tensor(self.temperature).to(input.device)
        batch_size = input.shape[0]
        negatives_mask = ~torch.eye(batch_size * 2, batch_size * 2, dtype=torch.bool)
        negatives_mask = torch.clone(negatives_mask.type(torch.float)).to(input.device)
        repr = torch.cat([input, target], dim=0)
        sim_matrix = F.cosine_similarity(repr.unsqueeze(1), repr.unsqueeze(0), dim=2)
        sim_ij = torch.diag(sim_matrix, batch_size)
        sim_ji = torch.diag(sim_matrix, -batch_size)
        positives = torch.cat([sim_ij, sim_ji], dim=0)
        nominator = torch.exp(positives / temperature_tensor)
        denominator = negatives_mask * torch.exp(sim_matrix / temperature_tensor)
        loss_partial = -torch.log(nominator / torch.sum(denominator, dim=1))
        return torch.sum(loss_partial) / (2 * batch_size)


# --------------------------------------------------------------------------------------------------------------
# sliding_window_inference (monai.inferers.utils 1.4; single output, no buffering, sw_device = device = cpu)
def _scan_interval(image_size, roi_size, overlap):
    out = []
    for i in range(len(roi_size)):
        if roi_size[i] == image_size[i]:
            out.append(int(roi_size[i]))
        else:
            interval = int(roi_size[i] * (1 - overlap[i]))
            out.append(interval if interval > 0 else 1)
    return tuple(out)


def _dense_patch_slices(image_size, patch_size, scan_interval):
    """monai.data.utils.dense_patch_slices: starts per dim, Cartesian product with the last dim fastest"""
    scan_num = []
    for i in range(len(patch_size)):
        if scan_interval[i] == 0:
            scan_num.append(1)
        else:
            num = int(-(-image_size[i] // scan_interval[i]))  # ceil
            scan_dim = next((d for d in range(num) if d * scan_interval[i] + patch_size[i] >= image_size[i]), None)
            scan_num.append(scan_dim + 1 if scan_dim is not None else 1)
    starts = []
    for dim in range(len(patch_size)):
        dim_starts = []
        for idx in range(scan_num[dim]):
            start_idx = idx * scan_interval[dim]
            start_idx -= max(start_idx + patch_size[dim] - image_size[dim], 0)
            dim_starts.append(start_idx)
        starts.append(dim_starts)
    out = [(a, b, c) for a in starts[0] for b in starts[1] for c in starts[2]]
    return [tuple(slice(s, s + patch_size[d]) for d, s in enumerate(st)) for st in out]


def _importance_map(patch_size, mode, sigma_scale):
    """monai.data.utils.compute_importance_map (float32) + the clamp at max(min, 1e-3) done by the inferer"""
    if mode == "constant":
        m = torch.ones(patch_size, dtype=torch.float)
    else:
        sigmas = [i * sigma_s for i, sigma_s in zip(patch_size, sigma_scale)]
        m = None
        for i in range(len(patch_size)):
            x = torch.arange(start=-(patch_size[i] - 1) / 2.0, end=(patch_size[i] - 1) / 2.0 + 1, dtype=torch.float)
            x = torch.exp(x**2 / (-2 * sigmas[i] ** 2))  # MONAI 1.4: exp(x² / (−2σ²))
            m = m.unsqueeze(-1) * x[(None,) * i] if i > 0 else x
    min_non_zero = max(torch.min(m).item(), 1e-3)
    return torch.clamp(m.to(torch.float32), min=min_non_zero)


def sliding_window_inference(inputs, roi_size, sw_batch_size, predictor, overlap=0.25, mode="constant",
                             sigma_scale=0.125, cval=0.0):
    num_spatial_dims = len(inputs.shape) - 2
    overlap = [overlap] * num_spatial_dims if isinstance(overlap, float) else list(overlap)
    sigma_scale = [sigma_scale] * num_spatial_dims if isinstance(sigma_scale, float) else list(sigma_scale)
    batch_size, _, *image_size_ = inputs.shape
    roi_size = [r if r > 0 else image_size_[i] for i, r in enumerate(roi_size)]  # fall_back_tuple
    image_size = tuple(max(image_size_[i], roi_size[i]) for i in range(num_spatial_dims))
    pad_size = []
    for k in range(len(inputs.shape) - 1, 1, -1):
        diff = max(roi_size[k - 2] - inputs.shape[k], 0)
        half = diff // 2
        pad_size.extend([half, diff - half])
    if any(pad_size):
        inputs = F.pad(inputs, pad=pad_size, mode="constant", value=cval)

    scan_interval = _scan_interval(image_size, roi_size, overlap)
    slices = _dense_patch_slices(image_size, roi_size, scan_interval)
    num_win = len(slices)
    total_slices = num_win * batch_size
    w_t = _importance_map(tuple(roi_size), mode, sigma_scale)[None, None]

    output_image, count_map = None, None
    for slice_g in range(0, total_slices, sw_batch_size):
        slice_range = range(slice_g, min(slice_g + sw_batch_size, total_slices))
        unravel_slice = [
            [slice(idx // num_win, idx // num_win + 1), slice(None)] + list(slices[idx % num_win]) for idx in slice_range
        ]
        win_data = torch.cat([inputs[tuple(win_slice)] for win_slice in unravel_slice])
        seg_prob = predictor(win_data)
        if output_image is None:  # buffers on the first window batch; the count map over all windows at once
            output_image = torch.zeros([batch_size, seg_prob.shape[1], *image_size], dtype=torch.float32)
            count_map = torch.zeros([1, 1, *image_size], dtype=torch.float32)
            for s in slices:
                count_map[(slice(None), slice(None), *s)] += w_t
        seg_prob = seg_prob * w_t
        for p, idx in zip(seg_prob, unravel_slice):
            output_image[tuple(idx)] += p[None]
    output_image /= count_map
    crop = [slice(None), slice(None)]
    for sp in range(num_spatial_dims):  # pad_size runs from the last spatial dim to the first
        start = pad_size[(num_spatial_dims - 1 - sp) * 2]
        crop.append(slice(start, start + image_size_[sp]))
    return output_image[tuple(crop)]


# --------------------------------------------------------------------------------------------------------------
def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def timed(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    return samples


def unetr_case(a, batch, train):
    cfg = CONFIGS[a.net]
    net = UNETR(**cfg)
    s = cfg["img_size"]
    g = torch.Generator().manual_seed(1)
    x = torch.rand(batch, cfg["in_channels"], s, s, s, generator=g)
    if not train:
        net.eval()

        def fwd():
            with torch.no_grad():
                net(x)

        return fwd, {"batch": batch}
    labels = torch.randint(0, cfg["out_channels"], (batch, 1, s, s, s), generator=g)
    loss_fn = DiceCELoss()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    net.train()
    last = {}

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), labels)
        loss.backward()
        opt.step()
        last["loss"] = loss.item()

    return step, {"batch": batch, "last": last}


def ssl_case(a):
    cfg = SSL_CONFIGS[a.net]
    net = ViTAutoEnc(in_channels=1, **cfg)
    s = cfg["img_size"]
    g = torch.Generator().manual_seed(1)
    gt = torch.rand(a.ssl_batch, 1, s, s, s, generator=g)
    # two independently corrupted views (the corruption itself is data loading, not timed here)
    view1 = gt.clone()
    view1[:, :, : s // 3] = torch.rand(a.ssl_batch, 1, s // 3, s, s, generator=g)
    view2 = gt.clone()
    view2[:, :, :, : s // 3] = torch.rand(a.ssl_batch, 1, s, s // 3, s, generator=g)
    recon_loss = nn.L1Loss()
    contrastive_loss = ContrastiveLoss(temperature=0.05)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    net.train()
    last = {}

    def step():  # ssl_train.ipynb's training step
        opt.zero_grad()
        outputs_v1, _ = net(view1)
        outputs_v2, _ = net(view2)
        flat_out_v1 = outputs_v1.flatten(start_dim=1, end_dim=4)
        flat_out_v2 = outputs_v2.flatten(start_dim=1, end_dim=4)
        r_loss = recon_loss(outputs_v1, gt)
        cl_loss = contrastive_loss(flat_out_v1, flat_out_v2)
        total_loss = r_loss + cl_loss * r_loss
        total_loss.backward()
        opt.step()
        last["loss"] = total_loss.item()

    return step, {"batch": a.ssl_batch, "views": 2, "last": last}


def sw_case(a):
    if not a.volume or not a.shape:
        raise SystemExit("sw-ct needs --volume FILE.f32 --shape S0,S1,S2 (bench/realsize.mjs writes them)")
    shape = [int(v) for v in a.shape.split(",")]
    vol = torch.from_numpy(_read_f32(a.volume, shape)).reshape(1, 1, *shape)
    cfg = CONFIGS[a.net]
    net = UNETR(**cfg)
    net.eval()
    roi = cfg["img_size"]
    info = {"volume": shape, "roi": roi}

    def infer():
        with torch.no_grad():
            out = sliding_window_inference(vol, (roi, roi, roi), 4, net, overlap=0.5, mode="gaussian",
                                           sigma_scale=0.125)
        info["out_shape"] = list(out.shape)
        info["out_mean"] = float(out.mean())

    s = _scan_interval(shape, [roi] * 3, [0.5] * 3)
    info["windows"] = len(_dense_patch_slices([max(v, roi) for v in shape], [roi] * 3, s))

    def warm():  # one window batch, not the whole volume
        with torch.no_grad():
            net(vol[:, :, :roi, :roi, :roi].expand(4, 1, roi, roi, roi).contiguous() if min(shape) >= roi
                else torch.zeros(4, 1, roi, roi, roi))

    return infer, info, warm


def _read_f32(path, shape):
    import numpy as np

    n = shape[0] * shape[1] * shape[2]
    arr = np.fromfile(path, dtype="<f4")
    if arr.size != n:
        raise SystemExit(f"{path}: {arr.size} float32 values, expected {n} for shape {shape}")
    return arr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=CASES, required=True)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ssl-batch", type=int, default=8)
    ap.add_argument("--net", choices=sorted(CONFIGS), default="btcv")
    ap.add_argument("--volume")
    ap.add_argument("--shape")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    warm = None
    if a.case == "btcv-step-4":
        fn, info = unetr_case(a, 4, True)
    elif a.case == "btcv-step-1":
        fn, info = unetr_case(a, 1, True)
    elif a.case == "btcv-forward":
        fn, info = unetr_case(a, 1, False)
    elif a.case == "ssl-step":
        fn, info = ssl_case(a)
    else:
        fn, info, warm = sw_case(a)
    if warm is not None:  # the whole-volume inference is minutes: warm up on one window batch only
        for _ in range(a.warmup):
            warm()
        samples = timed(fn, a.reps, 0)
    else:
        samples = timed(fn, a.reps, a.warmup)
    last = info.pop("last", {})
    print(
        json.dumps(
            {
                "case": a.case,
                "ms": statistics.median(samples),
                "samples": [round(v, 1) for v in samples],
                "peak_rss_mb": round(peak_rss_mb(), 1),
                "threads": a.threads,
                "torch": torch.__version__,
                "net": a.net,
                **info,
                **last,
            }
        )
    )


if __name__ == "__main__":
    main()
