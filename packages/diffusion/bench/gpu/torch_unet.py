"""PyTorch twin of @dapple/diffusion's DDPM UNet (same channels, multipliers, res blocks, attention
resolutions, GroupNorm groups, SiLU, sinusoidal time embedding, zero-initialised output convs), timing
training steps on CUDA as the baseline for bench/gpu/webgpu-bench.ts. Prints JSON lines.

    python packages/diffusion/bench/gpu/torch_unet.py [--presets small,base] [--batches 32,64,128] [--steps 20] [--bf16]
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Same as src/presets.ts (channels = 3).
PRESETS = {
    "tiny": dict(resolution=16, base=16, mults=[1, 2], blocks=1, attn=[], dropout=0.0, groups=8),
    "small": dict(resolution=32, base=32, mults=[1, 2, 2], blocks=1, attn=[8], dropout=0.1, groups=16),
    "base": dict(resolution=32, base=128, mults=[1, 2, 2, 2], blocks=2, attn=[16], dropout=0.1, groups=32),
}


def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, device=t.device) / (half - 1))
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


def zero(module):
    nn.init.zeros_(module.weight)
    nn.init.zeros_(module.bias)
    return module


class ResBlock(nn.Module):
    def __init__(self, cin, cout, tdim, groups, dropout):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(tdim, cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = zero(nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(temb)[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class Attention(nn.Module):
    def __init__(self, ch, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch)
        self.q, self.k, self.v = nn.Linear(ch, ch), nn.Linear(ch, ch), nn.Linear(ch, ch)
        self.proj = zero(nn.Linear(ch, ch))

    def forward(self, x):
        b, c, h, w = x.shape
        flat = self.norm(x).flatten(2).transpose(1, 2)  # [B, HW, C]
        attn = torch.softmax(self.q(flat) @ self.k(flat).transpose(1, 2) / math.sqrt(c), dim=-1)
        out = self.proj(attn @ self.v(flat))
        return x + out.transpose(1, 2).reshape(b, c, h, w)


class UNet(nn.Module):
    def __init__(self, resolution, base, mults, blocks, attn, dropout, groups, channels=3):
        super().__init__()
        tdim = base * 4
        self.base = base
        self.temb = nn.Sequential(nn.Linear(base, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.conv_in = nn.Conv2d(channels, base, 3, padding=1)
        self.down = nn.ModuleList()
        skips, cin, res = [base], base, resolution
        for level, m in enumerate(mults):
            for _ in range(blocks):
                self.down.append(ResBlock(cin, base * m, tdim, groups, dropout))
                cin = base * m
                if res in attn:
                    self.down.append(Attention(cin, groups))
                skips.append(cin)
            if level != len(mults) - 1:
                self.down.append(nn.Conv2d(cin, cin, 3, stride=2, padding=1))
                skips.append(cin)
                res //= 2
        self.mid = nn.ModuleList([ResBlock(cin, cin, tdim, groups, dropout), Attention(cin, groups), ResBlock(cin, cin, tdim, groups, dropout)])
        self.up = nn.ModuleList()
        for level in reversed(range(len(mults))):
            for _ in range(blocks + 1):
                self.up.append(ResBlock(cin + skips.pop(), base * mults[level], tdim, groups, dropout))
                cin = base * mults[level]
                if res in attn:
                    self.up.append(Attention(cin, groups))
            if level != 0:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cin, 3, padding=1)))
                res *= 2
        self.out = nn.Sequential(nn.GroupNorm(groups, cin), nn.SiLU(), zero(nn.Conv2d(cin, channels, 3, padding=1)))

    def forward(self, x, t):
        temb = F.silu(self.temb(timestep_embedding(t, self.base)))
        h = self.conv_in(x)
        hs = [h]
        for layer in self.down:
            if isinstance(layer, ResBlock):
                h = layer(h, temb)
                hs.append(h)
            elif isinstance(layer, Attention):
                h = layer(h)
                hs[-1] = h
            else:
                h = layer(h)
                hs.append(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, temb)), temb)
        for layer in self.up:
            if isinstance(layer, ResBlock):
                h = layer(torch.cat([h, hs.pop()], dim=1), temb)
            else:
                h = layer(h)
        return self.out(h)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--presets", default="small,base")
    p.add_argument("--batches", default="32,64,128")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--bf16", action="store_true", help="autocast to bfloat16 (TF.js runs float32)")
    a = p.parse_args()
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    T = 1000
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    abar = torch.cumprod(1 - betas, 0).float().to(dev)
    for preset in a.presets.split(","):
        for batch in [int(b) for b in a.batches.split(",")]:
            cfg = PRESETS[preset]
            model = UNet(**cfg).to(dev)
            ema = [p.detach().clone() for p in model.parameters()]
            opt = torch.optim.Adam(model.parameters(), lr=1e-4)
            r = cfg["resolution"]
            x0 = torch.randn(batch, 3, r, r, device=dev).clamp(-1, 1)

            def step():
                t = torch.randint(0, T, (batch,), device=dev)
                noise = torch.randn_like(x0)
                a_ = abar[t][:, None, None, None]
                xt = a_.sqrt() * x0 + (1 - a_).sqrt() * noise
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.bf16):
                    loss = F.mse_loss(model(xt, t).float(), noise)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                with torch.no_grad():
                    torch._foreach_mul_(ema, 0.9999)
                    torch._foreach_add_(ema, [p.detach() for p in model.parameters()], alpha=1e-4)
                return loss.item()  # one sync per step, like the TF.js trainer's metrics download

            try:
                for _ in range(3):
                    step()
                torch.cuda.synchronize()
                start = time.perf_counter()
                for _ in range(a.steps):
                    step()
                torch.cuda.synchronize()
                step_ms = (time.perf_counter() - start) * 1000 / a.steps
                with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.bf16):
                    tt = torch.full((batch,), 500, device=dev)
                    model(x0, tt)
                    torch.cuda.synchronize()
                    start = time.perf_counter()
                    for _ in range(a.steps):
                        model(x0, tt)
                    torch.cuda.synchronize()
                    fwd_ms = (time.perf_counter() - start) * 1000 / a.steps
                print(json.dumps({
                    "bench": "diffusion.train.torch", "preset": preset, "batch": batch,
                    "params": sum(p.numel() for p in model.parameters()),
                    "device": torch.cuda.get_device_name(0), "dtype": "bf16-autocast" if a.bf16 else "float32",
                    "stepMs": round(step_ms, 2), "imgPerSec": round(batch * 1000 / step_ms, 1),
                    "forwardImgPerSec": round(batch * 1000 / fwd_ms, 1), "trainOverForward": round(step_ms / fwd_ms, 2),
                    "peakGpuMemMB": round(torch.cuda.max_memory_allocated() / 2**20),
                }), flush=True)
            except torch.cuda.OutOfMemoryError as err:
                print(json.dumps({"bench": "diffusion.train.torch", "preset": preset, "batch": batch, "error": str(err)[:200]}), flush=True)
            del model, opt, ema
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()


if __name__ == "__main__":
    main()
