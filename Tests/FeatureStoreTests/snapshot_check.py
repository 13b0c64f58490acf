"""Independent check of a feature snapshot (Docs/FEATURESTORE.md) with hashlib, json and pyarrow:
the manifest is canonical JSON (sorted keys, no whitespace), the data file hashes to its entry,
pyarrow reads the rows and columns the manifest names, with UTC ns timestamps, and
knowledge_time - event_time is the declared latency; event_time = session midnight + exchange_time.

    snapshot_check.py DIR ID     prints "snapshot-check ok rows=N" or exits 1 naming what differs
"""
import datetime
import hashlib
import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def main(directory, expected_id):
    raw = open(directory + "/manifest.json", "rb").read()
    if hashlib.sha256(raw).hexdigest() != expected_id:
        sys.exit("the snapshot id is not the sha256 of manifest.json")
    manifest = json.loads(raw)
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if canonical != raw:
        sys.exit("manifest.json is not canonical JSON")
    (entry,) = manifest["data"]
    data = open(directory + "/" + entry["path"], "rb").read()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        sys.exit("the data file's sha256 differs from the manifest")
    table = pq.read_table(directory + "/" + entry["path"])
    names = ["sequence", "instrument", "exchange_time", "event_time", "knowledge_time"] + manifest["features"]["names"]
    if table.column_names != names:
        sys.exit("columns %s, expected %s" % (table.column_names, names))
    if table.num_rows != entry["rows"]:
        sys.exit("%d rows, the manifest says %d" % (table.num_rows, entry["rows"]))
    for c in ("event_time", "knowledge_time"):
        t = table.schema.field(c).type
        if t != pa.timestamp("ns", tz="UTC") and t != pa.timestamp("ns", tz="+00:00"):
            sys.exit("%s is %s, not a UTC ns timestamp" % (c, t))
    day = datetime.date.fromisoformat(manifest["session_date"])
    midnight = (day - datetime.date(1970, 1, 1)).days * 86_400_000_000_000
    latency = int(manifest["latency_ns"])
    ex = table.column("exchange_time").to_pylist()
    ev = table.column("event_time").cast(pa.int64()).to_pylist()
    kn = table.column("knowledge_time").cast(pa.int64()).to_pylist()
    for i, (x, e, k) in enumerate(zip(ex, ev, kn)):
        if e != midnight + x or k != e + latency:
            sys.exit("row %d: exchange %d event %d knowledge %d" % (i, x, e, k))
    print("snapshot-check ok rows=%d" % table.num_rows)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
