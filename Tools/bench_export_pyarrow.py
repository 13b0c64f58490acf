#!/usr/bin/env python3
"""The baseline of `tickbus bench export`: pyarrow writing the market table's columns from numpy.

    python3 Tools/bench_export_pyarrow.py JOURNAL OUT.parquet ROW_GROUP_ROWS ZSTD_LEVEL

Reads ring `market` of JOURNAL with Tools/journal_reader.py into numpy, builds the same columns as
`tickbus export` writes (Docs/PARQUET.md: names, types, the nulls of each kind; the low-cardinality
strings as Arrow dictionary arrays, pyarrow's fastest path) once, untimed, then serves rounds on stdin:
each line `run` writes OUT.parquet with pq.write_table (ZSTD at ZSTD_LEVEL, ROW_GROUP_ROWS rows per
row group, dictionary encoding and statistics as pyarrow's defaults) and prints `seconds=S bytes=B`;
`quit` ends. Prints `ready records=N` first.
"""
import os
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import journal_reader  # noqa: E402

KIND_NAMES = ["kind0", "add", "execute", "cancel", "delete", "replace", "trade", "top", "directory", "status", "gap",
              "eos"]


def sparse_strings(n, mask, values):
    """A string column that is null except where `mask` holds, there `values` in order."""
    out = np.full(n, None, dtype=object)
    out[mask] = values
    return pa.array(out, type=pa.string())


def columns(journal):
    ring = journal_reader.read_ring(journal, "market")
    a = journal_reader.market_array(ring)
    n = len(a)
    kind = a["kind"].astype(np.int64)
    order = np.isin(kind, [1, 2, 3, 4, 6])
    replace, top, directory, status, gap, eos = (kind == k for k in (5, 7, 8, 9, 10, 11))
    w32, w40, w48, w56 = a["w32"], a["w40"], a["w48"], a["w56"]

    def col(values, mask, typ):
        return pa.array(values, type=typ, mask=~mask)

    side_code = ((w48 >> 32) & 0xFF).astype(np.int64)
    side_idx = np.where(side_code == 0x42, 0, np.where(side_code == 0x53, 1, 2)).astype(np.int32)
    px = np.where(order, w40.view(np.int64), np.where(replace, w48.view(np.int64), 0))
    qty = np.where(order, w48 & 0xFFFFFFFF, np.where(replace, w56 & 0xFFFFFFFF, 0)).astype(np.uint32)
    kind_idx = np.clip(kind, 0, len(KIND_NAMES) - 1).astype(np.int32)
    t = a["exchange_time"]
    cols = {
        "seq": pa.array(a["sequence"]),
        "kind": pa.DictionaryArray.from_arrays(pa.array(kind_idx), pa.array(KIND_NAMES)),
        "inst": pa.array(a["instrument"]),
        "t": pa.array(t),
        "id": col(w32, order, pa.uint64()),
        "px": col(px, order | replace, pa.int64()),
        "qty": col(qty, order | replace, pa.uint32()),
        "side": pa.DictionaryArray.from_arrays(pa.array(side_idx, mask=~order), pa.array(["B", "S", "?"])),
        "match": col(w56, order & (w56 != 0), pa.uint64()),
        "old": col(w32, replace, pa.uint64()),
        "new": col(w40, replace, pa.uint64()),
        "bid": col(w32.view(np.int64), top, pa.int64()),
        "bid_qty": col((w48 & 0xFFFFFFFF).astype(np.uint32), top, pa.uint32()),
        "bid_orders": col((w56 & 0xFFFFFFFF).astype(np.uint32), top, pa.uint32()),
        "ask": col(w40.view(np.int64), top, pa.int64()),
        "ask_qty": col((w48 >> 32).astype(np.uint32), top, pa.uint32()),
        "ask_orders": col((w56 >> 32).astype(np.uint32), top, pa.uint32()),
        "symbol": sparse_strings(n, directory, [a[i].tobytes()[32:40].rstrip(b" \0").decode()
                                                for i in np.flatnonzero(directory)]),
        "lot": col((w40 & 0xFFFFFFFF).astype(np.uint32), directory, pa.uint32()),
        "state": sparse_strings(n, status, [chr(int(x)) for x in (w32[status] & 0xFF)]),
        "messages": col(w32, eos, pa.uint64()),
        "flags": pa.array(a["flags"].astype(np.int32)),
        "event_time": pa.array(t, type=pa.timestamp("ns", tz="UTC")),
        "receive_t": pa.array(a["receive_time"]),
        "gap": pa.array(np.zeros(n, dtype=bool)),
        "from": col(w32, gap, pa.uint64()),
        "count": col(w40, gap, pa.uint64()),
    }
    return pa.table(cols), n


def main():
    journal, out, rows, level = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    table, n = columns(journal)
    print(f"ready records={n}", flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t0 = time.perf_counter()
        pq.write_table(table, out, compression="zstd", compression_level=level, row_group_size=rows)
        s = time.perf_counter() - t0
        print(f"seconds={s:.6f} bytes={os.path.getsize(out)}", flush=True)


if __name__ == "__main__":
    main()
