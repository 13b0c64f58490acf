"""Checks `tickbus export` against `tickbus journal cat` with the real readers.

  python3 export_check.py TICKBUS JOURNAL RING OUT [--partitioned]

For every table of the export, pyarrow, DuckDB and polars each read the Parquet files, and their rows
must equal `journal cat`'s lines for that table, row for row (in ring order; a partitioned export in
ring order within each partition) and column for column: every field cat prints is the column of its
name with the printed value, every column cat would print for another kind is null, and nothing cat
prints is missing. The columns cat does not print are checked against Tools/journal_reader.py (an
independent reader of the journal format): receive and publish times, flags, features; `event_time`
against the session date computed here from `journal info`'s created_ns. Gap lines are rows with
`gap` true in every table of the ring. A partitioned export's counts per (date, instrument) from
DuckDB's hive_partitioning equal cat's. pyarrow's metadata must show ZSTD on every column chunk and
statistics equal to each row group's true min, max and null count.
Prints `export-check ok ...` per table; exits 1 at the first difference, naming it.
"""
import datetime
import glob
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Tools"))
import journal_reader  # noqa: E402

# Columns that journal cat does not print (checked separately).
UNPRINTED = {"event_time", "receive_t", "publish_t", "layout", "flags", "gap", "n"}
CURRENT_LAYOUT = {"decision": 2, "control": 1, "order": 1, "order_event": 1, "fill": 1, "risk": 1}


def fail(msg):
    print("export-check FAILED: " + msg)
    sys.exit(1)


def run(args, stopped_ok=False):
    """stdout of a command; `stopped_ok`: a `journal cat` of a journal that stops early (exit 1) counts."""
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0 and not (stopped_ok and r.returncode == 1 and "stopped:" in r.stderr):
        fail(f"{' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def parse_line(line, market):
    """One cat line as (table, {field: text})."""
    words = line.split(" ")
    row = {}
    if words[0] == "gap":  # a journal gap record
        for w in words[1:]:
            k, v = w.split("=", 1)
            row[k] = v
        row["gap"] = "true"
        return None, row
    seq = words[0].split("=", 1)[1]
    row["seq"] = seq
    rest = words[1:]
    if market:
        row["kind"] = rest[0]
        table = "market"
    else:
        table = rest[0]
    position = 0
    for i, w in enumerate(rest[1:], start=1):
        if "=" in w:
            k, v = w.split("=", 1)
            if market and k in ("bid", "ask"):  # bid=PxQ/N
                px, rest2 = v.split("x", 1)
                q, n = rest2.split("/", 1)
                row[k], row[k + "_qty"], row[k + "_orders"] = px, q, n
                continue
            row[k] = v
            if table == "control" and k == "paused" and i + 1 < len(rest):
                row["message"] = " ".join(rest[i + 1:])
                break
        elif table == "control":
            position += 1
            row["verb" if position == 1 else "outcome"] = w
    return table, row


def same(text, value, col):
    """Whether the reader's value equals cat's printed text."""
    if value is None:
        return False
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, float):
        t = float(text)
        if math.isnan(t) and math.isnan(value):
            return True
        return t == value
    if isinstance(value, int):
        return int(text) == value
    return text == value


def read_all(reader, files):
    """Rows of `files` (in order) as a list of dicts, through one reader; timestamps as ns."""
    rows = []
    for f in files:
        if reader == "pyarrow":
            import pyarrow.parquet as pq
            t = pq.read_table(f)
            cols = {}
            for n in t.column_names:
                c = t.column(n)
                if str(c.type).startswith("timestamp"):
                    c = c.cast("int64")
                cols[n] = c.to_pylist()
        elif reader == "duckdb":
            import duckdb
            con = duckdb.connect()
            desc = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{f}', hive_partitioning=false)").fetchall()
            exprs = [f'epoch_ns("{d[0]}")' if d[1].startswith("TIMESTAMP") else f'"{d[0]}"' for d in desc]
            data = con.execute(f"SELECT {', '.join(exprs)} FROM read_parquet('{f}', hive_partitioning=false)").fetchall()
            cols = {d[0]: [r[i] for r in data] for i, d in enumerate(desc)}
        else:
            import polars as pl
            df = pl.read_parquet(f)
            cols = {}
            for n in df.columns:
                s = df[n]
                if s.dtype.is_temporal():
                    s = s.cast(pl.Int64)
                cols[n] = s.to_list()
        n = len(next(iter(cols.values()))) if cols else 0
        rows.extend({k: v[i] for k, v in cols.items()} for i in range(n))
    return rows


def check_metadata(f):
    import pyarrow.parquet as pq
    pf = pq.ParquetFile(f)
    md = pf.metadata
    table = pf.read()
    start = 0
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        part = table.slice(start, rg.num_rows)
        start += rg.num_rows
        for c in range(rg.num_columns):
            cc = rg.column(c)
            if cc.compression != "ZSTD":
                fail(f"{f}: row group {g} column {cc.path_in_schema}: compression {cc.compression}")
            s = cc.statistics
            values = [v for v in part.column(c).to_pylist() if v is not None]
            if s is None or s.null_count != rg.num_rows - len(values):
                fail(f"{f}: row group {g} column {cc.path_in_schema}: null_count {s and s.null_count}")
            finite = [v for v in values if not (isinstance(v, float) and math.isnan(v))]
            if finite:
                if not s.has_min_max:
                    fail(f"{f}: row group {g} column {cc.path_in_schema}: no min/max")
                if s.min != min(finite) or s.max != max(finite):
                    fail(f"{f}: row group {g} column {cc.path_in_schema}: min/max {s.min}/{s.max}, "
                         f"values {min(finite)}/{max(finite)}")


def main():
    tickbus, journal, ring, out = sys.argv[1:5]
    partitioned = "--partitioned" in sys.argv[5:]
    market = ring == "market"
    info = run([tickbus, "journal", "info", journal])
    created = None
    for line in info.splitlines():
        kv = dict(w.split("=", 1) for w in line.split(" ") if "=" in w)
        if kv.get("ring") == ring:
            created = int(kv["created_ns"])
    if created is None:
        fail(f"journal info has no ring {ring}")
    day = datetime.datetime.fromtimestamp(created // 1_000_000_000, tz=datetime.timezone.utc).date()
    midnight = int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp()) \
        * 1_000_000_000
    date = day.isoformat()

    # cat's lines by table; a gap line belongs to every table.
    expected = {}
    gaps = []
    order = []
    for line in run([tickbus, "journal", "cat", journal, "--ring", ring], stopped_ok=True).splitlines():
        table, row = parse_line(line, market)
        if table is None:
            gaps.append(len(order))
            order.append(("gap", row))
        else:
            order.append((table, row))
    tables = sorted({t for t, _ in order if t != "gap"}) or ["market" if market else "decision"]
    for t in tables:
        expected[t] = [dict(r) for (k, r) in order if k == t or k == "gap"]

    # The independent reader's records, for the columns cat does not print.
    rr = journal_reader.read_ring(journal, ring)
    raw = {}
    if market:
        a = journal_reader.market_array(rr)
        raw["market"] = [{"receive_t": int(a["receive_time"][i]), "flags": int(a["flags"][i])} for i in range(len(a))]
    else:
        kinds = journal_reader.record_kinds(rr)
        df = journal_reader.decision_frame(rr)
        feats = [c for c in df.columns if c.startswith("f") and c[1:].isdigit()]
        raw["decision"] = [{"receive_t": int(r.receive_time), "publish_t": int(r.publish_time),
                            "n": int(r.feature_count), **{f: getattr(r, f) for f in feats}}
                           for r in df.itertuples()]
        names = {101: "control", 102: "order", 103: "order_event", 104: "fill", 105: "risk"}
        recs = rr.records
        rt = journal_reader._field(recs, "<i8", 40)
        pt = journal_reader._field(recs, "<i8", 48)
        for i, k in enumerate(kinds):
            if k != 100:
                raw.setdefault(names.get(int(k), "record"), []).append(
                    {"receive_t": int(rt[i]), "publish_t": int(pt[i])})

    for t in tables:
        pattern = os.path.join(out, t, "**", "*.parquet") if partitioned else os.path.join(out, t + ".parquet")
        files = sorted(glob.glob(pattern, recursive=True))
        if not files:
            fail(f"no files for table {t} ({pattern})")
        want = expected[t]
        if partitioned:
            # Ring order within each partition; partitions in folder order.
            def part(r):
                inst = r.get("inst", "0") if r.get("gap") != "true" else "0"
                return f"date={date}/instrument={inst}"
            want = sorted(want, key=lambda r: part(r))  # stable: ring order kept inside a partition
            files = sorted(files, key=lambda f: os.path.relpath(f, os.path.join(out, t)))
        for f in files:
            check_metadata(f)
        for reader in ("pyarrow", "duckdb", "polars"):
            rows = read_all(reader, files)
            if len(rows) != len(want):
                fail(f"{reader}: table {t}: {len(rows)} rows, cat has {len(want)}")
            columns = set(rows[0]) if rows else set()
            printed = {c for c in columns if c not in UNPRINTED and not (c[0] == "f" and c[1:].isdigit())}
            raw_iter = iter(raw.get(t, []))
            for i, (have, cat) in enumerate(zip(rows, want)):
                is_gap = cat.get("gap") == "true"
                if bool(have.get("gap")) != is_gap or have.get("gap") is None:
                    fail(f"{reader}: table {t} row {i}: gap={have.get('gap')}, cat line {cat}")
                for col in cat:
                    if col not in columns:
                        fail(f"{reader}: table {t}: cat prints {col}, no such column")
                for col in printed:
                    if col in cat:
                        if not same(cat[col], have[col], col):
                            fail(f"{reader}: table {t} row {i} column {col}: {have[col]!r}, cat prints {cat[col]!r}")
                    elif have[col] is not None and not (t == "control" and col == "t" and not is_gap):
                        fail(f"{reader}: table {t} row {i} column {col}: {have[col]!r}, cat prints nothing")
                if is_gap:
                    continue
                if "t" in have and have["t"] is not None and have.get("event_time") != midnight + have["t"]:
                    fail(f"{reader}: table {t} row {i}: event_time {have.get('event_time')} != {midnight} + t")
                if t in CURRENT_LAYOUT and have.get("layout") != int(cat.get("layout", CURRENT_LAYOUT[t])):
                    fail(f"{reader}: table {t} row {i}: layout {have.get('layout')}")
                if not partitioned:
                    ref = next(raw_iter)
                    for k, v in ref.items():
                        hv = have.get(k)
                        if isinstance(v, float) and math.isnan(v):
                            if hv is not None and not math.isnan(hv):
                                fail(f"{reader}: table {t} row {i} column {k}: {hv!r}, journal_reader NaN")
                        elif hv != v:
                            fail(f"{reader}: table {t} row {i} column {k}: {hv!r}, journal_reader {v!r}")
        if partitioned:
            import duckdb
            got = duckdb.connect().execute(
                f"SELECT CAST(date AS VARCHAR), CAST(instrument AS BIGINT), count(*) FROM "
                f"read_parquet('{os.path.join(out, t)}/**/*.parquet', hive_partitioning=true) GROUP BY ALL").fetchall()
            counts = {}
            for r in expected[t]:
                inst = 0 if r.get("gap") == "true" else int(r.get("inst", 0))
                counts[(date, inst)] = counts.get((date, inst), 0) + 1
            have = {(d, i): n for d, i, n in got}
            if have != counts:
                fail(f"duckdb hive partitions of {t}: {sorted(have.items())[:5]}…, cat {sorted(counts.items())[:5]}…")
            print(f"export-check partitions table={t} partitions={len(have)} ok")
        print(f"export-check ok table={t} rows={len(want)} files={len(files)} readers=pyarrow,duckdb,polars")


if __name__ == "__main__":
    main()
