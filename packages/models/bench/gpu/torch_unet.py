"""The same DDPM UNet as packages/models/src/diffusion/unet.ts, in PyTorch, timed on CUDA as the reference for the
webgpu numbers (same presets, batch sizes, eps-MSE loss, Adam, fp32; plus a bf16-autocast line for context).
Prints JSON lines like webgpu-bench.ts. Run by run-on-device.sh."""
import json, math, os, time
import torch, torch.nn as nn, torch.nn.functional as F

PRESETS = {
    "tiny": dict(resolution=16, ch=16, mults=[1, 2], blocks=1, attn=[], groups=8),
    "small": dict(resolution=32, ch=32, mults=[1, 2, 2], blocks=1, attn=[8], groups=16),
    "base": dict(resolution=32, ch=128, mults=[1, 2, 2, 2], blocks=2, attn=[16], groups=32),
}

def temb_sin(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, device=t.device, dtype=torch.float32) / (half - 1))
    a = t.float()[:, None] * freqs[None]
    return torch.cat([a.sin(), a.cos()], dim=1)

class Res(nn.Module):
    def __init__(s, cin, cout, tdim, g):
        super().__init__()
        s.n1, s.c1 = nn.GroupNorm(g, cin), nn.Conv2d(cin, cout, 3, padding=1)
        s.t = nn.Linear(tdim, cout)
        s.n2, s.c2 = nn.GroupNorm(g, cout), nn.Conv2d(cout, cout, 3, padding=1)
        s.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
    def forward(s, x, temb):
        h = s.c1(F.silu(s.n1(x))) + s.t(temb)[:, :, None, None]
        return s.skip(x) + s.c2(F.silu(s.n2(h)))

class Attn(nn.Module):
    def __init__(s, c, g):
        super().__init__()
        s.n, s.qkv, s.proj = nn.GroupNorm(g, c), nn.Conv2d(c, 3 * c, 1), nn.Conv2d(c, c, 1)
    def forward(s, x):
        b, c, h, w = x.shape
        q, k, v = s.qkv(s.n(x)).reshape(b, 3, c, h * w).unbind(1)
        a = torch.softmax(torch.einsum("bci,bcj->bij", q, k) / math.sqrt(c), dim=-1)
        return x + s.proj(torch.einsum("bij,bcj->bci", a, v).reshape(b, c, h, w))

class UNet(nn.Module):
    def __init__(s, resolution, ch, mults, blocks, attn, groups, channels=3):
        super().__init__()
        s.ch, tdim = ch, ch * 4
        s.temb = nn.Sequential(nn.Linear(ch, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        s.cin = nn.Conv2d(channels, ch, 3, padding=1)
        s.down, skips, c, res = nn.ModuleList(), [ch], ch, resolution
        for lvl, m in enumerate(mults):
            for _ in range(blocks):
                s.down.append(nn.ModuleList([Res(c, ch * m, tdim, groups), Attn(ch * m, groups) if res in attn else nn.Identity()]))
                c = ch * m; skips.append(c)
            if lvl != len(mults) - 1:
                s.down.append(nn.Conv2d(c, c, 3, stride=2, padding=1)); skips.append(c); res //= 2
        s.mid = nn.ModuleList([Res(c, c, tdim, groups), Attn(c, groups), Res(c, c, tdim, groups)])
        s.up = nn.ModuleList()
        for lvl in reversed(range(len(mults))):
            m = mults[lvl]
            for _ in range(blocks + 1):
                s.up.append(nn.ModuleList([Res(c + skips.pop(), ch * m, tdim, groups), Attn(ch * m, groups) if res in attn else nn.Identity()]))
                c = ch * m
            if lvl != 0:
                s.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, c, 3, padding=1))); res *= 2
        s.out = nn.Sequential(nn.GroupNorm(groups, c), nn.SiLU(), nn.Conv2d(c, channels, 3, padding=1))
    def forward(s, x, t):
        temb = F.silu(s.temb(temb_sin(t, s.ch)))
        h = s.cin(x); hs = [h]
        for m in s.down:
            h = m[1](m[0](h, temb)) if isinstance(m, nn.ModuleList) else m(h)
            hs.append(h)
        h = s.mid[2](s.mid[1](s.mid[0](h, temb)), temb)
        for m in s.up:
            h = m[1](m[0](torch.cat([h, hs.pop()], 1), temb)) if isinstance(m, nn.ModuleList) else m(h)
        return s.out(h)

def bench(preset, batch, steps, amp):
    dev = "cuda"
    cfg = PRESETS[preset]
    model = UNet(**cfg).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    r = cfg["resolution"]
    x0 = torch.rand(batch, 3, r, r, device=dev) * 2 - 1
    abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, device=dev), 0)
    def step():
        t = torch.randint(0, 1000, (batch,), device=dev)
        noise = torch.randn_like(x0)
        a = abar[t][:, None, None, None]
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            loss = F.mse_loss(model(a.sqrt() * x0 + (1 - a).sqrt() * noise, t).float(), noise)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        return loss
    for _ in range(3): step()
    torch.cuda.reset_peak_memory_stats()
    torch.cuda.synchronize(); t0 = time.perf_counter()
    for _ in range(steps): loss = step()
    torch.cuda.synchronize(); train = (time.perf_counter() - t0) / steps
    tt = torch.full((batch,), 500, device=dev)
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
        for _ in range(3): model(x0, tt)
        torch.cuda.synchronize(); t0 = time.perf_counter()
        for _ in range(steps): model(x0, tt)
        torch.cuda.synchronize(); fwd = (time.perf_counter() - t0) / steps
    print(json.dumps(dict(bench="diffusion.gpu.train", backend="pytorch-cuda" + ("-bf16" if amp else "-fp32"), preset=preset,
        params=sum(p.numel() for p in model.parameters()), batch=batch, imgPerSec=round(batch / train, 1),
        forwardImgPerSec=round(batch / fwd, 1), trainOverForward=round(train / fwd, 2), stepMs=round(train * 1000, 2),
        loss=round(loss.item(), 4), peakMemMB=round(torch.cuda.max_memory_allocated() / 2**20),
        device=torch.cuda.get_device_name())), flush=True)

if __name__ == "__main__":
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False; torch.backends.cudnn.allow_tf32 = False  # fp32 like WebGPU
    for preset in os.environ.get("PRESETS", "small,base").split(","):
        for batch in map(int, os.environ.get("BATCHES", "64").split(",")):
            for amp in (False, True):
                bench(preset, batch, int(os.environ.get("STEPS", "10")), amp)
