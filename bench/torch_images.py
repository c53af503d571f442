#!/usr/bin/env python3
"""PyTorch peer of `gputrain train --data mnist|fashion-mnist`: test accuracy.

Trains the 784-256-128-10 ReLU network that gputrain's 28x28 image defaults
train, on the same files (the IDX .gz files of a folder), the same pixels
(bytes scaled by 1/255, nothing else), all 60 000 training images, one pass
over a fresh shuffle per epoch, and scores the 10 000 test images. Two
recipes, each over --seeds:

  pytorch   PyTorch's common recipe: nn.Linear's default initialisation,
            Adam lr 0.001, batch 64, constant rate
  gputrain  gputrain's defaults replayed: Kaiming-normal weights and zero
            biases, Adam lr 0.002, batch 64, cosine annealing per epoch
            (CosineAnnealingLR, T_max = epochs)

  /usr/bin/python3 bench/torch_images.py --data DATA/mnist --epochs 5
  gputrain train --device cpu --data mnist --epochs 5 --seed S     # the other side

One JSON line per run on stdout, a table on stderr.
"""
import argparse
import gzip
import json
import os
import platform
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n = struct.unpack(">II", raw[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", raw[8:16])
        return np.frombuffer(raw, np.uint8, offset=16).reshape(n, rows * cols)
    if magic == 2049:
        return np.frombuffer(raw, np.uint8, offset=8)
    raise SystemExit(f"{path}: magic {magic}, want 2051 (images) or 2049 (labels)")


def load(folder):
    def f(name):
        return os.path.join(folder, name)

    xtr = torch.tensor(idx(f("train-images-idx3-ubyte.gz")), dtype=torch.float32) / 255
    ytr = torch.tensor(idx(f("train-labels-idx1-ubyte.gz")), dtype=torch.int64)
    xte = torch.tensor(idx(f("t10k-images-idx3-ubyte.gz")), dtype=torch.float32) / 255
    yte = torch.tensor(idx(f("t10k-labels-idx1-ubyte.gz")), dtype=torch.int64)
    return xtr, ytr, xte, yte


def model(recipe):
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    if recipe == "gputrain":
        for m in net:
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
    return net


def run(data, recipe, seed, epochs, batch):
    xtr, ytr, xte, yte = data
    torch.manual_seed(seed)
    net = model(recipe)
    lr = 0.001 if recipe == "pytorch" else 0.002
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if recipe == "gputrain" else None
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), batch):
            j = perm[i : i + batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xtr[j]), ytr[j]).backward()
            opt.step()
        if sched:
            sched.step()
    wall = time.perf_counter() - t0
    with torch.no_grad():
        out = net(xte)
        acc = (out.argmax(1) == yte).double().mean().item()
        loss = loss_fn(out, yte).item()
    return {"recipe": recipe, "seed": seed, "epochs": epochs, "batch": batch, "lr": lr,
            "test_accuracy": acc, "test_loss": loss, "train_seconds": wall}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder with the four IDX .gz files")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--recipes", default="pytorch,gputrain")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {a.threads} threads, {platform.processor() or platform.machine()}, "
          f"data {a.data}", file=sys.stderr)
    data = load(a.data)
    for recipe in a.recipes.split(","):
        for s in a.seeds.split(","):
            r = run(data, recipe, int(s), a.epochs, a.batch)
            r["data"] = os.path.basename(os.path.normpath(a.data))
            print(json.dumps(r), flush=True)
            print(f"{r['data']:14} {recipe:9} seed {s}: test accuracy {100 * r['test_accuracy']:.2f} %, "
                  f"loss {r['test_loss']:.4f}, {r['train_seconds']:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
