#!/usr/bin/env python3
"""Regenerates the model fixtures in Tests/ModelsTests/Fixtures with pinned library versions.

For each model: the model file, an input CSV (header of feature names; empty field = missing) and
the library's own predictions (`<name>.pred.csv`, default predict; `<name>.raw.csv`, raw scores),
one row per input row, numbers printed with 17 significant digits.

    python3 Tools/make_model_fixtures.py [OUT_DIR]

Pinned: lightgbm 4.7.0, xgboost 3.2.0, onnx 1.23.2, onnxruntime 1.31.1, numpy 2.4.6 (Tools/setup).
"""
import os
import sys

import numpy as np
import lightgbm as lgb
import xgboost as xgb
import onnx
from onnx import TensorProto, helper, numpy_helper

PINNED = {"lightgbm": "4.7.0", "xgboost": "3.2.0", "onnx": "1.23.2"}
for mod, want in [(lgb, PINNED["lightgbm"]), (xgb, PINNED["xgboost"]), (onnx, PINNED["onnx"])]:
    if mod.__version__ != want:
        sys.exit(f"{mod.__name__} {mod.__version__} installed, fixtures are pinned to {want} (run Tools/setup)")

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Tests", "ModelsTests", "Fixtures")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20261125)


def fmt(v):
    return "%.17g" % v


def write_csv(path, names, X):
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in X:
            f.write(",".join("" if np.isnan(v) else fmt(v) for v in row) + "\n")


def write_pred(path, P):
    P = np.asarray(P, dtype=np.float64)
    if P.ndim == 1:
        P = P[:, None]
    with open(path, "w") as f:
        for row in P:
            f.write(",".join(fmt(v) for v in row) + "\n")


def features(n, f, nan_frac=0.1, zero_frac=0.1, cat_col=None, ncat=12):
    X = rng.normal(size=(n, f))
    X[rng.random((n, f)) < zero_frac] = 0.0
    X[rng.random((n, f)) < nan_frac] = np.nan
    if cat_col is not None:
        X[:, cat_col] = rng.integers(0, ncat, size=n).astype(float)
        X[rng.random(n) < 0.05, cat_col] = np.nan
    return X


def target(X):
    Z = np.nan_to_num(X)
    return Z[:, 0] * 1.5 - Z[:, 1] ** 2 + np.sin(Z[:, 2] * 3) + 0.3 * rng.normal(size=len(X))


names6 = [f"f{i}" for i in range(6)]
n_train, n_test = 3000, 200

# LightGBM binary: NaN missing, a categorical feature (f5).
X = features(n_train, 6, cat_col=5)
y = (target(X) + (np.nan_to_num(X[:, 5]) % 3 == 1) > 0.2).astype(int)
Xt = features(n_test, 6, cat_col=5)
Xt[:3, 5] = [15, -1, 40]  # unseen categories and a negative one
m = lgb.train({"objective": "binary", "num_leaves": 15, "learning_rate": 0.1, "verbose": -1, "min_data_per_group": 10,
               "cat_smooth": 1, "max_cat_to_onehot": 4, "seed": 1},
              lgb.Dataset(X, y, feature_name=names6, categorical_feature=[5]), num_boost_round=40)
m.save_model(os.path.join(OUT, "lgb_binary.txt"))
write_csv(os.path.join(OUT, "lgb_binary.input.csv"), names6, Xt)
write_pred(os.path.join(OUT, "lgb_binary.pred.csv"), m.predict(Xt))
write_pred(os.path.join(OUT, "lgb_binary.raw.csv"), m.predict(Xt, raw_score=True))

# LightGBM regression with zero as missing.
X = features(n_train, 6)
y = target(X)
Xt = features(n_test, 6)
m = lgb.train({"objective": "regression", "num_leaves": 31, "learning_rate": 0.05, "verbose": -1, "zero_as_missing": True,
               "seed": 2}, lgb.Dataset(X, y, feature_name=names6), num_boost_round=60)
m.save_model(os.path.join(OUT, "lgb_regression.txt"))
write_csv(os.path.join(OUT, "lgb_regression.input.csv"), names6, Xt)
write_pred(os.path.join(OUT, "lgb_regression.pred.csv"), m.predict(Xt))
write_pred(os.path.join(OUT, "lgb_regression.raw.csv"), m.predict(Xt, raw_score=True))

# LightGBM multiclass (3 classes) with NaN; and a random forest (average_output).
X = features(n_train, 6)
t = target(X)
y = np.digitize(t, [-0.5, 0.7])
Xt = features(n_test, 6)
m = lgb.train({"objective": "multiclass", "num_class": 3, "num_leaves": 15, "learning_rate": 0.1, "verbose": -1, "seed": 3},
              lgb.Dataset(X, y, feature_name=names6), num_boost_round=25)
m.save_model(os.path.join(OUT, "lgb_multiclass.txt"))
write_csv(os.path.join(OUT, "lgb_multiclass.input.csv"), names6, Xt)
write_pred(os.path.join(OUT, "lgb_multiclass.pred.csv"), m.predict(Xt))
write_pred(os.path.join(OUT, "lgb_multiclass.raw.csv"), m.predict(Xt, raw_score=True))

m = lgb.train({"objective": "regression", "boosting": "rf", "bagging_fraction": 0.7, "bagging_freq": 1, "feature_fraction": 0.8,
               "num_leaves": 15, "verbose": -1, "seed": 4}, lgb.Dataset(X, t, feature_name=names6), num_boost_round=20)
m.save_model(os.path.join(OUT, "lgb_rf.txt"))
write_csv(os.path.join(OUT, "lgb_rf.input.csv"), names6, Xt)
write_pred(os.path.join(OUT, "lgb_rf.pred.csv"), m.predict(Xt))
write_pred(os.path.join(OUT, "lgb_rf.raw.csv"), m.predict(Xt, raw_score=True))

# XGBoost: regression, binary:logistic, multi:softprob, all with NaN.
X = features(n_train, 6, zero_frac=0.05)
t = target(X)
Xt = features(n_test, 6, zero_frac=0.05)
for name, params, y in [
    ("xgb_regression", {"objective": "reg:squarederror", "max_depth": 4, "eta": 0.1}, t),
    ("xgb_binary", {"objective": "binary:logistic", "max_depth": 4, "eta": 0.2, "base_score": 0.3}, (t > 0.3).astype(int)),
    ("xgb_multiclass", {"objective": "multi:softprob", "num_class": 3, "max_depth": 3, "eta": 0.2}, np.digitize(t, [-0.5, 0.7])),
]:
    d = xgb.DMatrix(X, label=y, feature_names=names6, missing=np.nan)
    b = xgb.train({**params, "seed": 5, "nthread": 1}, d, num_boost_round=30)
    b.save_model(os.path.join(OUT, name + ".json"))
    dt = xgb.DMatrix(Xt, feature_names=names6, missing=np.nan)
    write_csv(os.path.join(OUT, name + ".input.csv"), names6, Xt)
    write_pred(os.path.join(OUT, name + ".pred.csv"), b.predict(dt))
    write_pred(os.path.join(OUT, name + ".raw.csv"), b.predict(dt, output_margin=True))

# Linear model: coefficients and intercept in JSON; prediction = intercept + sum(coef * x) (missing -> 0 contribution).
coef = rng.normal(size=6)
intercept = 0.25
import json
with open(os.path.join(OUT, "linear.json"), "w") as f:
    json.dump({"type": "linear", "feature_names": names6, "coefficients": list(coef), "intercept": intercept}, f, indent=1)
Xl = features(n_test, 6, nan_frac=0.0)
write_csv(os.path.join(OUT, "linear.input.csv"), names6, Xl)
pl = intercept + Xl @ coef
write_pred(os.path.join(OUT, "linear.pred.csv"), pl)
write_pred(os.path.join(OUT, "linear.raw.csv"), pl)


# ONNX MLPs built as torch.onnx.export / skl2onnx would: Gemm+Relu+Gemm+Sigmoid, and MatMul+Add+Tanh+MatMul+Add+Softmax.
def init(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)


W1 = rng.normal(size=(8, 6)).astype(np.float32) * 0.5  # Gemm transB=1: weight is (out, in) as torch writes it
b1 = rng.normal(size=8).astype(np.float32) * 0.1
W2 = rng.normal(size=(1, 8)).astype(np.float32) * 0.5
b2 = np.array([0.05], dtype=np.float32)
g = helper.make_graph(
    [helper.make_node("Gemm", ["input", "W1", "b1"], ["h1"], alpha=1.0, beta=1.0, transB=1),
     helper.make_node("Relu", ["h1"], ["a1"]),
     helper.make_node("Gemm", ["a1", "W2", "b2"], ["h2"], transB=1),
     helper.make_node("Sigmoid", ["h2"], ["output"])],
    "mlp_binary",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 6])],
    [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 1])],
    [init("W1", W1), init("b1", b1), init("W2", W2), init("b2", b2)])
mlp1 = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="tickbus-fixtures", ir_version=9)
onnx.checker.check_model(mlp1)
onnx.save(mlp1, os.path.join(OUT, "mlp_binary.onnx"))

V1 = rng.normal(size=(6, 10)).astype(np.float32) * 0.5  # MatMul: (in, out)
c1 = rng.normal(size=10).astype(np.float32) * 0.1
V2 = rng.normal(size=(10, 3)).astype(np.float32) * 0.5
c2 = rng.normal(size=3).astype(np.float32) * 0.1
g = helper.make_graph(
    [helper.make_node("MatMul", ["x", "V1"], ["m1"]), helper.make_node("Add", ["m1", "c1"], ["s1"]),
     helper.make_node("Tanh", ["s1"], ["t1"]), helper.make_node("MatMul", ["t1", "V2"], ["m2"]),
     helper.make_node("Add", ["m2", "c2"], ["logits"]), helper.make_node("Softmax", ["logits"], ["probs"], axis=-1)],
    "mlp_multiclass",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 6])],
    [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [None, 3])],
    [init("V1", V1), init("c1", c1), init("V2", V2), init("c2", c2)])
mlp2 = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="tickbus-fixtures", ir_version=9)
onnx.checker.check_model(mlp2)
onnx.save(mlp2, os.path.join(OUT, "mlp_multiclass.onnx"))

# Unsupported operator (for the typed-error test).
g = helper.make_graph([helper.make_node("Gemm", ["input", "W1", "b1"], ["h1"], transB=1), helper.make_node("LeakyRelu", ["h1"], ["output"])],
                      "mlp_bad", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 6])],
                      [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 8])], [init("W1", W1), init("b1", b1)])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), os.path.join(OUT, "mlp_unsupported.onnx"))

try:
    import onnxruntime as ort
except ImportError:
    ort = None
Xm = features(n_test, 6, nan_frac=0.0)
for name, model, inp in [("mlp_binary", mlp1, "input"), ("mlp_multiclass", mlp2, "x")]:
    write_csv(os.path.join(OUT, name + ".input.csv"), names6, Xm)
    # Reference: numpy's forward pass in float64 over the float32 weights (what the Swift evaluator computes).
    x = Xm.astype(np.float64)
    d = lambda a: a.astype(np.float64)
    if name == "mlp_binary":
        ref = 1 / (1 + np.exp(-(np.maximum(x @ d(W1).T + d(b1), 0) @ d(W2).T + d(b2))))
    else:
        z = np.tanh(x @ d(V1) + d(c1)) @ d(V2) + d(c2)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        ref = e / e.sum(axis=1, keepdims=True)
    write_pred(os.path.join(OUT, name + ".pred.csv"), ref)
    write_pred(os.path.join(OUT, name + ".raw.csv"), ref)
    # onnxruntime's own float32 result, for the cross-check (agrees with the reference to ~1e-6).
    if ort is not None:
        s = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        write_pred(os.path.join(OUT, name + ".ort.csv"), s.run(None, {inp: Xm.astype(np.float32)})[0])
# LightGBM with a "NaN versus everything" split: threshold inf, NaN goes right (decision_type 8).
X = features(n_train, 6, nan_frac=0.0)
X[rng.random(n_train) < 0.3, 0] = np.nan
y = (np.isnan(X[:, 0]) ^ (rng.random(n_train) < 0.1)).astype(int)
Xt = features(n_test, 6, nan_frac=0.0)
Xt[rng.random(n_test) < 0.3, 0] = np.nan
m = lgb.train({"objective": "binary", "num_leaves": 4, "verbose": -1, "seed": 6}, lgb.Dataset(X, y, feature_name=names6), num_boost_round=5)
m.save_model(os.path.join(OUT, "lgb_nansplit.txt"))
write_csv(os.path.join(OUT, "lgb_nansplit.input.csv"), names6, Xt)
write_pred(os.path.join(OUT, "lgb_nansplit.pred.csv"), m.predict(Xt))
write_pred(os.path.join(OUT, "lgb_nansplit.raw.csv"), m.predict(Xt, raw_score=True))

print("fixtures written to", os.path.abspath(OUT))
