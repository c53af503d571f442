#!/usr/bin/env python3
"""gputrain against scikit-learn on three tables, side by side, on the same rows.

For each table and each seed it runs `gputrain train --csv ... --json` on its
default flags and bench/sklearn_mlp.py (MLPClassifier or MLPRegressor on
scikit-learn's defaults), both holding out the same 20 % of the rows
(--split-seed 1: sklearn_mlp.py reproduces gputrain's split row for row), and
prints a table of held-out figures, mean (min-max) over the seeds, with the
ratio of gputrain's to scikit-learn's:

  breast cancer  the data folder's tabular/breast_cancer.csv, target diagnosis
  wine           scikit-learn's bundled load_wine, written to a temporary CSV
                 (13 numbers, target class 0/1/2)
  Ames           the data folder's housing/train.csv, target SalePrice
                 (--drop Id --na fill)

  go build -o /tmp/gputrain ./cmd/gputrain
  /usr/bin/python3 bench/tables.py --gputrain /tmp/gputrain              # seeds 1-5, CPU backend
  /usr/bin/python3 bench/tables.py --gputrain /tmp/gputrain --seeds 1 --json
  /usr/bin/python3 bench/tables.py --gputrain /tmp/gputrain --extra="--epochs 30"   # other gputrain flags

The data folder is $GPUTRAIN_SHARED_DATA, else shared/data beside the
repository (as the Go tests look for it), else --data. A table whose file is
absent is skipped with a note. Targets: accuracy >= scikit-learn's, log loss
<= 1.2x scikit-learn's, R^2 >= scikit-learn's (on the means).
"""
import argparse
import csv
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def data_dir(flag):
    if flag:
        return flag
    if os.environ.get("GPUTRAIN_SHARED_DATA"):
        return os.environ["GPUTRAIN_SHARED_DATA"]
    return os.path.join(os.path.dirname(ROOT), "shared", "data")


def write_wine(path):
    from sklearn.datasets import load_wine

    d = load_wine()
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(d.feature_names) + ["class"])
        for x, y in zip(d.data, d.target):
            w.writerow([repr(float(v)) for v in x] + [int(y)])


def run_json(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return json.loads(p.stdout)


def summary(xs):
    return {"mean": statistics.fmean(xs), "min": min(xs), "max": max(xs), "values": xs}


def fmt(s, digits):
    if len(s["values"]) == 1:
        return f"{s['mean']:.{digits}f}"
    return f"{s['mean']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gputrain", default="gputrain", help="the gputrain binary")
    p.add_argument("--device", default="cpu", help="gputrain's --device")
    p.add_argument("--data", default="", help="the data folder (default: $GPUTRAIN_SHARED_DATA or shared/data beside the repository)")
    p.add_argument("--seeds", default="1,2,3,4,5", help="model seeds (gputrain --seed, scikit-learn random_state)")
    p.add_argument("--split-seed", type=int, default=1)
    p.add_argument("--tables", default="breast-cancer,wine,ames")
    p.add_argument("--extra", default="", help="more gputrain train flags (default: none, gputrain's defaults)")
    p.add_argument("--sklearn-extra", default="", help="more bench/sklearn_mlp.py flags (default: none, scikit-learn's defaults)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    a = p.parse_args()

    seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
    dd = data_dir(a.data)
    tmp = tempfile.mkdtemp(prefix="gputrain-tables-")
    tables = {
        "breast-cancer": ("breast cancer", os.path.join(dd, "tabular", "breast_cancer.csv"), ["--target", "diagnosis"]),
        "wine": ("wine", os.path.join(tmp, "wine.csv"), ["--target", "class"]),
        "ames": ("Ames", os.path.join(dd, "housing", "train.csv"), ["--target", "SalePrice", "--drop", "Id", "--na", "fill"]),
    }
    out = {"device": a.device, "seeds": seeds, "split_seed": a.split_seed, "extra": a.extra,
           "sklearn_extra": a.sklearn_extra, "tables": []}
    rows = []
    for key in [t.strip() for t in a.tables.split(",") if t.strip()]:
        name, path, args = tables[key]
        if key == "wine":
            write_wine(path)
        if not os.path.exists(path):
            print(f"{name}: {path} is absent, skipped", file=sys.stderr)
            continue
        split = ["--split-seed", str(a.split_seed)]
        g, s = [], []
        for seed in seeds:
            g.append(run_json([a.gputrain, "train", "--device", a.device, "--csv", path, *args, *split,
                               "--seed", str(seed), "--json", *shlex.split(a.extra)]))
            s.append(run_json([sys.executable, os.path.join(HERE, "sklearn_mlp.py"), "--csv", path, *args, *split,
                               "--seed", str(seed), *shlex.split(a.sklearn_extra)]))
        t = {"table": name, "task": s[0]["task"], "train_rows": s[0]["train_rows"], "test_rows": s[0]["test_rows"],
             "gputrain_model": g[0]["model"], "gputrain_epochs": g[0]["epochs"],
             "sklearn_epochs": [r["epochs"] for r in s], "sklearn": s[0]["sklearn"]}
        if t["task"] == "classify":
            metrics = [("accuracy", "test_accuracy", "test_accuracy", 4, "≥ 1"), ("log loss", "test_loss", "test_loss", 4, "≤ 1.2")]
        else:
            metrics = [("R²", "test_r2", "test_r2", 4, "≥ 1"), ("RMSE", "test_rmse", "test_rmse", 0, "")]
        for label, gk, sk, digits, target in metrics:
            gs, ss = summary([r[gk] for r in g]), summary([r[sk] for r in s])
            ratio = gs["mean"] / ss["mean"]
            met = "" if not target else ("yes" if (ratio >= 1 if target.startswith("≥") else ratio <= 1.2) else "no")
            t[label] = {"gputrain": gs, "sklearn": ss, "ratio": ratio, "target": target, "met": met}
            rows.append((name, label, fmt(gs, digits), fmt(ss, digits), f"{ratio:.3f}", target, met))
        out["tables"].append(t)
    if a.json:
        print(json.dumps(out))
        return
    head = ("table", "metric", "gputrain", "scikit-learn", "ratio", "target", "met")
    print(f"# held-out figures, mean (min–max) over seeds {a.seeds}, split seed {a.split_seed}, device {a.device}")
    if a.extra or a.sklearn_extra:
        print(f"# gputrain flags: {a.extra or '(defaults)'}; sklearn_mlp.py flags: {a.sklearn_extra or '(defaults)'}")
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
