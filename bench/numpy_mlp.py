#!/usr/bin/env python3
"""numpy peer of `gputrain bench`: the same MLP, step and schedule in plain numpy.

Forward: hidden layers act(X·W + b), last layer linear (logits); loss binary
cross-entropy (one output) or softmax cross-entropy, mean over the batch;
backward by hand; plain SGD. float64 by default (as `--device cpu`), float32
with --dtype float32.

  python3 bench/numpy_mlp.py --preset seed            # 64-128-128-1, 360 rows, full batch, lr 0.01, 10001 steps
  python3 bench/numpy_mlp.py --sizes 784,128,64,10 --batch 512 --steps 50 --reps 5

With --preset seed the data and initial weights are generated with the same
splitmix64 generator and rule as bench/benchstep (SeedData; the Xavier
weights that nn.InitParamsFrom draws from benchstep.Source(RNG(1))), so the
final loss must match `gputrain bench --preset seed --device cpu` to ~1e-9.
Prints one JSON object.
"""
import argparse
import json
import os
import platform
import time

import numpy as np

from splitmix import RNG, xavier_values  # bench/splitmix.py, shared with the other peer


def xavier(r, fan_in, fan_out):
    return np.array(xavier_values(r, fan_in, fan_out)).reshape(fan_in, fan_out)


def seed_data():
    """benchstep.SeedData: 360x64 pixels k/16, label 2*sum(centre) > sum(outer)."""
    r = RNG(2024)
    rows, cols = 360, 64
    k = np.array([r.u64() % 17 for _ in range(rows * cols)], dtype=np.int64).reshape(rows, cols)
    c = k[:, [j for j in range(cols) if j % 8 in (3, 4)]].sum(1)
    o = k[:, [j for j in range(cols) if j % 8 in (0, 1, 6, 7)]].sum(1)
    return k / 16.0, (2 * c > o).astype(np.float64)


def random_data(rows, cols, classes, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(rows, cols), dtype=np.uint8)
    bands = max(classes, 2)
    band = (np.arange(cols) * bands) // cols
    sums = np.stack([x[:, band == b].sum(1, dtype=np.int64) for b in range(bands)], 1)
    return x, sums.argmax(1).astype(np.float64)


def act(z, name):
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "relu":
        return np.maximum(z, 0)
    return np.tanh(z)


def dact(y, name):
    if name == "sigmoid":
        return y * (1 - y)
    if name == "relu":
        return (y > 0).astype(y.dtype)
    return 1 - y * y


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=["seed"], help="the classic tutorial workload")
    p.add_argument("--sizes", default="784,128,64,10")
    p.add_argument("--activation", default="sigmoid", choices=["sigmoid", "relu", "tanh"])
    p.add_argument("--rows", type=int, default=10000, help="data set rows (random data)")
    p.add_argument("--batch", type=int, default=512, help="rows per step; >= rows means full batch")
    p.add_argument("--steps", type=int, default=50, help="steps per repetition")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    a = p.parse_args()
    wall0 = time.perf_counter()
    dt = np.dtype(a.dtype)

    if a.preset == "seed":
        sizes, a.activation, a.lr = [64, 128, 128, 1], "sigmoid", 0.01
        steps = a.steps if a.steps != 50 else 10001
        x, y = seed_data()
        xf = x.astype(dt)
        rows, batch, reps = x.shape[0], x.shape[0], 1
    else:
        sizes = [int(s) for s in a.sizes.split(",")]
        steps, reps = a.steps, a.reps
        x, y = random_data(a.rows, sizes[0], sizes[-1], 7)
        rows = a.rows
        batch = min(a.batch, rows)
        xf = None
    full = batch >= rows
    r = RNG(1)
    W = [xavier(r, sizes[i], sizes[i + 1]).astype(dt) for i in range(len(sizes) - 1)]
    B = [np.zeros((1, sizes[i + 1]), dt) for i in range(len(sizes) - 1)]
    binary = sizes[-1] == 1
    L = len(W)
    # Minibatches: 16 windows of row indices drawn with replacement (as benchstep).
    order = np.random.default_rng(3).integers(0, rows, size=16 * batch)
    if full:
        Xb, Tb = (xf if xf is not None else x.astype(dt)), y.astype(dt).reshape(-1, 1)
    lossacc = [0.0]
    state = {"step": 0}

    def step():
        nonlocal Xb, Tb
        if not full:
            w = (state["step"] % 16) * batch
            ix = order[w:w + batch]
            Xb = x[ix].astype(dt) * dt.type(1 / 255)
            Tb = y[ix].astype(dt).reshape(-1, 1)
        state["step"] += 1
        acts = [Xb]
        for i in range(L):
            z = acts[-1] @ W[i] + B[i]
            acts.append(act(z, a.activation) if i < L - 1 else z)
        z = acts[-1]
        n = z.shape[0]
        if binary:
            lossacc[0] += float(np.sum(np.maximum(z, 0) - z * Tb + np.log1p(np.exp(-np.abs(z)))))
            g = (1.0 / (1.0 + np.exp(-z)) - Tb) / n
        else:
            zm = z - z.max(1, keepdims=True)
            e = np.exp(zm)
            s = e.sum(1, keepdims=True)
            cls = Tb[:, 0].astype(np.int64)
            lossacc[0] += float(np.sum(np.log(s[:, 0]) - zm[np.arange(n), cls]))
            g = e / s
            g[np.arange(n), cls] -= 1
            g /= n
        for i in range(L - 1, -1, -1):
            dW = acts[i].T @ g
            dB = g.sum(0, keepdims=True)
            if i > 0:
                g = (g @ W[i].T) * dact(acts[i], a.activation)
            W[i] -= a.lr * dW
            B[i] -= a.lr * dB
        return z

    if a.preset != "seed":
        step()  # warm-up (the preset counts every step, end to end)
    times = []
    t_loop = time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(steps - 1 if a.preset == "seed" else steps):
            step()
        times.append((time.perf_counter() - t0) / (steps - 1 if a.preset == "seed" else steps))
    # Final step, with the loss and accuracy of that step alone (as benchstep.Final).
    lossacc[0] = 0.0
    z = step()
    loop_s = time.perf_counter() - t_loop
    wall = time.perf_counter() - wall0
    final_loss = lossacc[0] / Xb.shape[0]
    pred = (z[:, 0] > 0) if binary else z.argmax(1)
    acc = float(np.mean(pred == (Tb[:, 0] > 0.5) if binary else pred == Tb[:, 0]))
    times.sort()
    out = {
        "peer": "numpy",
        "numpy": np.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "dtype": a.dtype,
        "preset": a.preset or "",
        "sizes": sizes,
        "activation": a.activation,
        "batch": batch,
        "full_batch": full,
        "steps": steps,
        "reps": reps,
        "step_seconds_median": times[len(times) // 2],
        "step_seconds_min": times[0],
        "step_seconds_max": times[-1],
        "samples_per_second": batch / times[len(times) // 2],
        "final_loss": final_loss,
        "final_accuracy": acc,
    }
    if a.preset == "seed":
        out["wall_seconds"] = wall
        out["loop_seconds"] = loop_s
        out["step_seconds"] = loop_s / steps
    print(json.dumps(out))


if __name__ == "__main__":
    main()
