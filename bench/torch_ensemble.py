#!/usr/bin/env python3
"""PyTorch peer of `gputrain bench --models N`: a stacked ensemble with torch.bmm.

N MLPs of 64-128-64-10 (sigmoid hidden layers, last layer linear), softmax
cross-entropy (mean over each model's batch), plain SGD (lr 0.01) or Adam,
batch 32, float32 on the CPU (or --device cuda): the workload of `gputrain bench --models N
--batch 32 --hidden 128,64 --data digits`. The weights of layer l are one
(N, in, out) tensor and the forward pass is torch.baddbmm over the stack,
the idiomatic ensemble before torch.func.vmap (PyTorch 2.0); Debian's
python3-torch is 1.13. Each model draws its own minibatch rows from a
resident data set of the digits' shape (1438 rows of 64 features, values in
[0, 1]; throughput does not depend on the values), gathered from a
per-model permutation by one index tensor per step. The step is one
autograd backward of the sum of the N models' mean losses (each model's
gradient is its own: the models share no parameters) and one optimizer step
over the stacked tensors.

Each N: a warm-up, then --reps repetitions of about --rep-seconds each;
reports the median and minimum step time, model·samples/s (N · batch /
step), and the configuration (torch version, intra-op threads, MKL/OpenBLAS).

  /usr/bin/python3 bench/torch_ensemble.py --models 1,4,16,64 --threads 2
  /usr/bin/python3 bench/torch_ensemble.py --json ...   # one JSON object
"""
import argparse
import json
import platform
import time

import torch
import torch.nn.functional as F


def build(n, sizes, gen, dev):
    ws, bs = [], []
    for fi, fo in zip(sizes[:-1], sizes[1:]):
        lim = (6.0 / (fi + fo)) ** 0.5  # Xavier uniform, as gputrain
        w = ((torch.rand(n, fi, fo, generator=gen) * 2 - 1) * lim).to(dev)
        ws.append(w.requires_grad_())
        bs.append(torch.zeros(n, 1, fo, device=dev, requires_grad=True))
    return ws, bs


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def run(n, args, sizes, data, labels, gen):
    dev = data.device
    ws, bs = build(n, sizes, gen, dev)
    params = ws + bs
    if args.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=args.lr)
    else:
        opt = torch.optim.SGD(params, lr=args.lr)
    rows = data.shape[0]
    perm = torch.stack([torch.randperm(rows, generator=gen) for _ in range(n)]).to(dev)  # (n, rows)
    batch = args.batch
    offsets = list(range(0, rows - batch + 1, batch))

    def step(i):
        off = offsets[i % len(offsets)]
        idx = perm[:, off:off + batch]  # (n, batch)
        h = data[idx]  # (n, batch, 64)
        t = labels[idx].reshape(-1)  # (n·batch,)
        for l, (w, b) in enumerate(zip(ws, bs)):
            h = torch.baddbmm(b, h, w)
            if l < len(ws) - 1:
                h = torch.sigmoid(h)
        # The mean over each model's batch, summed over the models: each
        # model's gradient is that of its own mean loss.
        loss = F.cross_entropy(h.reshape(-1, h.shape[-1]), t, reduction="sum") / batch
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for i in range(5):
        step(i)
    sync(dev)
    t0 = time.perf_counter()
    step(5)
    sync(dev)
    one = max(time.perf_counter() - t0, 1e-6)
    steps = max(3, min(args.max_steps, int(args.rep_seconds / one)))
    times = []
    i = 6
    for _ in range(args.reps):
        t0 = time.perf_counter()
        for _ in range(steps):
            step(i)
            i += 1
        sync(dev)
        times.append((time.perf_counter() - t0) / steps)
    times.sort()
    med = times[len(times) // 2]
    return {"models": n, "batch": batch, "steps_per_rep": steps, "reps": args.reps,
            "step_seconds_median": med, "step_seconds_min": times[0],
            "model_samples_per_second": n * batch / med,
            "model_samples_per_second_best": n * batch / times[0]}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="1,4,16,64")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--hidden", default="128,64")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--rep-seconds", type=float, default=0.3)
    p.add_argument("--max-steps", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    sizes = [64] + [int(h) for h in args.hidden.split(",") if h] + [10]
    dev = torch.device(args.device)
    data = torch.rand(1438, 64, generator=gen).to(dev)
    labels = torch.randint(0, 10, (1438,), generator=gen).to(dev)
    config = {
        "torch": torch.__version__, "python": platform.python_version(),
        "machine": platform.machine(), "intra_op_threads": torch.get_num_threads(),
        "inter_op_threads": torch.get_num_interop_threads(),
        "mkl": torch.backends.mkl.is_available(), "mkldnn": torch.backends.mkldnn.is_available(),
        "dtype": "float32", "device": str(dev), "form": "stacked ensemble, torch.baddbmm",
        "workload": "-".join(str(s) for s in sizes) + " sigmoid softmax-ce " + args.optimizer + " lr=%g" % args.lr,
    }
    if dev.type == "cuda":
        config["gpu"] = torch.cuda.get_device_name(dev)
    show = torch.__config__.show()
    for key in ("BLAS_INFO", "LAPACK_INFO"):
        for part in show.replace(",", "\n").splitlines():
            if part.strip().startswith(key + "="):
                config[key.lower()] = part.strip().split("=", 1)[1]
    results = []
    for n in [int(s) for s in args.models.split(",") if s]:
        results.append(run(n, args, sizes, data, labels, gen))
    if args.json:
        print(json.dumps({"config": config, "results": results}))
        return
    print("config: " + ", ".join("%s=%s" % kv for kv in config.items()))
    print("%6s %12s %12s %18s" % ("MODELS", "STEP (MED)", "STEP (MIN)", "MODEL·SAMPLES/S"))
    for r in results:
        print("%6d %10.3fms %10.3fms %18.0f" % (r["models"], 1e3 * r["step_seconds_median"], 1e3 * r["step_seconds_min"],
                                              r["model_samples_per_second"]))


if __name__ == "__main__":
    main()
