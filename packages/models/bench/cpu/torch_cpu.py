"""PyTorch CPU baseline for the data-parallel CPU bench (bench/cpu-parallel.ts): one training-step timing of the
same UNet as Dapple's (gpu/torch_unet.py's model, built from the Dapple preset's config passed in as JSON), on
device cpu with torch.set_num_threads(threads). The same step as Dapple's bench case: eps-MSE on random t and
noise, Adam, global-norm clipping at 1, an EMA of the weights. Prints one JSON line.
Usage: /usr/bin/python3 bench/cpu/torch_cpu.py '{"preset":"small","config":{...},"threads":2,"batch":32,"steps":5}'"""
import json, os, resource, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gpu"))
import torch, torch.nn.functional as F  # noqa: E402
from torch_unet import UNet  # noqa: E402

args = json.loads(sys.argv[1])
threads, batch, steps, warmup = args["threads"], args["batch"], args["steps"], args.get("warmup", 2)
torch.set_num_threads(threads)
torch.manual_seed(0)
c = args["config"]
model = UNet(c["resolution"], c["baseChannels"], c["channelMults"], c["numResBlocks"], c["attentionResolutions"],
             c["groups"], channels=c["channels"])
params = sum(p.numel() for p in model.parameters())
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
ema = [p.detach().clone() for p in model.parameters()]
r = c["resolution"]
x0 = torch.rand(batch, c["channels"], r, r) * 2 - 1
abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000), 0)

def step():
    t = torch.randint(0, 1000, (batch,))
    noise = torch.randn_like(x0)
    a = abar[t][:, None, None, None]
    loss = F.mse_loss(model(a.sqrt() * x0 + (1 - a).sqrt() * noise, t), noise)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    with torch.no_grad():
        ps = [p.detach() for p in model.parameters()]
        torch._foreach_mul_(ema, 0.9999)
        torch._foreach_add_(ema, ps, alpha=1 - 0.9999)
    return loss

for _ in range(warmup):
    step()
walls, cpus = [], []
for _ in range(steps):
    w0, c0 = time.perf_counter(), time.process_time()
    loss = step()
    walls.append(time.perf_counter() - w0)
    cpus.append(time.process_time() - c0)
med = lambda xs: sorted(xs)[len(xs) // 2]
print(json.dumps(dict(
    bench="cpu.parallel.train", impl="pytorch-cpu", torch=torch.__version__, preset=args["preset"], params=params,
    batch=batch, workers=threads, steps=steps, stepMs=round(med(walls) * 1000, 1),
    imgPerSec=round(batch / med(walls), 2), imgPerCpuSec=round(batch / med(cpus), 2),
    peakRssMB=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), loss=round(loss.item(), 4),
    loadAvg=[round(x, 2) for x in os.getloadavg()])), flush=True)
