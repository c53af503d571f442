#!/usr/bin/env python3
"""The seed workload on the CPU against its peers, alternately, in one run.

Runs, repetition after repetition in the same order, each peer of the seed preset
(64-128-128-1 sigmoid MLP, 360 rows, full batch, lr 0.01, 10001 steps):

  gputrain     gputrain bench --preset seed --device cpu --json (GOMAXPROCS as
               inherited: all cores), and with GOMAXPROCS=1 (--one-core)
  numpy        bench/numpy_mlp.py --preset seed, with the environment as
               inherited ("as shipped": on some machines OPENBLAS_CORETYPE and
               OPENBLAS_L2_SIZE are set there)
  numpy-tuned  the same with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset,
               OPENBLAS_NUM_THREADS=1, MALLOC_MMAP_THRESHOLD_=100000000 and
               MALLOC_TRIM_THRESHOLD_=100000000 (no page faults from numpy's
               temporaries)
  torch-f32    bench/torch_mlp.py --device cpu --no-compile --no-matmul
  torch-f64      --batch '' --seed-steps N --dtype float32 / float64 (torch's
               default threads unless --torch-threads)
  torch-f64-blas1  the same in float64 with OPENBLAS_NUM_THREADS=1 (PyTorch's
               float64 products go to OpenBLAS, whose own threads can fight
               with torch's and with other processes)

and prints, for each peer, the environment variables it ran with that bear on
threads and allocation, then the wall time of its whole process (imports and
start-up included), its own wall time after start-up (each program's
"wall_seconds"), the CPU time of the process (user + system, all threads),
the final loss, and the ratios of the in-process wall times to gputrain's
(> 1: gputrain faster). Every figure is min / median over the repetitions, with
the load average (/proc/loadavg) before each run.

  go build -o /tmp/gputrain ./cmd/gputrain
  /usr/bin/python3 bench/peers.py --gputrain /tmp/gputrain                 # 10001 steps, 3 repetitions
  /usr/bin/python3 bench/peers.py --gputrain /tmp/gputrain --steps 2000    # shorter: every peer runs 2000 steps

With --batch B1,B2,… the workload is instead the batch sweep's 784-128-64-10
step on random pixels (`gputrain bench --device cpu --data random --batch B
--json`, against torch_mlp.py --batch B --steps S --seed-steps 0, S from
--sweep-steps; numpy is left out): the median step time of each peer at each
batch, min / median over the repetitions, and its ratio to gputrain's.

  /usr/bin/python3 bench/peers.py --gputrain /tmp/gputrain --batch 64,1024 --one-core

numpy as shipped can take a minute a run on a machine whose OPENBLAS_*
settings do not suit it; --steps cuts every peer's run alike (the output says
how many steps each ran), and --skip leaves peers out.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# Variables that change how the peers use threads and memory, printed for each.
SHOWN = ("GOMAXPROCS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS",
         "MKL_NUM_THREADS", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
TUNED = {"OPENBLAS_NUM_THREADS": "1", "MALLOC_MMAP_THRESHOLD_": "100000000", "MALLOC_TRIM_THRESHOLD_": "100000000"}


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def peers(a):
    """(name, argv, environment) of every peer in the order they run."""
    base = dict(os.environ)
    py = a.python
    sweep = bool(a.batch)
    steps = ["--steps", str(a.steps)] if a.steps else []
    if sweep:
        g = [a.gputrain, "bench", "--device", "cpu", "--data", "random", "--batch", a.batch, "--json"]
    else:
        g = [a.gputrain, "bench", "--preset", "seed", "--device", "cpu", "--json"] + steps
    out = [("gputrain", g, base)]
    if a.one_core:
        out.append(("gputrain-1core", g, dict(base, GOMAXPROCS="1")))
    if not sweep:
        # numpy_mlp.py reads --steps 50 (its default) as "the preset's 10001".
        nsteps = ["--steps", str(a.steps)] if a.steps and a.steps != 50 else []
        numpy = [py, os.path.join(HERE, "numpy_mlp.py"), "--preset", "seed"] + nsteps
        out.append(("numpy", numpy, base))
        tuned = {k: v for k, v in base.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        tuned.update(TUNED)
        out.append(("numpy-tuned", numpy, tuned))
    torch = [py, os.path.join(HERE, "torch_mlp.py"), "--device", "cpu", "--no-compile", "--no-matmul"]
    if sweep:
        torch += ["--batch", a.batch, "--steps", str(a.sweep_steps), "--seed-steps", "0"]
    else:
        torch += ["--batch", "", "--seed-steps", str(a.steps or 10001)]
    if a.torch_threads:
        torch += ["--threads", str(a.torch_threads)]
    out.append(("torch-f32", torch + ["--dtype", "float32"], base))
    out.append(("torch-f64", torch + ["--dtype", "float64"], base))
    out.append(("torch-f64-blas1", torch + ["--dtype", "float64"], dict(base, OPENBLAS_NUM_THREADS="1")))
    skip = {s.strip() for s in a.skip.split(",") if s.strip()}
    return [p for p in out if p[0] not in skip]


def run_sweep(name, argv, env):
    """Runs one peer of the sweep: ({batch: median step s}, load before)."""
    load = loadavg()
    p = subprocess.run(argv, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{name} failed ({p.returncode}): {' '.join(argv)}\n{p.stderr[-2000:]}")
    j = json.loads(p.stdout.strip().splitlines()[-1])
    return {r["batch"]: r["step_seconds_median"] for r in j["results"]}, load


def sweep_main(a, ps):
    got = {name: [] for name, _, _ in ps}
    for r in range(a.repeat):
        for name, argv, env in ps:
            res, load = run_sweep(name, argv, env)
            got[name].append((res, load))
            print(f"run {r + 1} {name:15s} load {load:5.2f}  " +
                  "  ".join(f"{b}: {v * 1e3:.3f} ms" for b, v in sorted(res.items())), flush=True)
    batches = sorted(got[ps[0][0]][0][0])
    ref = {b: [x[0][b] for x in got[ps[0][0]]] for b in batches}
    print(f"\nmedian step time, ms, min / median over the repetitions; ÷ gputrain: the peer's time over gputrain's "
          f"(> 1: gputrain faster), by the minima and by the medians")
    print(f"{'peer':16s} {'loads':>12s} " + " ".join(f"{'batch ' + str(b):>22s} {'÷ gputrain':>12s}" for b in batches))
    for name, _, _ in ps:
        v = got[name]
        loads = [x[1] for x in v]
        cells = []
        for b in batches:
            t = [x[0][b] for x in v]
            cells.append(f"{min(t) * 1e3:9.3f} / {statistics.median(t) * 1e3:8.3f} "
                         f"{min(t) / min(ref[b]):5.2f} / {statistics.median(t) / statistics.median(ref[b]):4.2f}")
        print(f"{name:16s} {min(loads):5.2f}–{max(loads):5.2f} " + " ".join(cells))


def run(name, argv, env):
    """Runs one peer: (process wall s, own wall s, CPU s, final loss, steps, load before)."""
    load = loadavg()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"{name} failed ({p.returncode}): {' '.join(argv)}\n{p.stderr[-2000:]}")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    j = json.loads(p.stdout.strip().splitlines()[-1])
    if name.startswith("gputrain"):
        res = j["results"][0]
        own, loss, steps = res["wall_seconds"], res["final_loss"], res["steps_per_rep"]
    elif name.startswith("numpy"):
        own, loss, steps = j["wall_seconds"], j["final_loss"], j["steps"]
    else:
        s = j["seed"][0]
        own, loss, steps = s["wall_seconds"], s["final_loss"], s["steps"]
    return wall, own, cpu, loss, steps, load


def mm(v, fmt="{:.2f}"):
    return (fmt + " / " + fmt).format(min(v), statistics.median(v))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gputrain", default="gputrain", help="the gputrain binary")
    p.add_argument("--python", default=sys.executable, help="the Python that runs the numpy and torch peers")
    p.add_argument("--repeat", type=int, default=3, help="repetitions of every run")
    p.add_argument("--steps", type=int, default=0, help="steps of every peer's run (0: the preset's 10001)")
    p.add_argument("--one-core", action="store_true", help="also run gputrain with GOMAXPROCS=1")
    p.add_argument("--torch-threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    p.add_argument("--skip", default="", help="comma-separated peers to leave out (numpy, torch-f64, ...)")
    p.add_argument("--batch", default="", help="the batch sweep's workload at these batch sizes instead of the seed preset")
    p.add_argument("--sweep-steps", type=int, default=50, help="torch_mlp.py --steps with --batch")
    a = p.parse_args()

    ps = peers(a)
    if a.batch:
        print(f"784-128-64-10 sigmoid softmax-ce SGD on random pixels, batch {a.batch}, {a.repeat} repetitions, "
              f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, {os.cpu_count()} CPUs")
        for name, argv, env in ps:
            shown = " ".join(f"{k}={env[k]}" for k in SHOWN if k in env) or "(none of the variables set)"
            print(f"  {name:15s} {shown}\n  {'':15s} $ {' '.join(repr(x) if x == '' else x for x in argv)}")
        sweep_main(a, ps)
        return
    print(f"seed workload, {a.steps or 10001} steps a run{' (reduced from 10001 by --steps)' if a.steps else ''}, "
          f"{a.repeat} repetitions, {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, {os.cpu_count()} CPUs")
    for name, argv, env in ps:
        shown = " ".join(f"{k}={env[k]}" for k in SHOWN if k in env) or "(none of the variables set)"
        print(f"  {name:15s} {shown}\n  {'':15s} $ {' '.join(repr(x) if x == '' else x for x in argv)}")
    got = {name: [] for name, _, _ in ps}
    for r in range(a.repeat):
        for name, argv, env in ps:
            res = run(name, argv, env)
            got[name].append(res)
            print(f"run {r + 1} {name:15s} load {res[5]:5.2f}  wall {res[0]:7.2f} s  own {res[1]:7.2f} s  "
                  f"CPU {res[2]:7.2f} s  steps {res[4]}  loss {res[3]:.10f}", flush=True)

    ref = statistics.median(x[1] for x in got[ps[0][0]])
    ref_min = min(x[1] for x in got[ps[0][0]])
    print(f"\n{'peer':15s} {'process wall s':>17s} {'own wall s':>17s} {'CPU s':>17s} {'loads':>13s} "
          f"{'÷ gputrain (min / med)':>23s}  final loss")
    for name, _, _ in ps:
        v = got[name]
        own = [x[1] for x in v]
        loads = [x[5] for x in v]
        print(f"{name:15s} {mm([x[0] for x in v]):>17s} {mm(own):>17s} {mm([x[2] for x in v]):>17s} "
              f"{min(loads):5.2f}–{max(loads):5.2f}  {min(own) / ref_min:9.2f} / {statistics.median(own) / ref:5.2f}"
              f"   {v[0][3]:.10f}")
    print("\nmin / median over the repetitions; own wall: each program's time after its start-up (imports excluded); "
          "÷ gputrain: the peer's own wall time over gputrain's (> 1: gputrain faster).")


if __name__ == "__main__":
    main()
