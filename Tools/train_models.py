#!/usr/bin/env python3
"""Trains and exports the four model kinds TickBus evaluates, from an offline feature table.

    tickbus features --source lobster:M.csv,O.csv --features F.toml --out table.csv
    python3 Tools/train_models.py table.csv OUT_DIR [--horizon 50] [--mid mid]

The label is the sign of the mid-price change `horizon` rows ahead (same instrument): 1 when the mid
rises, else 0 (rows whose future mid is unknown are dropped). Features are the table's columns
after `sequence,exchange_time,instrument`, in order, so the exported models take them exactly as
`tickbus strategy` computes them. Writes:

    OUT_DIR/lightgbm.txt   LightGBM binary (text model)
    OUT_DIR/xgboost.json   XGBoost binary:logistic (save_model JSON)
    OUT_DIR/linear.json    least-squares linear model on the 0/1 label (link identity)
    OUT_DIR/mlp.onnx       a 1-hidden-layer MLP (Gemm, Relu, Gemm, Sigmoid) trained with numpy

Pinned: numpy 2.4.6, lightgbm 4.7.0, xgboost 3.2.0, onnx 1.23.2 (Tools/setup).
"""
import argparse
import json
import os

import numpy as np


def load(path, mid_name, horizon):
    with open(path) as f:
        header = f.readline().strip().split(",")
    data = np.genfromtxt(path, delimiter=",", skip_header=1, missing_values=["nan", ""], filling_values=np.nan)
    data = np.atleast_2d(data)
    names = header[3:]
    X = data[:, 3:]
    inst = data[:, 2]
    if mid_name not in names:
        raise SystemExit(f"the table has no '{mid_name}' column to build the label from (use --mid)")
    mid = X[:, names.index(mid_name)]
    y = np.full(len(X), np.nan)
    for i in np.unique(inst):
        idx = np.nonzero(inst == i)[0]
        future = np.full(len(idx), np.nan)
        future[:-horizon] = mid[idx[horizon:]]
        y[idx] = np.where(np.isnan(future) | np.isnan(mid[idx]), np.nan, (future > mid[idx]).astype(float))
    keep = ~np.isnan(y)
    return names, X[keep], y[keep]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("table")
    ap.add_argument("out")
    ap.add_argument("--horizon", type=int, default=50)
    ap.add_argument("--mid", default="mid")
    ap.add_argument("--trees", type=int, default=100)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    names, X, y = load(a.table, a.mid, a.horizon)
    print(f"{len(X)} rows, {len(names)} features, positive rate {y.mean():.3f}")

    import lightgbm as lgb
    m = lgb.train({"objective": "binary", "num_leaves": 31, "learning_rate": 0.05, "verbose": -1, "seed": 1},
                  lgb.Dataset(X, y, feature_name=names), num_boost_round=a.trees)
    m.save_model(os.path.join(a.out, "lightgbm.txt"))

    import xgboost as xgb
    b = xgb.train({"objective": "binary:logistic", "max_depth": 5, "eta": 0.1, "seed": 1, "nthread": 1},
                  xgb.DMatrix(X, label=y, feature_names=names, missing=np.nan), num_boost_round=a.trees)
    b.save_model(os.path.join(a.out, "xgboost.json"))

    # Linear: missing values contribute nothing (the evaluator skips NaN), so fit with NaN -> 0.
    Z = np.nan_to_num(X)
    mu, sd = Z.mean(axis=0), Z.std(axis=0) + 1e-12
    A = np.hstack([(Z - mu) / sd, np.ones((len(Z), 1))])
    w, *_ = np.linalg.lstsq(A, y, rcond=None)
    coef = w[:-1] / sd
    intercept = float(w[-1] - (mu / sd) @ w[:-1])
    with open(os.path.join(a.out, "linear.json"), "w") as f:
        json.dump({"type": "linear", "feature_names": names, "coefficients": [float(c) for c in coef], "intercept": intercept}, f, indent=1)

    # MLP: standardisation folded into the first layer; trained by full-batch gradient descent.
    rng = np.random.default_rng(1)
    H = 16
    Zs = ((Z - mu) / sd).astype(np.float64)
    W1 = rng.normal(size=(len(names), H)) * 0.1; b1 = np.zeros(H)
    W2 = rng.normal(size=(H, 1)) * 0.1; b2 = np.zeros(1)
    for _ in range(300):
        h = np.maximum(Zs @ W1 + b1, 0)
        p = 1 / (1 + np.exp(-(h @ W2 + b2)))[:, 0]
        g = (p - y)[:, None] / len(y)
        gW2 = h.T @ g; gb2 = g.sum(0)
        gh = g @ W2.T * (h > 0)
        gW1 = Zs.T @ gh; gb1 = gh.sum(0)
        for P, G in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
            P -= 0.5 * G
    W1f = W1 / sd[:, None]
    b1f = b1 - (mu / sd) @ W1
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    t = lambda n, v: numpy_helper.from_array(np.asarray(v, dtype=np.float32), n)
    g = helper.make_graph(
        [helper.make_node("Gemm", ["input", "W1", "b1"], ["h1"], transB=1), helper.make_node("Relu", ["h1"], ["a1"]),
         helper.make_node("Gemm", ["a1", "W2", "b2"], ["h2"], transB=1), helper.make_node("Sigmoid", ["h2"], ["output"])],
        "tickbus_mlp", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", len(names)])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 1])],
        [t("W1", W1f.T), t("b1", b1f), t("W2", W2.T), t("b2", b2)])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="tickbus-train", ir_version=9)
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(a.out, "mlp.onnx"))
    print("wrote", ", ".join(os.path.join(a.out, n) for n in ["lightgbm.txt", "xgboost.json", "linear.json", "mlp.onnx"]))


if __name__ == "__main__":
    main()
