#!/usr/bin/env python3
"""The CPU backend's batch sweep with one core and with all, alternately.

Runs `gputrain bench --device cpu --batch LIST --json` (784-128-64-10 sigmoid,
softmax cross-entropy, SGD; extra flags after --) with GOMAXPROCS=1 and
without (all cores), alternating, --repeat times each, and prints for every
batch the step's median from each run (min / median over the repetitions) and the
ratio all cores ÷ one core by the minima and by the medians (< 1: the cores
pay; > 1: slower with them), with the load average (/proc/loadavg) before
each run.

  go build -o /tmp/gputrain ./cmd/gputrain
  /usr/bin/python3 bench/cores.py --gputrain /tmp/gputrain                        # batches 1 … 8192, 3 repetitions
  /usr/bin/python3 bench/cores.py --gputrain /tmp/gputrain --batch 64,1024 -- --data random
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def fmt_s(s):
    return f"{s * 1e6:.0f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gputrain", default="gputrain", help="the gputrain binary")
    p.add_argument("--batch", default="1,8,32,128,512,2048,8192")
    p.add_argument("--repeat", type=int, default=3, help="repetitions of every run")
    p.add_argument("--procs", default="1,0", help="GOMAXPROCS values to alternate (0: as inherited, all cores)")
    p.add_argument("extra", nargs="*", help="more flags for gputrain bench (after --)")
    a = p.parse_args()
    procs = [int(x) for x in a.procs.split(",")]
    argv = [a.gputrain, "bench", "--device", "cpu", "--batch", a.batch, "--json"] + a.extra
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, {os.cpu_count()} CPUs, {a.repeat} repetitions\n"
          f"$ {' '.join(argv)}   with GOMAXPROCS = {', '.join(str(x) if x else 'unset' for x in procs)}, alternately")
    steps = {pr: {} for pr in procs}  # procs -> batch -> [median step s]
    loads = {pr: [] for pr in procs}
    for r in range(a.repeat):
        for pr in procs:
            env = dict(os.environ)
            env.pop("GOMAXPROCS", None)
            if pr:
                env["GOMAXPROCS"] = str(pr)
            load = loadavg()
            loads[pr].append(load)
            out = subprocess.run(argv, env=env, capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"gputrain bench failed: {out.stderr[-2000:]}")
            for res in json.loads(out.stdout)["results"]:
                steps[pr].setdefault(res["batch"], []).append(res["step_seconds_median"])
            print(f"run {r + 1} GOMAXPROCS={pr or 'unset':5} load {load:.2f}", flush=True)
    one, many = procs[0], procs[-1]
    name = lambda pr: f"GOMAXPROCS={pr}" if pr else "all cores"
    print(f"\n{'batch':>6s} {name(one) + ' min / median':>28s} {name(many) + ' min / median':>28s} "
          f"{'ratio min':>10s} {'ratio median':>13s}")
    worst = 0
    for b in sorted(steps[one]):
        x, y = steps[one][b], steps[many][b]
        rmin, rmed = min(y) / min(x), statistics.median(y) / statistics.median(x)
        worst = max(worst, min(rmin, rmed))
        print(f"{b:>6d} {fmt_s(min(x)) + ' / ' + fmt_s(statistics.median(x)):>28s} "
              f"{fmt_s(min(y)) + ' / ' + fmt_s(statistics.median(y)):>28s} {rmin:>10.2f} {rmed:>13.2f}")
    for pr in procs:
        print(f"loads before the {name(pr)} runs: {', '.join(f'{l:.2f}' for l in loads[pr])}")
    print(f"ratio = {name(many)} ÷ {name(one)} (< 1: faster with more cores); "
          f"worst batch, the better of its two ratios: {worst:.2f}")


if __name__ == "__main__":
    main()
