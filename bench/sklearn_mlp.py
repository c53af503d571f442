#!/usr/bin/env python3
"""scikit-learn peer of `gputrain train --csv`: the same table, the same split.

Reads the CSV file as gputrain does (header row, cells trimmed; missing cells
are empty, NA, N/A, NaN, null or ?, any case; a column is numeric when every
present cell parses as a number), applies the same NA policy and the same
task rule (auto: a text target, or at most 10 distinct integers, is
classified), and holds out the same rows: data.HeldOut's seeded splitmix64
Fisher-Yates shuffle, stratified by class for classification. Then it does
what a scikit-learn user would: a ColumnTransformer (mean imputation +
StandardScaler for numbers, a category of its own for missing text +
OneHotEncoder(handle_unknown="ignore"); a column that holds one value in
every training row left out, as gputrain leaves it) and MLPClassifier or MLPRegressor,
the latter on a standardised target (TransformedTargetRegressor) as gputrain
standardises it. Prints one JSON object with the held-out metrics.

  /usr/bin/python3 bench/sklearn_mlp.py --csv ../shared/data/housing/train.csv --target SalePrice --drop Id --na fill
  /usr/bin/python3 bench/sklearn_mlp.py --csv ../shared/data/tabular/breast_cancer.csv --target diagnosis
  /usr/bin/python3 bench/sklearn_mlp.py ... --print-split    # the split only (no sklearn needed)

Debian's /usr/bin/python3 has scikit-learn (apt-get install python3-sklearn).
"""
import argparse
import csv
import json
import math
import sys
import time

from splitmix import RNG  # bench/splitmix.py: splitmix64 as gputrain's data package

NA = {"", "na", "n/a", "nan", "null", "?"}
MAX_AUTO_CLASSES = 10


def is_na(cell):
    return cell.lower() in NA


def parses(cell):
    try:
        float(cell)
        return True
    except ValueError:
        return False


def held_out(n, strata, groups, frac, seed):
    """data.HeldOut: training and test positions, each sorted."""
    if strata is None:
        gs = [list(range(n))]
    else:
        gs = [[] for _ in range(groups)]
        for i, s in enumerate(strata):
            gs[s].append(i)
    r = RNG(seed)
    train, test = [], []
    for g in gs:
        for i in range(len(g) - 1, 0, -1):
            j = r.u64() % (i + 1)
            g[i], g[j] = g[j], g[i]
        nt = int(math.floor(frac * len(g) + 0.5))
        if strata is not None:
            nt = min(nt, len(g) - 1)
        nt = max(min(nt, len(g)), 0)
        test += g[:nt]
        train += g[nt:]
    return sorted(train), sorted(test)


def number_key(v):
    """data.numberKey: a numeric class written shortest."""
    return repr(float(v)).removesuffix(".0")


def load(a):
    """Reads the table and returns (header, kept rows, lines, feature cols, target col, kinds, task, keys)."""
    with open(a.csv, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header = [h.strip() for h in rows[0]]
    body = [[c.strip() for c in r] for r in rows[1:]]
    ti = header.index(a.target)
    drop = set(x.strip() for x in a.drop.split(",") if x.strip())
    if a.features:
        feats = [header.index(x.strip()) for x in a.features.split(",") if x.strip() not in drop]
    else:
        feats = [j for j, h in enumerate(header) if j != ti and h not in drop
                 and not (h == "" and all(r[j] == "" for r in body))]
    kinds = {}
    for j in feats + [ti]:
        kinds[j] = "number" if all(parses(r[j]) for r in body if not is_na(r[j])) else "text"
    used = sorted(feats + [ti])
    keep = []
    for i, r in enumerate(body):
        ok = True
        for j in used:
            if is_na(r[j]):
                if a.na == "error":
                    sys.exit(f"{a.csv}: row {i + 1}, column {header[j]!r} is missing (NA)")
                if a.na == "drop" or j == ti:
                    ok = False
                    break
        if ok:
            keep.append(i)
    task = a.task
    if task == "auto":
        if kinds[ti] == "text":
            task = "classify"
        else:
            vals = {float(body[i][ti]) for i in keep}
            task = "classify" if all(v == int(v) for v in vals) and len(vals) <= MAX_AUTO_CLASSES else "regress"
    keys = None
    if task == "classify":
        keys = [body[i][ti] if kinds[ti] == "text" else number_key(body[i][ti]) for i in keep]
    return header, body, keep, feats, ti, kinds, task, keys


def split(a, keep, task, keys, kinds, ti):
    strata, groups = None, 0
    if task == "classify":
        if kinds[ti] == "text":
            classes = sorted(set(keys))
        else:
            classes = sorted(set(keys), key=float)
        pos = {c: k for k, c in enumerate(classes)}
        strata, groups = [pos[k] for k in keys], len(classes)
    tr, te = held_out(len(keep), strata, groups, a.test_fraction, a.split_seed)
    return [keep[p] for p in tr], [keep[p] for p in te]


def drop_constant(a, header, body, feats, kinds, tr):
    """Leaves out, as gputrain does, the columns that hold one value in every
    training row (a missing number filled with the mean is that value; a
    missing text cell under --na fill is a category of its own); an error
    when --features names one."""
    out = []
    for j in feats:
        vals, missing = set(), False
        for i in tr:
            c = body[i][j]
            if is_na(c):
                missing = True
                continue
            vals.add(float(c) if kinds[j] == "number" else c)
        constant = len(vals) == 1 and (kinds[j] == "number" or not (missing and a.na == "fill"))
        if not constant:
            out.append(j)
        elif a.features:
            sys.exit(f"{a.csv}: column {header[j]!r} holds one value in every training row; leave it out of --features")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--csv", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--features", default="")
    p.add_argument("--drop", default="")
    p.add_argument("--na", default="error", choices=["error", "drop", "fill"])
    p.add_argument("--task", default="auto", choices=["auto", "classify", "regress"])
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--split-seed", type=int, default=1)
    p.add_argument("--print-split", action="store_true", help="print the training and test row numbers (from 1) and exit")
    p.add_argument("--hidden", default="100", help="hidden layer widths (scikit-learn's default: 100)")
    p.add_argument("--activation", default="relu")
    p.add_argument("--batch", default="auto", help="minibatch size (scikit-learn's default: min(200, rows))")
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--max-iter", type=int, default=200, help="epochs at most (scikit-learn's default; it also stops when the training loss stalls)")
    p.add_argument("--alpha", type=float, default=1e-4, help="L2 penalty (scikit-learn's default)")
    p.add_argument("--seed", type=int, default=1, help="random_state of the MLP")
    a = p.parse_args()

    header, body, keep, feats, ti, kinds, task, keys = load(a)
    tr, te = split(a, keep, task, keys, kinds, ti)
    if a.print_split:
        print(json.dumps({"task": task, "train": [i + 1 for i in tr], "test": [i + 1 for i in te]}))
        return

    import warnings

    import numpy as np
    import sklearn
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.impute import SimpleImputer
    from sklearn.metrics import accuracy_score, log_loss, mean_absolute_error, mean_squared_error, r2_score
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    feats = drop_constant(a, header, body, feats, kinds, tr)
    num = [j for j in feats if kinds[j] == "number"]
    txt = [j for j in feats if kinds[j] == "text"]

    def matrix(rows):
        xn = np.array([[np.nan if is_na(body[i][j]) else float(body[i][j]) for j in num] for i in rows], dtype=float).reshape(len(rows), len(num))
        xt = np.array([["(missing)" if is_na(body[i][j]) else body[i][j] for j in txt] for i in rows], dtype=object).reshape(len(rows), len(txt))
        return np.concatenate([xn.astype(object), xt], axis=1)

    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), list(range(len(num)))),
        ("txt", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(range(len(num), len(num) + len(txt)))),
    ])
    hidden = tuple(int(h) for h in a.hidden.split(","))
    batch = a.batch if a.batch == "auto" else int(a.batch)
    kw = dict(hidden_layer_sizes=hidden, activation=a.activation, solver="adam", learning_rate_init=a.lr,
              batch_size=batch, max_iter=a.max_iter, alpha=a.alpha, random_state=a.seed)
    xtr, xte = matrix(tr), matrix(te)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if task == "classify":
            ytr = [keys[keep.index(i)] for i in tr]
            yte = [keys[keep.index(i)] for i in te]
            model = make_pipeline(pre, MLPClassifier(**kw)).fit(xtr, ytr)
            secs = time.perf_counter() - t0
            pr = model.predict_proba(xte)
            res = {"test_accuracy": accuracy_score(yte, model.predict(xte)),
                   "test_loss": log_loss(yte, pr, labels=list(model.classes_)),
                   "epochs": int(model[-1].n_iter_)}
        else:
            ytr = np.array([float(body[i][ti]) for i in tr])
            yte = np.array([float(body[i][ti]) for i in te])
            reg = TransformedTargetRegressor(regressor=MLPRegressor(**kw), transformer=StandardScaler())
            model = make_pipeline(pre, reg).fit(xtr, ytr)
            secs = time.perf_counter() - t0
            pr = model.predict(xte)
            res = {"test_rmse": math.sqrt(mean_squared_error(yte, pr)), "test_mae": mean_absolute_error(yte, pr),
                   "test_r2": r2_score(yte, pr), "epochs": int(model[-1].regressor_.n_iter_)}
    res.update({"task": task, "train_rows": len(tr), "test_rows": len(te), "inputs": int(xtr.shape[1] and pre.transform(xtr[:1]).shape[1]),
                "hidden": list(hidden), "seed": a.seed, "seconds": secs, "sklearn": sklearn.__version__})
    print(json.dumps(res))


if __name__ == "__main__":
    main()
