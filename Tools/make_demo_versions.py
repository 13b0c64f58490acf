#!/usr/bin/env python3
"""Make the demo's registry inputs beside the bundled model (Recordings/synthetic-5):

- model-b.json: a second linear model over the same six features (the demo's canary);
- examples.csv, examples-b.csv: example rows for `tickbus registry add --examples`, the inputs
  from the offline feature table and each model's prediction computed here with numpy (the
  reference the registry's prediction gate compares TickBus's evaluator with).

Run from the repository root after building:
    .build/debug/tickbus features --source synthetic:5 --messages 50000 \
        --features Recordings/synthetic-5/features.toml --out /tmp/ft.csv
    python3 Tools/make_demo_versions.py /tmp/ft.csv
"""
import json
import sys

import numpy as np

sys.path.insert(0, "Tools")
from export_examples import export_examples  # noqa: E402

DIR = "Recordings/synthetic-5"


def main(table):
    data = np.genfromtxt(table, delimiter=",", names=True)
    a = json.load(open(f"{DIR}/model.json"))
    names = a["feature_names"]
    x = np.column_stack([data[n] for n in names])
    x = x[~np.isnan(x).any(axis=1)]  # rows with every feature defined
    x = x[np.linspace(0, len(x) - 1, 64).astype(int)]  # spread over the session
    # The canary leans on order-book imbalance and order flow more than the champion does.
    b = {"type": "linear", "feature_names": names,
         "coefficients": [2e-7, -0.05, 0.8, 0.002, 0.5, 1.0], "intercept": -0.01}
    with open(f"{DIR}/model-b.json", "w") as f:
        json.dump(b, f)
        f.write("\n")
    for model, out in ((a, "examples.csv"), (b, "examples-b.csv")):
        pred = x @ np.array(model["coefficients"]) + model["intercept"]
        export_examples(f"{DIR}/{out}", x, pred, names)
    print(f"wrote {DIR}/model-b.json, examples.csv, examples-b.csv ({len(x)} rows)")


if __name__ == "__main__":
    main(sys.argv[1])
