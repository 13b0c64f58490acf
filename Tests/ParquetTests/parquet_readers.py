"""Independent readers of the Parquet files TickBus writes: pyarrow, DuckDB and polars.

  python3 parquet_readers.py expect FILE EXPECTED.json
      every reader reads FILE; each column must equal EXPECTED (a JSON object: column -> list of
      values, null for null; floats compared bit for bit with NaN equal to NaN); prints one line per
      reader and exits 1 on the first difference, naming the reader, column and row.
  python3 parquet_readers.py pyarrow-write DIR
      pyarrow writes the same small table as DIR/{zstd,none}-{dict,plain}.parquet (row groups of 4 rows)
      and its values as DIR/expected.json: files from an independent writer for TickBus's reader.
  python3 parquet_readers.py metadata FILE
      pyarrow's ParquetFile.metadata as JSON: per row group and column the compression, encodings,
      statistics (has_min_max, min, max, null_count), plus the key-value metadata.
"""
import json
import math
import sys


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        if math.isnan(a) and math.isnan(b):
            return True
        return float(a) == float(b) and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def plain(v):
    """A reader's value as JSON would carry it (timestamps as ns since the epoch, bytes as text)."""
    import datetime
    if v is None:
        return None
    if hasattr(v, "value") and hasattr(v, "tz_localize"):  # pandas Timestamp
        return int(v.value)
    if isinstance(v, datetime.datetime):
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        d = v - epoch
        return (d.days * 86400 + d.seconds) * 1_000_000_000 + d.microseconds * 1000
    if isinstance(v, bytes):
        return v.decode()
    return v


def by_pyarrow(path):
    import pyarrow.parquet as pq
    t = pq.read_table(path)
    out = {}
    for name in t.column_names:
        col = t.column(name)
        if str(col.type).startswith("timestamp"):
            col = col.cast("int64")
        out[name] = col.to_pylist()
    return out


def by_duckdb(path):
    import duckdb
    con = duckdb.connect()
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}
    cols = []
    for n in names:
        q = f'"{n}"'
        if types[n].startswith("TIMESTAMP"):
            q = f'epoch_ns("{n}")'
        cols.append(q)
    rows = con.execute(f"SELECT {', '.join(cols)} FROM read_parquet('{path}')").fetchall()
    return {n: [r[i] for r in rows] for i, n in enumerate(names)}


def by_polars(path):
    import polars as pl
    df = pl.read_parquet(path)
    out = {}
    for n in df.columns:
        s = df[n]
        if s.dtype.is_temporal():
            s = s.cast(pl.Int64)
        out[n] = s.to_list()
    return out


READERS = {"pyarrow": by_pyarrow, "duckdb": by_duckdb, "polars": by_polars}


def expect(path, expected_path):
    with open(expected_path) as f:
        expected = json.load(f)
    for reader, fn in READERS.items():
        got = fn(path)
        for col, want in expected.items():
            if col not in got:
                print(f"{reader}: no column {col} (has {sorted(got)})")
                sys.exit(1)
            have = [plain(v) for v in got[col]]
            if len(have) != len(want):
                print(f"{reader}: column {col}: {len(have)} rows, expected {len(want)}")
                sys.exit(1)
            for i, (a, b) in enumerate(zip(have, want)):
                if not same(a, b):
                    print(f"{reader}: column {col} row {i}: {a!r}, expected {b!r}")
                    sys.exit(1)
        print(f"{reader}: ok columns={len(expected)} rows={len(next(iter(expected.values()), []))}")


def metadata(path):
    import pyarrow.parquet as pq
    md = pq.ParquetFile(path).metadata
    groups = []
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        cols = []
        for c in range(rg.num_columns):
            cc = rg.column(c)
            s = cc.statistics
            cols.append({
                "path": cc.path_in_schema,
                "compression": cc.compression,
                "encodings": list(cc.encodings),
                "has_dictionary_page": cc.has_dictionary_page,
                "has_min_max": bool(s is not None and s.has_min_max),
                # As text: exact for 64-bit integers, and JSON has no inf or NaN.
                "min": str(plain(s.min)) if s is not None and s.has_min_max else None,
                "max": str(plain(s.max)) if s is not None and s.has_min_max else None,
                "null_count": s.null_count if s is not None else None,
            })
        groups.append({"rows": rg.num_rows, "columns": cols})
    kv = {k.decode(): v.decode() for k, v in (md.metadata or {}).items()}
    print(json.dumps({"rows": md.num_rows, "row_groups": groups, "key_value": kv,
                      "created_by": md.created_by}, default=str))


def pyarrow_write(out):
    import pyarrow as pa
    import pyarrow.parquet as pq
    values = {
        "i": [1, None, -3, 3, 3, 3, 3, 3, 3, 9, 2**62, -(2**63)],
        "s": ["a", "b", None, "a", "a", "a", "a", "a", "b", "c", "ünï", ""],
        "d": [0.5, -0.0, None, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1e300, -2.5],
        "b": [True, False, None, True, True, True, True, False, True, True, False, True],
        "n": [7, 8, 9, 10, None, 12, 13, 14, 15, 16, -(2**31), 2**31 - 1],
    }
    types = {"i": pa.int64(), "s": pa.string(), "d": pa.float64(), "b": pa.bool_(), "n": pa.int32()}
    t = pa.table({k: pa.array(v, type=types[k]) for k, v in values.items()})
    for codec in ("zstd", "none"):
        for dictionary in (True, False):
            pq.write_table(t, f"{out}/{codec}-{'dict' if dictionary else 'plain'}.parquet", compression=codec,
                           use_dictionary=dictionary, row_group_size=4)
    with open(f"{out}/expected.json", "w") as f:
        json.dump(values, f)


if __name__ == "__main__":
    if sys.argv[1] == "pyarrow-write":
        pyarrow_write(sys.argv[2])
    elif sys.argv[1] == "expect":
        expect(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "metadata":
        metadata(sys.argv[2])
    else:
        sys.exit(f"unknown mode {sys.argv[1]}")
