#!/usr/bin/env python3
"""Reference values for Tests/DriftTests (StatisticsTests): every drift statistic and test, computed
by numpy/scipy over random and adversarial samples, written as a fixture the Swift test reads.

    python3 statistics_reference.py OUT.txt

The statistics are written here from the issue's definitions with numpy and scipy only (nothing
of the Swift code): bins from numpy.quantile/unique/searchsorted, PSI and KL over proportions
floored at 1e-4, scipy.spatial.distance.jensenshannon, scipy.stats.ks_2samp's statistic with
kstwobign.sf, wasserstein_distance, chisquare, binomtest, wilcoxon, and the special functions.

Fixture format: one record per line, numbers as the 16 hex digits of their float64 bits (NaN and
infinities exact), `-` for an undefined value (None):
    case KIND NAME             starts a case
    in FIELD v v v ...         an input vector
    out FIELD v                an expected value
    end
"""
import struct
import sys

import numpy as np
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
FLOOR = 1e-4


def h(x):
    if x is None:
        return "-"
    return struct.pack(">d", float(x)).hex()


class Fixture:
    def __init__(self, path):
        self.f = open(path, "w")

    def case(self, kind, name, inputs, outputs):
        w = self.f.write
        w(f"case {kind} {name}\n")
        for k, v in inputs.items():
            w(f"in {k} " + " ".join(h(x) for x in np.asarray(v, dtype=float).ravel()) + "\n")
        for k, v in outputs.items():
            w(f"out {k} {h(v)}\n")
        w("end\n")


def defined(x):
    x = float(x)
    return None if np.isnan(x) else x


def edges_of(base):
    finite = base[~np.isnan(base)]
    if finite.size == 0:
        return np.array([])
    return np.unique(np.quantile(finite, LEVELS, method="linear"))


def bin_counts(x, edges):
    """Counts per bin: searchsorted(edges, x, side="left") for values, then one NaN bin."""
    nan = np.isnan(x)
    idx = np.searchsorted(edges, x[~nan], side="left")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(float)
    return np.append(counts, nan.sum())


def numeric_scores(base, window):
    out = dict(psi=None, kl=None, js=None, ks=None, ks_pvalue=None, w1=None, w1_norm=None, nan_share=None)
    if window.size == 0:
        return out
    edges = edges_of(base)
    b = base[~np.isnan(base)]
    w = window[~np.isnan(window)]
    out["nan_share"] = float(np.isnan(window).sum()) / window.size
    if base.size > 0:
        a = bin_counts(window, edges) / window.size
        e = bin_counts(base, edges) / base.size
        af, ef = np.maximum(a, FLOOR), np.maximum(e, FLOOR)
        out["psi"] = defined(np.sum((af - ef) * np.log(af / ef)))
        out["kl"] = defined(np.sum(af * np.log(af / ef)))
        out["js"] = defined(jensenshannon(a, e, base=2))
    if w.size > 0 and b.size > 0:
        d = stats.ks_2samp(w, b).statistic
        m, n = w.size, b.size
        out["ks"] = float(d)
        out["ks_pvalue"] = defined(stats.kstwobign.sf(d * np.sqrt(m * n / (m + n))))
        out["w1"] = float(stats.wasserstein_distance(w, b))
        sd = np.std(b)
        if sd > 0:
            out["w1_norm"] = defined(out["w1"] / sd)
    return out


def categorical_scores(base, window):
    out = dict(chi2=None, chi2_pvalue=None, new_share=None, nan_share=None)
    if window.size == 0:
        return out
    b = base[~np.isnan(base)]
    w = window[~np.isnan(window)]
    out["nan_share"] = float(np.isnan(window).sum()) / window.size
    cats, freq = np.unique(b, return_counts=True)
    seen = np.isin(w, cats)
    if w.size > 0:
        out["new_share"] = float((~seen).sum()) / w.size
    inside = w[seen]
    if inside.size > 0:
        obs = np.array([(inside == c).sum() for c in cats], dtype=float)
        exp = freq / freq.sum() * obs.sum()
        r = stats.chisquare(obs, f_exp=exp)
        out["chi2"] = defined(r.statistic)
        if len(cats) > 1:
            out["chi2_pvalue"] = defined(r.pvalue)
    return out


def with_nan(rng, x, share):
    x = x.copy()
    x[rng.random(x.size) < share] = np.nan
    return x


def main(path):
    fx = Fixture(path)
    rng = np.random.default_rng(20261204)

    # ---- Special functions, including their far tails.
    xs = [1e-3, 0.03, 0.0406, 0.05, 0.1, 0.3, 0.5, 0.7, 0.8199, 0.82, 0.8201, 0.9, 1.0, 1.2, 1.5, 2, 3, 5, 8, 12,
          15, 18, 18.5, 19]
    for i, x in enumerate(xs):
        fx.case("kolmogorov", f"x{i}", {"x": [x]}, {"sf": stats.kstwobign.sf(x)})
    for i, (x, dof) in enumerate([(0.5, 1), (1, 1), (3.84, 1), (50, 1), (1200, 1), (1300, 2), (0.001, 3), (10, 3),
                                   (9, 9), (30, 9), (1e-5, 10), (100, 99), (99, 100), (150, 100), (1200, 200),
                                   (2000, 2000), (2100, 2000), (1900, 2000), (5000, 4000), (1, 0.5), (2.5, 7),
                                   (0.2, 40), (400, 300)]):
        fx.case("chi2sf", f"c{i}", {"x": [x], "dof": [dof]}, {"sf": stats.chi2.sf(x, dof)})
    for i, (k, n, p) in enumerate([(0, 1, 0.5), (3, 10, 0.5), (0, 10, 0.3), (9, 10, 0.3), (10, 10, 0.3),
                                    (40, 100, 0.55), (70, 100, 0.55), (2400, 5000, 0.52), (2650, 5000, 0.52),
                                    (1, 5000, 0.5), (100, 5000, 0.5), (499_000, 1_000_000, 0.5),
                                    (480_000, 1_000_000, 0.5), (300_000, 1_000_000, 0.31), (5, 20, 0.01),
                                    (0, 20, 0.99), (19, 20, 0.99), (12, 30, 1e-6), (3, 7, 0.999999)]):
        fx.case("binom", f"b{i}", {"k": [k], "n": [n], "p": [p]},
                {"cdf": stats.binom.cdf(k, n, p), "sf": stats.binom.sf(k, n, p), "pmf": stats.binom.pmf(k, n, p),
                 "less": stats.binomtest(k, n, p, alternative="less").pvalue,
                 "two": stats.binomtest(k, n, p).pvalue})
    for i, (b, c) in enumerate([(0, 1), (1, 1), (3, 9), (9, 3), (10, 10), (0, 30), (120, 80), (2500, 2600),
                                 (400, 700), (7, 0), (1, 2000)]):
        fx.case("mcnemar", f"m{i}", {"b": [b], "c": [c]}, {"p": stats.binomtest(b, b + c, 0.5).pvalue})
    for i, x in enumerate([-40, -8, -3, -1.5, -0.7, -0.1, 0, 0.3, 0.70710678, 1, 2.5, 6, 12, 30, 37.5]):
        fx.case("normal", f"z{i}", {"x": [x]}, {"sf": stats.norm.sf(x)})

    # ---- Wilcoxon (zero_method wilcox, no continuity correction, normal approximation).
    wil = {
        "small": rng.normal(0.2, 1, 12),
        "zeros_ties": rng.integers(-3, 4, 80).astype(float),
        "large": rng.standard_t(3, 5000) + 0.02,
        "one": np.array([1.5]),
        "all_equal": np.full(30, 0.25),
        "shifted": rng.normal(1, 1, 400),
        "negative": -np.abs(rng.normal(0, 1, 60)),
    }
    for name, d in wil.items():
        r = stats.wilcoxon(d, zero_method="wilcox", correction=False, method="approx")
        fx.case("wilcoxon", name, {"d": d}, {"statistic": defined(r.statistic), "pvalue": defined(r.pvalue)})

    # ---- Chi-squared on its own (observed and expected given).
    for i, (obs, exp) in enumerate([([10, 20, 30], [20, 20, 20]), ([5, 0, 7, 1], [3.25, 3.25, 3.25, 3.25]),
                                     ([1000, 1100, 900, 1000], [1000] * 4), ([50], [50]),
                                     ([300, 10], [155, 155])]):
        r = stats.chisquare(obs, f_exp=exp)
        fx.case("chisquare", f"q{i}", {"observed": obs, "expected": exp},
                {"statistic": defined(r.statistic), "pvalue": defined(r.pvalue)})

    # ---- Jensen-Shannon of proportion vectors (zeros in either).
    for i, (p, q) in enumerate([([0.5, 0.5], [0.5, 0.5]), ([1, 0], [0, 1]), ([0.2, 0.3, 0.5], [0.1, 0.0, 0.9]),
                                 ([0.25] * 4, [0.7, 0.1, 0.1, 0.1]), ([0, 0, 1], [0.4, 0.6, 0])]):
        fx.case("js", f"j{i}", {"p": p, "q": q}, {"js": defined(jensenshannon(p, q, base=2))})

    # ---- Numeric windows against numeric baselines.
    n_base = 2000
    windows = {}
    normal_base = rng.normal(0, 1, n_base)
    windows["normal_same"] = (normal_base, rng.normal(0, 1, 500))
    windows["normal_shift"] = (normal_base, rng.normal(0.4, 1.3, 500))
    windows["normal_far"] = (normal_base, rng.normal(9, 1, 300))
    cauchy = rng.standard_cauchy(n_base)
    windows["heavy_tails"] = (cauchy, rng.standard_cauchy(700) * 3)
    windows["pareto"] = (rng.pareto(1.1, n_base), rng.pareto(0.8, 400))
    ties = rng.integers(0, 5, n_base).astype(float)
    windows["ties"] = (ties, rng.integers(0, 6, 600).astype(float))
    windows["mostly_one_value"] = (np.where(rng.random(n_base) < 0.93, 1.0, rng.normal(0, 1, n_base)),
                                   np.where(rng.random(300) < 0.5, 1.0, 2.0))
    windows["all_equal_base"] = (np.full(500, 3.5), rng.normal(3.5, 0.1, 200))
    windows["all_equal_both"] = (np.full(500, 3.5), np.full(100, 3.5))
    windows["nan_mixed"] = (with_nan(rng, rng.normal(0, 1, n_base), 0.1), with_nan(rng, rng.normal(0, 1, 400), 0.3))
    windows["window_all_nan"] = (normal_base, np.full(250, np.nan))
    windows["base_all_nan"] = (np.full(300, np.nan), rng.normal(0, 1, 50))
    windows["one_element"] = (normal_base, np.array([0.123]))
    windows["one_element_nan"] = (normal_base, np.array([np.nan]))
    windows["one_element_base"] = (np.array([2.0]), rng.normal(2, 1, 40))
    windows["empty_window"] = (normal_base, np.array([]))
    windows["edge_values"] = (np.arange(1.0, 101.0), np.array([10.9, 11.0, 20.8, 50.5, 1.0, 100.0, 0.0, 101.0]))
    windows["negative_zero"] = (np.array([-0.0, 0.0] * 50 + [1.0] * 20), np.array([0.0, -0.0, 0.0, 1.0, -1.0]))
    windows["tiny_scale"] = (rng.normal(0, 1e-200, 800), rng.normal(1e-201, 1e-200, 300))
    windows["huge_scale"] = (rng.normal(0, 1e150, 800), rng.normal(0, 2e150, 300))
    windows["large_n"] = (rng.normal(0, 1, 100_000), rng.normal(0.01, 1, 10_000))
    windows["large_n_far"] = (rng.normal(0, 1, 100_000), rng.normal(0.3, 1, 10_000))
    for name, (base, window) in windows.items():
        fx.case("numeric", name, {"base": base, "window": window}, numeric_scores(base, window))

    # ---- Categorical windows.
    cat_base = rng.choice([1.0, 2.0, 3.0, 7.0], size=3000, p=[0.4, 0.3, 0.2, 0.1])
    cats = {
        "same": (cat_base, rng.choice([1.0, 2.0, 3.0, 7.0], size=800, p=[0.4, 0.3, 0.2, 0.1])),
        "shifted": (cat_base, rng.choice([1.0, 2.0, 3.0, 7.0], size=800, p=[0.1, 0.2, 0.3, 0.4])),
        "new_categories": (cat_base, rng.choice([1.0, 2.0, 5.0, 9.0], size=500)),
        "only_new": (cat_base, np.array([4.0, 5.0, 6.0])),
        "nan_mixed": (with_nan(rng, cat_base, 0.2), with_nan(rng, rng.choice([1.0, 3.0], size=300), 0.4)),
        "all_nan": (cat_base, np.full(40, np.nan)),
        "one_category": (np.full(100, 2.0), np.array([2.0, 2.0, 3.0])),
        "one_element": (cat_base, np.array([7.0])),
        "many_categories": (rng.integers(0, 400, 20_000).astype(float), rng.integers(0, 410, 5000).astype(float)),
    }
    for name, (base, window) in cats.items():
        fx.case("categorical", name, {"base": base, "window": window}, categorical_scores(base, window))

    # ---- The bin rule: edges and the bin of probe values (on the edges, between, outside, NaN).
    rules = {
        "uniform_grid": np.arange(1.0, 101.0),
        "duplicates_in_deciles": np.array([0.0] * 50 + [1.0] * 30 + [2.0] * 15 + [3.0] * 5),
        "all_equal": np.full(20, 4.25),
        "all_nan": np.full(10, np.nan),
        "with_nan": np.array([np.nan, 3.0, 1.0, np.nan, 2.0, 5.0, 4.0]),
        "two_values": np.array([1.0, 2.0]),
        "one_value": np.array([7.0]),
        "random": rng.normal(0, 1, 1001),
    }
    for name, base in rules.items():
        edges = edges_of(base)
        probes = np.concatenate([edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf),
                                 [-np.inf, np.inf, np.nan, 0.0, -1e300, 1e300]])
        idx = np.searchsorted(edges, probes, side="left").astype(float)
        idx[np.isnan(probes)] = len(edges) + 1
        fx.case("bins", name, {"base": base, "edges": edges, "probes": probes, "bins": idx,
                               "counts": bin_counts(base, edges)}, {})

    fx.f.close()


if __name__ == "__main__":
    main(sys.argv[1])
