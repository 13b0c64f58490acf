#!/usr/bin/env python3
"""The scipy contender of `tickbus bench drift` (Sources/Bench/Drift): the same four statistics
over the same numbers, timed per window, as a scipy user computes them.

    python3 drift_bench_scipy.py DIR FEATURES BASELINE_ROWS WINDOW_ROWS WINDOWS CPU REPEATS

DIR holds baseline.f64 (FEATURES × BASELINE_ROWS float64, feature-major) and window-K.f64
(FEATURES × WINDOW_ROWS, K < WINDOWS), written by the bench. The bins are frozen from the
baseline once, outside the timing (as the monitor's baseline file holds them). Per window and
feature, timed: PSI from the bins (numpy.searchsorted + bincount, the NaN bin, proportions floored
at 1e-4), Jensen-Shannon (scipy.spatial.distance.jensenshannon, base 2), two-sample KS
(scipy.stats.ks_2samp over the non-NaN values) and Wasserstein-1 (scipy.stats.wasserstein_distance).
Prints one JSON object: the per-window seconds and every value computed (for the bench to check
that both sides computed the same numbers).
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.spatial.distance import jensenshannon  # noqa: E402

LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


def main():
    d, nf, nb, nw, windows, cpu, repeats = sys.argv[1], *map(int, sys.argv[2:8])
    if cpu >= 0:
        os.sched_setaffinity(0, {cpu})
    base = np.fromfile(os.path.join(d, "baseline.f64"), dtype="<f8").reshape(nf, nb)
    frozen = []
    for f in range(nf):
        b = base[f]
        finite = b[~np.isnan(b)]
        edges = np.unique(np.quantile(finite, LEVELS))
        counts = np.append(np.bincount(np.searchsorted(edges, finite, side="left"), minlength=len(edges) + 1),
                           np.isnan(b).sum())
        frozen.append((edges, counts / b.size, finite))
    seconds, values = [], []
    for r in range(repeats):
        k = r % windows
        win = np.fromfile(os.path.join(d, f"window-{k}.f64"), dtype="<f8").reshape(nf, nw)
        out = []
        t0 = time.perf_counter()
        for f in range(nf):
            edges, e, finite_b = frozen[f]
            x = win[f]
            nan = np.isnan(x)
            w = x[~nan]
            a = np.append(np.bincount(np.searchsorted(edges, w, side="left"), minlength=len(edges) + 1),
                          nan.sum()) / x.size
            af, ef = np.maximum(a, 1e-4), np.maximum(e, 1e-4)
            psi = float(np.sum((af - ef) * np.log(af / ef)))
            js = float(jensenshannon(a, e, base=2))
            ks = stats.ks_2samp(w, finite_b)
            w1 = float(stats.wasserstein_distance(w, finite_b))
            out.append([psi, js, float(ks.statistic), w1])
        seconds.append(time.perf_counter() - t0)
        values.append({"window": k, "values": out})
    json.dump({"seconds": seconds, "values": values, "scipy": scipy.__version__}, sys.stdout)


if __name__ == "__main__":
    main()
