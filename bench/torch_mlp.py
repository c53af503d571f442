#!/usr/bin/env python3
"""PyTorch peer of `gputrain bench`, for a machine with a GPU.

The identical model and schedule as bench/benchstep: a 784-128-64-10 sigmoid
MLP (last layer linear), softmax cross-entropy (mean over the batch), plain
SGD (lr 0.01), data resident on the device (10000 rows of random pixels, bytes
scaled by 1/255 as each batch is gathered from a resident index tensor),
float32. Each configuration: warm-up, then --reps repetitions of --steps steps,
synchronised once per repetition. Runs eager and torch.compile at batch 64, 512
and 4096; the seed preset (64-128-128-1 sigmoid, BCE, 360 rows, full batch,
lr 0.01, 10001 steps, end to end); and a 4096^3 float32 matmul with TF32 off.

  python3 bench/torch_mlp.py                 # everything, JSON on stdout
  python3 bench/torch_mlp.py --no-compile    # eager only (no Triton/compiler)

On the CPU (Debian's python3-torch 1.13 has no torch.compile), side by side
with `gputrain bench --device cpu`:

  /usr/bin/python3 bench/torch_mlp.py --device cpu --no-compile --no-matmul \
      --batch 1,8,32,64,128,512,2048 --steps 50 --threads 2
  /usr/bin/python3 bench/torch_mlp.py --device cpu --no-compile --no-matmul \
      --batch '' --dtype float64 --threads 2      # the seed preset alone, float64
"""
import argparse
import json
import platform
import time

import torch
import torch.nn.functional as F

from splitmix import RNG, xavier_values  # bench/splitmix.py, shared with the other peer


DTYPE = torch.float32  # --dtype


def xavier(r, fi, fo):
    return torch.tensor(xavier_values(r, fi, fo), dtype=torch.float64).reshape(fi, fo)


def seed_data():
    r = RNG(2024)
    k = torch.tensor([r.u64() % 17 for _ in range(360 * 64)], dtype=torch.int64).reshape(360, 64)
    cols = torch.arange(64) % 8
    c = k[:, (cols == 3) | (cols == 4)].sum(1)
    o = k[:, (cols == 0) | (cols == 1) | (cols == 6) | (cols == 7)].sum(1)
    return k.double() / 16, (2 * c > o).double()


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def make_step(Ws, Bs, act, lr, binary):
    L = len(Ws)

    def step(x, t):
        h = x
        for i in range(L):
            h = h @ Ws[i] + Bs[i]
            if i < L - 1:
                h = act(h)
        if binary:
            loss = F.binary_cross_entropy_with_logits(h[:, 0], t)
        else:
            loss = F.cross_entropy(h, t.long())
        gs = torch.autograd.grad(loss, Ws + Bs)
        with torch.no_grad():
            for p, g in zip(Ws + Bs, gs):
                p.sub_(lr * g)
        return loss.detach()

    return step


def flops_per_sample(sizes):
    f = 0
    for i in range(len(sizes) - 1):
        io = sizes[i] * sizes[i + 1]
        f += 2 * io + (2 * io if i == 0 else 4 * io)
    return f


def sweep(dev, batch, steps, reps, compile_):
    sizes = [784, 128, 64, 10]
    g = torch.Generator().manual_seed(7)
    x = torch.randint(0, 256, (10000, 784), dtype=torch.uint8, generator=g).to(dev)
    y = torch.randint(0, 10, (10000,), generator=g).to(dev, DTYPE)
    order = torch.randint(0, 10000, (16 * batch,), generator=g).to(dev)
    r = RNG(1)
    Ws = [xavier(r, sizes[i], sizes[i + 1]).to(dev, DTYPE).requires_grad_() for i in range(3)]
    Bs = [torch.zeros(sizes[i + 1], device=dev, dtype=DTYPE, requires_grad=True) for i in range(3)]
    step = make_step(Ws, Bs, torch.sigmoid, 0.01, False)
    if compile_:
        step = torch.compile(step)
    state = [0]

    def one():
        w = (state[0] % 16) * batch
        ix = order[w:w + batch]
        state[0] += 1
        return step(x[ix].to(DTYPE) * (1 / 255), y[ix])

    t0 = time.perf_counter()
    for _ in range(3):
        one()
    sync(dev)
    warm = time.perf_counter() - t0
    per = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(steps):
            one()
        sync(dev)
        per.append((time.perf_counter() - t0) / steps)
    per.sort()
    med = per[len(per) // 2]
    return {"workload": "784-128-64-10 sigmoid softmax-ce sgd", "mode": "compile" if compile_ else "eager", "dtype": str(DTYPE),
            "batch": batch, "steps_per_rep": steps, "reps": reps, "step_seconds_median": med,
            "step_seconds_min": per[0], "step_seconds_max": per[-1], "samples_per_second": batch / med,
            "gflops": flops_per_sample(sizes) * batch / med / 1e9, "warmup_seconds": warm}


def seed_preset(dev, steps, compile_):
    wall0 = time.perf_counter()
    x, y = seed_data()
    sizes = [64, 128, 128, 1]
    r = RNG(1)
    Ws = [xavier(r, sizes[i], sizes[i + 1]).to(dev, DTYPE).requires_grad_() for i in range(3)]
    Bs = [torch.zeros(sizes[i + 1], device=dev, dtype=DTYPE, requires_grad=True) for i in range(3)]
    x, y = x.to(dev, DTYPE), y.to(dev, DTYPE)
    step = make_step(Ws, Bs, torch.sigmoid, 0.01, True)
    if compile_:
        step = torch.compile(step)
    t0 = time.perf_counter()
    for _ in range(steps - 1):
        step(x, y)
    loss = float(step(x, y))
    sync(dev)
    loop = time.perf_counter() - t0
    wall = time.perf_counter() - wall0
    return {"workload": "seed preset 64-128-128-1 sigmoid bce, 360 rows full batch, lr 0.01",
            "mode": "compile" if compile_ else "eager", "dtype": str(DTYPE), "steps": steps, "wall_seconds": wall,
            "step_seconds": loop / steps, "final_loss": loss}


def matmul4096(dev, reps, n=4096):
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    for _ in range(3):
        a @ b
    sync(dev)
    per = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(10):
            a @ b
        sync(dev)
        per.append((time.perf_counter() - t0) / 10)
    per.sort()
    med = per[len(per) // 2]
    return {"matmul": f"{n}x{n}x{n} float32, TF32 off", "seconds_median": med, "gflops": 2 * n**3 / med / 1e9}


def main():
    global DTYPE
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--batch", "--batches", dest="batch", default="64,512,4096",
                   help="comma-separated batch sizes of the sweep ('' for none)")
    p.add_argument("--steps", type=int, default=200, help="steps per repetition of the sweep")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--seed-steps", type=int, default=10001, help="steps of the seed preset (0: skip it)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's default)")
    p.add_argument("--no-compile", action="store_true")
    p.add_argument("--matmul", type=int, default=4096, help="size of the square float32 matmul (0: skip it)")
    p.add_argument("--no-matmul", action="store_true", help="skip the matmul (same as --matmul 0)")
    a = p.parse_args()
    DTYPE = getattr(torch, a.dtype)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    # torch.compile arrived in PyTorch 2.0; older ones run eager only.
    modes = [False] if a.no_compile or not hasattr(torch, "compile") else [False, True]
    batches = [int(b) for b in a.batch.split(",") if b.strip()]
    out = {"peer": "torch", "torch": torch.__version__, "python": platform.python_version(), "device": str(dev),
           "adapter": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor(),
           "threads": torch.get_num_threads(), "dtype": a.dtype, "results": [], "seed": [], "matmul": None}
    for compile_ in modes:
        for batch in batches:
            out["results"].append(sweep(dev, batch, a.steps, a.reps, compile_))
        if a.seed_steps > 0:
            out["seed"].append(seed_preset(dev, a.seed_steps, compile_))
    if a.matmul > 0 and not a.no_matmul:
        out["matmul"] = matmul4096(dev, a.reps, a.matmul)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
