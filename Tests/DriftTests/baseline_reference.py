#!/usr/bin/env python3
"""Independent check of a drift baseline file (Tests/DriftTests, BaselineTests).

    python3 baseline_reference.py TABLE.csv FEATURES.toml BASELINE.tbbaseline MAX_SAMPLE SEED [CATEGORICAL,...]

Reads BASELINE with its own reader of the layout in Docs/DRIFT.md ("Baseline file"), and
recomputes everything from TABLE with numpy: the seeded subsample (reservoir sampling, algorithm R,
SplitMix64 draws reduced by Lemire's method, as the page specifies), and per column the sorted
non-NaN sample, the deciles `np.unique(np.quantile(x, [0.1 .. 0.9]))`, the counts per bin
(`np.searchsorted(edges, x, side="left")`, NaN last), mean and population std, category counts;
the definition's sha256 (hashlib). Prints one line per mismatch and `ok columns=N` at the end;
exits 1 on any mismatch.
"""
import hashlib
import struct
import sys

import numpy as np

LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
MASK = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def reservoir(rows, capacity, seed):
    """Indices of the sampled rows, in sample-slot order."""
    state = seed
    slots = []
    for i in range(rows):
        if i < capacity:
            slots.append(i)
            continue
        n = i + 1
        state, x = splitmix64(state)
        m = x * n
        if (m & MASK) < n:
            threshold = ((1 << 64) - n) % n
            while (m & MASK) < threshold:
                state, x = splitmix64(state)
                m = x * n
        j = m >> 64
        if j < capacity:
            slots[j] = i
    return slots


def read_baseline(path):
    data = open(path, "rb").read()
    assert data[:8] == b"TBDRIFTB", "magic"
    version, header_size, file_size, ncols, nfeat, seed, max_sample, table_rows, sample_rows = struct.unpack_from(
        "<IIQIIQQQQ", data, 8)
    assert (version, header_size, file_size) == (1, 128, len(data)), "header"
    digest = data[64:96].hex()
    off = header_size
    cols = []
    for _ in range(ncols):
        size, kind, name_len, nedges, ncats, nvalues, nnan, mean, std = struct.unpack_from("<QB3xIIIQQdd", data, off)
        p = off + 56
        name = data[p:p + name_len].decode()
        p += (name_len + 7) & ~7
        edges = np.frombuffer(data, "<f8", nedges, p); p += 8 * nedges
        bins = np.frombuffer(data, "<u8", nedges + 2, p); p += 8 * (nedges + 2)
        cats = np.frombuffer(data, "<f8,<u8", ncats, p) if ncats else np.zeros(0, "<f8,<u8"); p += 16 * ncats
        sample = np.frombuffer(data, "<f8", nvalues, p); p += 8 * nvalues
        assert p == off + size, f"column {name}: record size"
        cols.append(dict(name=name, kind=kind, edges=edges, bins=bins, cats=cats, sample=sample, nan=nnan,
                         mean=mean, std=std))
        off += size
    assert off == len(data), "trailing bytes"
    return dict(nfeat=nfeat, seed=seed, max_sample=max_sample, table_rows=table_rows, sample_rows=sample_rows,
                digest=digest, columns=cols)


def feature_names(toml_path):
    names = []
    for line in open(toml_path):
        s = line.split("#")[0].strip()
        if s.startswith("name") and "=" in s:
            names.append(s.split("=", 1)[1].strip().strip('"'))
    return names


def main():
    table, features, baseline_path, max_sample, seed = sys.argv[1:6]
    categorical = set(sys.argv[6].split(",")) if len(sys.argv) > 6 and sys.argv[6] else set()
    max_sample, seed = int(max_sample), int(seed)
    bad = []

    def check(what, ok):
        if not ok:
            bad.append(what)
            print("MISMATCH", what)

    header = open(table).readline().strip().split(",")
    values = np.loadtxt(table, delimiter=",", skiprows=1, dtype=float, ndmin=2)
    names = feature_names(features)
    wanted = names + (["prediction"] if "prediction" in header else [])
    rows = values.shape[0]
    slots = reservoir(rows, max_sample, seed)
    b = read_baseline(baseline_path)
    check("definition sha256", b["digest"] == hashlib.sha256(open(features, "rb").read()).hexdigest())
    check("feature count", b["nfeat"] == len(names))
    check("column names", [c["name"] for c in b["columns"]] == wanted)
    check("rows", (b["table_rows"], b["sample_rows"], b["max_sample"], b["seed"]) == (rows, len(slots), max_sample,
                                                                                      seed))
    for c in b["columns"]:
        x = values[slots, header.index(c["name"])]
        finite = np.sort(x[~np.isnan(x)])
        name = c["name"]
        check(f"{name}: kind", c["kind"] == (1 if name in categorical else 0))
        check(f"{name}: sample", np.array_equal(finite.view("<u8"), c["sample"].view("<u8")))
        check(f"{name}: nan count", c["nan"] == np.isnan(x).sum())
        edges = np.unique(np.quantile(finite, LEVELS, method="linear")) if finite.size else np.zeros(0)
        check(f"{name}: edges", np.array_equal(edges.view("<u8"), c["edges"].view("<u8")))
        idx = np.searchsorted(edges, finite, side="left")
        counts = np.append(np.bincount(idx, minlength=len(edges) + 1), np.isnan(x).sum())
        check(f"{name}: bin counts", np.array_equal(counts, c["bins"]))
        if finite.size:
            mean, std = np.mean(finite), np.std(finite)
            check(f"{name}: mean {c['mean']} vs {mean}", abs(c["mean"] - mean) <= 1e-12 * max(abs(mean), np.abs(
                finite).max()))
            check(f"{name}: std {c['std']} vs {std}", abs(c["std"] - std) <= 1e-12 * max(std, 1e-300))
        if c["kind"] == 1:
            v, n = np.unique(finite, return_counts=True)
            check(f"{name}: categories", np.array_equal(c["cats"]["f0"], v) and np.array_equal(c["cats"]["f1"], n))
        else:
            check(f"{name}: no categories", len(c["cats"]) == 0)
    if bad:
        sys.exit(1)
    print(f"ok columns={len(b['columns'])} rows={rows} sample={len(slots)}")


if __name__ == "__main__":
    main()
