#!/usr/bin/env python3
"""MONAI 1.4 UNETR re-implemented in plain PyTorch (MONAI is not installed here), for bench/unetr.mjs.

Same module structure, state-dict names and parameter count as monai.networks.nets.UNETR (without
MONAI >= 1.4's unused cross-attention modules): 92,784,046 parameters at the BTCV config.
Prints one JSON line: {"config", "params", "forward_ms", "train_ms", "threads", "torch"}.
Usage: python3 bench/unetr_torch.py --config small|btcv [--reps 3] [--threads 2]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn

CONFIGS = {
    "small": dict(in_channels=1, out_channels=14, img_size=32, feature_size=16, hidden_size=96, mlp_dim=384, num_heads=4),
    "btcv": dict(in_channels=1, out_channels=14, img_size=96, feature_size=16, hidden_size=768, mlp_dim=3072, num_heads=12),
    # pipelines/demo.yaml's fine-tuned network
    "demo": dict(in_channels=1, out_channels=14, img_size=48, feature_size=8, hidden_size=96, mlp_dim=192, num_heads=4),
}


class SABlock(nn.Module):
    """qkv packed as 'b n (qkv l d)', softmax(q k^T / sqrt(d)) v, heads re-concatenated, out_proj."""

    def __init__(self, hidden, heads, qkv_bias=False):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.scale = self.head_dim**-0.5
        self.qkv = nn.Linear(hidden, 3 * hidden, bias=qkv_bias)
        self.out_proj = nn.Linear(hidden, hidden)

    def forward(self, x):
        b, n, h = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = (q @ k.transpose(-2, -1) * self.scale).softmax(dim=-1)
        return self.out_proj((att @ v).transpose(1, 2).reshape(b, n, h))


class MLPBlock(nn.Module):
    def __init__(self, hidden, mlp_dim):
        super().__init__()
        self.linear1 = nn.Linear(hidden, mlp_dim)
        self.linear2 = nn.Linear(mlp_dim, hidden)
        self.fn = nn.GELU()  # exact erf form

    def forward(self, x):
        return self.linear2(self.fn(self.linear1(x)))


class TransformerBlock(nn.Module):
    def __init__(self, hidden, mlp_dim, heads):
        super().__init__()
        self.mlp = MLPBlock(hidden, mlp_dim)
        self.norm1 = nn.LayerNorm(hidden)
        self.attn = SABlock(hidden, heads)
        self.norm2 = nn.LayerNorm(hidden)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbeddingBlock(nn.Module):
    def __init__(self, in_ch, img, patch, hidden):
        super().__init__()
        n = (img // patch) ** 3
        self.patch_embeddings = nn.Conv3d(in_ch, hidden, kernel_size=patch, stride=patch)
        self.position_embeddings = nn.Parameter(torch.zeros(1, n, hidden))
        nn.init.trunc_normal_(self.position_embeddings, std=0.02, a=-2.0, b=2.0)

    def forward(self, x):
        return self.patch_embeddings(x).flatten(2).transpose(-1, -2) + self.position_embeddings


class ViT(nn.Module):
    def __init__(self, in_ch, img, patch, hidden, mlp_dim, layers, heads):
        super().__init__()
        self.patch_embedding = PatchEmbeddingBlock(in_ch, img, patch, hidden)
        self.blocks = nn.ModuleList([TransformerBlock(hidden, mlp_dim, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x):
        x = self.patch_embedding(x)
        hidden = []
        for blk in self.blocks:
            x = blk(x)
            hidden.append(x)
        return self.norm(x), hidden


class Conv(nn.Module):
    """MONAI's Convolution wrapper: the layer sits under `.conv` (state-dict names `<name>.conv.weight`)."""

    def __init__(self, in_ch, out_ch, k, transposed=False, bias=False):
        super().__init__()
        if transposed:
            self.conv = nn.ConvTranspose3d(in_ch, out_ch, kernel_size=k, stride=k, bias=bias)
        else:
            self.conv = nn.Conv3d(in_ch, out_ch, kernel_size=k, stride=1, padding=(k - 1) // 2, bias=bias)

    def forward(self, x):
        return self.conv(x)


class UnetResBlock(nn.Module):
    def __init__(self, in_ch, out_ch, k=3):
        super().__init__()
        self.conv1 = Conv(in_ch, out_ch, k)
        self.conv2 = Conv(out_ch, out_ch, k)
        self.lrelu = nn.LeakyReLU(0.01)
        self.norm1 = nn.InstanceNorm3d(out_ch)
        self.norm2 = nn.InstanceNorm3d(out_ch)
        self.downsample = in_ch != out_ch
        if self.downsample:
            self.conv3 = Conv(in_ch, out_ch, 1)
            self.norm3 = nn.InstanceNorm3d(out_ch)

    def forward(self, x):
        out = self.lrelu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        res = self.norm3(self.conv3(x)) if self.downsample else x
        return self.lrelu(out + res)


class UnetrBasicBlock(nn.Module):
    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.layer = UnetResBlock(in_ch, out_ch)

    def forward(self, x):
        return self.layer(x)


class UnetrPrUpBlock(nn.Module):
    def __init__(self, in_ch, out_ch, num_layer):
        super().__init__()
        self.transp_conv_init = Conv(in_ch, out_ch, 2, transposed=True)
        self.blocks = nn.ModuleList(
            [nn.Sequential(Conv(out_ch, out_ch, 2, transposed=True), UnetResBlock(out_ch, out_ch)) for _ in range(num_layer)]
        )

    def forward(self, x):
        x = self.transp_conv_init(x)
        for blk in self.blocks:
            x = blk(x)
        return x


class UnetrUpBlock(nn.Module):
    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.transp_conv = Conv(in_ch, out_ch, 2, transposed=True)
        self.conv_block = UnetResBlock(2 * out_ch, out_ch)

    def forward(self, x, skip):
        return self.conv_block(torch.cat((self.transp_conv(x), skip), dim=1))


class UnetOutBlock(nn.Module):
    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.conv = Conv(in_ch, out_ch, 1, bias=True)

    def forward(self, x):
        return self.conv(x)


class UNETR(nn.Module):
    def __init__(self, in_channels, out_channels, img_size, feature_size, hidden_size, mlp_dim, num_heads):
        super().__init__()
        f, h = feature_size, hidden_size
        self.feat = img_size // 16
        self.hidden_size = h
        self.vit = ViT(in_channels, img_size, 16, h, mlp_dim, 12, num_heads)
        self.encoder1 = UnetrBasicBlock(in_channels, f)
        self.encoder2 = UnetrPrUpBlock(h, 2 * f, 2)
        self.encoder3 = UnetrPrUpBlock(h, 4 * f, 1)
        self.encoder4 = UnetrPrUpBlock(h, 8 * f, 0)
        self.decoder5 = UnetrUpBlock(h, 8 * f)
        self.decoder4 = UnetrUpBlock(8 * f, 4 * f)
        self.decoder3 = UnetrUpBlock(4 * f, 2 * f)
        self.decoder2 = UnetrUpBlock(2 * f, f)
        self.out = UnetOutBlock(f, out_channels)

    def proj_feat(self, x):
        b = x.shape[0]
        return x.view(b, self.feat, self.feat, self.feat, self.hidden_size).permute(0, 4, 1, 2, 3).contiguous()

    def forward(self, x_in):
        x, hs = self.vit(x_in)
        enc1 = self.encoder1(x_in)
        enc2 = self.encoder2(self.proj_feat(hs[3]))
        enc3 = self.encoder3(self.proj_feat(hs[6]))
        enc4 = self.encoder4(self.proj_feat(hs[9]))
        dec3 = self.decoder5(self.proj_feat(x), enc4)
        dec2 = self.decoder4(dec3, enc3)
        dec1 = self.decoder3(dec2, enc2)
        return self.out(self.decoder2(dec1, enc1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=sorted(CONFIGS), default="small")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = CONFIGS[a.config]
    net = UNETR(**cfg)
    s = cfg["img_size"]
    x = torch.rand(a.batch, cfg["in_channels"], s, s, s)
    target = torch.rand(a.batch, cfg["out_channels"], s, s, s)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    def fwd():
        net.eval()
        t0 = time.perf_counter()
        with torch.no_grad():
            net(x)
        return (time.perf_counter() - t0) * 1e3

    def step():
        net.train()
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = ((net(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        return (time.perf_counter() - t0) * 1e3

    fwd()
    step()
    f = [fwd() for _ in range(a.reps)]
    st = [step() for _ in range(a.reps)]
    print(
        json.dumps(
            {
                "config": a.config,
                "params": sum(p.numel() for p in net.parameters()),
                "forward_ms": statistics.median(f),
                "train_ms": statistics.median(st),
                "threads": a.threads,
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
