#!/usr/bin/env python3
"""Trains the `tickbus bench model` model: LightGBM binary, 500 trees of 63 leaves on 32 features,
and writes rows for the benchmark (different from the training rows).

    python3 Tools/make_bench_model.py OUT_DIR

Writes OUT_DIR/lgb500.txt (the model), OUT_DIR/rows.f64 (8192 x 32 float64, row-major, ~5% NaN)
and OUT_DIR/lightgbm.txt (the lib_lightgbm.so path of the installed wheel, for the baseline).
Pinned: lightgbm 4.7.0, numpy 2.4.6.
"""
import os
import sys

import numpy as np
import lightgbm as lgb

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/tickbus-bench"
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(500)
n, f = 60000, 32
X = rng.normal(size=(n, f))
w = rng.normal(size=f)
logit = X @ w * 0.4 + np.sin(X[:, 0] * 2) + X[:, 1] * X[:, 2] + np.where(X[:, 3] > 0.5, 1.0, -0.5)
y = (logit + rng.logistic(size=n) > 0).astype(int)
X[rng.random(X.shape) < 0.05] = np.nan
params = {"objective": "binary", "num_leaves": 63, "learning_rate": 0.05, "min_data_in_leaf": 5, "feature_fraction": 0.8,
          "bagging_fraction": 0.8, "bagging_freq": 1, "verbose": -1, "seed": 7, "num_threads": 2}
m = lgb.train(params, lgb.Dataset(X, y), num_boost_round=500)
assert m.num_trees() == 500, m.num_trees()
m.save_model(os.path.join(out, "lgb500.txt"))
R = rng.normal(size=(8192, f))
R[rng.random(R.shape) < 0.05] = np.nan
R.astype("<f8").tofile(os.path.join(out, "rows.f64"))
np.savetxt(os.path.join(out, "expected.txt"), m.predict(R), fmt="%.17g")
lib = os.path.join(os.path.dirname(lgb.__file__), "lib", "lib_lightgbm.so")
with open(os.path.join(out, "lightgbm.txt"), "w") as fh:
    fh.write(lib + "\n")
print(out)
