#!/usr/bin/env python3
"""Write a model's example rows for `tickbus registry add --examples X.csv`.

Quants call `export_examples(path, X, predictions, feature_names)` after training, with the
library's own `predict` output on the rows X (as MLflow stores an input example). The registry's
prediction gate re-evaluates the rows with TickBus's evaluator and compares (Docs/REGISTRY.md).

Format: a header of the input names, then `prediction` (one output) or `prediction_0`, ...;
numbers as %.17g (round-trips a double); NaN as `nan`.

From the command line, merge an input CSV (with header) and a predictions CSV (no header):
    python3 Tools/export_examples.py --inputs X.csv --predictions P.csv --out examples.csv
Standard library only.
"""
import argparse
import math


def _fmt(v):
    v = float(v)
    return "nan" if math.isnan(v) else "%.17g" % v


def export_examples(path, rows, predictions, feature_names):
    """rows: sequence of input rows; predictions: one value or one sequence of values per row."""
    rows = [list(r) for r in rows]
    preds = [list(p) if hasattr(p, "__len__") else [p] for p in predictions]
    if len(rows) != len(preds) or not rows:
        raise ValueError(f"{len(rows)} rows but {len(preds)} predictions")
    k = len(preds[0])
    names = list(feature_names)
    if any(len(r) != len(names) for r in rows) or any(len(p) != k for p in preds):
        raise ValueError("every row needs one value per feature name and the same number of outputs")
    outs = ["prediction"] if k == 1 else [f"prediction_{i}" for i in range(k)]
    with open(path, "w") as f:
        f.write(",".join(names + outs) + "\n")
        for r, p in zip(rows, preds):
            f.write(",".join(_fmt(v) for v in list(r) + p) + "\n")


def _read(path, header):
    with open(path) as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    head = lines.pop(0).split(",") if header else None
    parse = lambda s: float("nan") if s in ("", "nan") else float(s)
    return head, [[parse(x) for x in l.split(",")] for l in lines]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--predictions", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    names, rows = _read(a.inputs, header=True)
    _, preds = _read(a.predictions, header=False)
    export_examples(a.out, rows, preds, names)
