#!/usr/bin/env python3
"""Read a TickBus journal (Docs/JOURNAL.md) into numpy / pandas.

    from journal_reader import read_ring, market_frame
    ring = read_ring("Recordings/session", "market")     # verifies every block
    df = market_frame(ring)                               # one row per market message

    d = decision_frame(read_ring(DIR, "decisions.S"))     # decisions (layouts 1 and 2), role columns
    c = control_frame(read_ring(DIR, "decisions.S"))      # control records (kind 101)
    f = fill_frame(read_ring(DIR, "decisions.S"))         # fills (kind 104); also order_frame,
                                                          # order_event_frame, risk_frame
    for r in execution_records(ring): print(r["kind_name"], r["order_id"])   # dicts, ring order

    python3 Tools/journal_reader.py DIR [RING]            # prints a summary and the head
    python3 Tools/journal_reader.py DIR RING --dump       # a strategy's ring, one line per record

The reader verifies each block (magic, fields, CRC32C, block numbers, sequence continuity) and stops
at the first that fails, like the Swift reader: `ring.stop` says where and why.
"""
import os
import re
import struct
import sys

import numpy as np

FILE_MAGIC = 0x4C4E52554F4A4254
BLOCK_MAGIC = 0x424A4254
INDEX_MAGIC = 0x5845444E494A4254
HEADER_SIZE = 4096
ALIGN = 4096
BLOCK_HEADER = 64
GAP_BIT = 1 << 63
SEAL_REASONS = {1: "end-of-session", 2: "producer-closed", 3: "stop-signal", 4: "rotated", 5: "closed"}
SCHEMAS = {1: "market", 2: "decisions", 3: "control"}

# ---- CRC32C (Castagnoli), table driven, vectorised over numpy where it helps.
_POLY = 0x82F63B78
_TABLE = np.zeros(256, dtype=np.uint32)
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ (_POLY if _c & 1 else 0)
    _TABLE[_i] = _c
_TABLE_LIST = [int(x) for x in _TABLE]

try:  # a C implementation if one happens to be installed
    import crc32c as _crc32c_mod  # type: ignore

    def crc32c(data, crc=0):
        return _crc32c_mod.crc32c(bytes(data), crc)
except Exception:  # pragma: no cover - pure Python fallback
    def crc32c(data, crc=0):
        t = _TABLE_LIST
        c = crc ^ 0xFFFFFFFF
        for b in bytes(data):
            c = t[(c ^ b) & 0xFF] ^ (c >> 8)
        return c ^ 0xFFFFFFFF

assert crc32c(b"123456789") == 0xE3069283


class JournalStop(Exception):
    """Where a ring's valid data ends and why (file, offset, reason)."""

    def __init__(self, file, offset, reason, detail):
        super().__init__(f"{file}: offset {offset}: {reason}: {detail}")
        self.file, self.offset, self.reason, self.detail = file, offset, reason, detail


class Ring:
    """A ring's journal: `records` is an (n, slot_size) uint8 array of data records (in order),
    `gaps` a list of (from, count), `stop` None after a clean seal or a JournalStop."""

    def __init__(self, name, header, records, gaps, stop, seal):
        self.name, self.header, self.records, self.gaps, self.stop, self.seal = name, header, records, gaps, stop, seal

    @property
    def sequences(self):
        return self.records[:, :8].copy().view("<u8").ravel()


def segments(directory):
    """{ring: [segment numbers]} of a journal directory."""
    out = {}
    for name in os.listdir(directory):
        m = re.fullmatch(r"(.+)\.(\d{6})\.tbj", name)
        if m:
            out.setdefault(m.group(1), []).append(int(m.group(2)))
    return {k: sorted(v) for k, v in out.items()}


def _header(path, data, expect_segment):
    if len(data) < HEADER_SIZE:
        raise JournalStop(path, 0, "file-too-small", f"{len(data)} bytes")
    magic, version, hsize, schema, slot, seg, align, first, created, gen, maxblock, _flags = struct.unpack_from(
        "<QIIIIIIQQQII", data, 0)
    if magic != FILE_MAGIC:
        raise JournalStop(path, 0, "bad-file-header", f"magic {magic:#x}")
    if crc32c(data[:252]) != struct.unpack_from("<I", data, 252)[0]:
        raise JournalStop(path, 0, "bad-file-header", "crc32c")
    if version != 1 or hsize != HEADER_SIZE or align != ALIGN or slot % 64 or slot == 0 or seg != expect_segment:
        raise JournalStop(path, 0, "bad-file-header", "version/size/alignment/slot/segment")
    name = data[64:128].split(b"\0", 1)[0].decode()
    bus = data[128:192].split(b"\0", 1)[0].decode()
    return dict(schema=SCHEMAS.get(schema, schema), schema_id=schema, slot_size=slot, segment=seg, first_sequence=first,
                created_ns=created, generation=gen, max_block=maxblock, ring=name, bus=bus)


def read_ring(directory, ring="market"):
    """Reads and verifies one ring's journal. Never raises for bad data: see `Ring.stop`."""
    segs = segments(directory).get(ring)
    if not segs:
        raise FileNotFoundError(f"{directory}: no journal for ring {ring!r}")
    chunks, gaps, stop, seal, first_header = [], [], None, None, None
    expected_seq, expected_block = None, 0
    for k, seg in enumerate(segs):
        path = os.path.join(directory, f"{ring}.{seg:06d}.tbj")
        if seg != k:
            stop = JournalStop(directory, 0, "missing-segment", f"segment {k}")
            break
        with open(path, "rb") as f:
            data = f.read()
        try:
            h = _header(path, data, seg)
        except JournalStop as e:
            stop = e
            break
        if first_header is None:
            first_header, expected_seq = h, h["first_sequence"]
        elif h["first_sequence"] != expected_seq or h["slot_size"] != first_header["slot_size"]:
            stop = JournalStop(path, 0, "bad-file-header", "first_sequence/slot_size")
            break
        slot = h["slot_size"]
        off, rotated = HEADER_SIZE, False
        while True:
            if off == len(data):
                stop = JournalStop(path, off, "unsealed", "no seal block")
                break
            if len(data) - off < BLOCK_HEADER:
                stop = JournalStop(path, off, "truncated-block", "header")
                break
            magic, btype, bhs, number, payload, count, first, nxt = struct.unpack_from("<IHHQIIQQ", data, off)
            if magic != BLOCK_MAGIC:
                stop = JournalStop(path, off, "zero-block" if magic == 0 else "bad-block-magic", f"{magic:#x}")
                break
            if btype not in (1, 2) or bhs != BLOCK_HEADER or (btype == 1 and (payload == 0 or payload % slot or count * slot != payload
                                                                               or BLOCK_HEADER + payload > h["max_block"])) \
                    or (btype == 2 and (payload != 64 or count != 0)):
                stop = JournalStop(path, off, "bad-block-field", "type/sizes")
                break
            extent = -(-(BLOCK_HEADER + payload) // ALIGN) * ALIGN
            if len(data) - off < extent:
                stop = JournalStop(path, off, "truncated-block", f"needs {extent} bytes")
                break
            body = data[off + BLOCK_HEADER: off + BLOCK_HEADER + payload]
            if crc32c(body, crc32c(data[off: off + 60])) != struct.unpack_from("<I", data, off + 60)[0]:
                stop = JournalStop(path, off, "crc-mismatch", f"block {number}")
                break
            if number != expected_block or first != expected_seq:
                stop = JournalStop(path, off, "block-number-mismatch" if number != expected_block else "sequence-mismatch", "")
                break
            if btype == 2:
                recs, ngaps, lost, nseq, reason = struct.unpack_from("<QQQQI", body, 0)
                if nseq != expected_seq:
                    stop = JournalStop(path, off, "sequence-mismatch", "seal")
                    break
                expected_block += 1
                if reason == 4:
                    rotated = True
                    break
                seal = dict(reason=SEAL_REASONS.get(reason, reason), records=recs, gaps=ngaps, lost=lost, next_sequence=nseq)
                if off + extent != len(data):
                    stop = JournalStop(path, off + extent, "data-after-seal", "")
                break
            block = np.frombuffer(body, dtype=np.uint8).reshape(count, slot)
            w0 = block[:, :8].copy().view("<u8").ravel()
            w1 = block[:, 8:16].copy().view("<u8").ravel()
            is_gap = (w0 & np.uint64(GAP_BIT)) != 0
            seqs = np.where(is_gap, w0 & np.uint64(GAP_BIT - 1), w0)
            lengths = np.where(is_gap, w1, 1).astype(np.uint64)
            starts = np.uint64(expected_seq) + np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.uint64)
            if not np.array_equal(seqs, starts) or int(starts[-1] + lengths[-1]) != nxt:
                stop = JournalStop(path, off, "sequence-mismatch", "records")
                break
            chunks.append(block[~is_gap])
            gaps.extend((int(a), int(b)) for a, b in zip(seqs[is_gap], w1[is_gap]))
            expected_seq, expected_block = nxt, expected_block + 1
            off += extent
        if not rotated:
            break
    else:
        if rotated:
            stop = JournalStop(directory, 0, "missing-segment", f"segment {len(segs)}")
    slot = first_header["slot_size"] if first_header else 64
    records = np.concatenate(chunks) if chunks else np.zeros((0, slot), dtype=np.uint8)
    return Ring(ring, first_header, records, gaps, stop, seal)


MARKET_DTYPE = np.dtype([
    ("sequence", "<u8"), ("kind", "<u2"), ("flags", "<u2"), ("instrument", "<u4"),
    ("exchange_time", "<i8"), ("receive_time", "<i8"),
    ("w32", "<u8"), ("w40", "<u8"), ("w48", "<u8"), ("w56", "<u8"),
])
KINDS = {1: "add", 2: "execute", 3: "cancel", 4: "delete", 5: "replace", 6: "trade", 7: "top", 8: "directory",
         9: "status", 10: "gap", 11: "eos"}


def market_array(ring):
    """Structured numpy array of a market ring's records (64-byte layout of Messages.swift)."""
    assert ring.records.shape[1] == 64, "market records are 64 bytes"
    return np.ascontiguousarray(ring.records).view(MARKET_DTYPE).ravel()


def market_frame(ring):
    """pandas DataFrame of a market ring, with the order-event fields decoded (price in 1e-4)."""
    import pandas as pd
    a = market_array(ring)
    df = pd.DataFrame({k: a[k] for k in MARKET_DTYPE.names})
    df["kind_name"] = df["kind"].map(KINDS)
    order = df["kind"].isin([1, 2, 3, 4, 6])
    df["order_id"] = np.where(order, a["w32"], 0)
    df["price"] = np.where(order, a["w40"].view("<i8"), 0)
    df["quantity"] = np.where(order, (a["w48"] & 0xFFFFFFFF), 0)
    df["side"] = np.where(order, ((a["w48"] >> 32) & 0xFF), 0)
    return df


# ---- A strategy's ring `decisions.<name>` (Docs/JOURNAL.md, "Records in a strategy's ring"): records of
# several kinds (u16 at byte 8) in one sequence, all starting with the 56-byte record header.
RECORD_KINDS = {100: "decision", 101: "control", 102: "order", 103: "order_event", 104: "fill", 105: "risk"}
HEADER_FIELDS = [("sequence", "<u8", 0), ("kind", "<u2", 8), ("flags", "<u2", 10), ("layout_version", "<u1", 15),
                 ("market_sequence", "<u8", 16), ("exchange_time", "<i8", 24), ("instrument", "<u4", 32),
                 ("receive_time", "<i8", 40), ("publish_time", "<i8", 48)]
# Decision record, layout version 2 (byte 15 = 2).
DECISION_FIELDS = HEADER_FIELDS + [
    ("feature_count", "<u2", 12), ("signal", "<i1", 14), ("canary_percent", "<u1", 36),
    ("live_prediction", "<f8", 56), ("shadow_prediction", "<f8", 64), ("canary_prediction", "<f8", 72),
    ("model_id", "<u8", 80), ("shadow_model_id", "<u8", 88), ("canary_model_id", "<u8", 96)]
DECISION_FEATURES = 112
# Layout version 1 (byte 15 = 0): no canary, model ids at 72 and 80, features at 96, flags bit 0 = shadow.
DECISION_V1 = dict(live_prediction=56, shadow_prediction=64, model_id=72, shadow_model_id=80, features=96)
FLAG_SHADOW, FLAG_CANARY, FLAG_ACTED, FLAG_LIVE, FLAG_PAUSED = 1, 2, 4, 8, 16
# Control record (kind 101), layout version 1.
CONTROL_FIELDS = HEADER_FIELDS + [
    ("verb_code", "<u1", 12), ("role_code", "<u1", 13), ("canary_percent", "<u1", 14),
    ("rejection_code", "<u4", 32), ("command_publish_time", "<i8", 40), ("command_id", "<u8", 56),
    ("live_model_id", "<u8", 64), ("shadow_model_id", "<u8", 72), ("canary_model_id", "<u8", 80)]
CONTROL_VERSIONS = [("live_version", 88), ("shadow_version", 120), ("canary_version", 152)]
CONTROL_MESSAGE, CONTROL_MESSAGE_SIZE = 184, 72
VERBS = {1: "load", 2: "canary", 3: "promote", 4: "demote", 5: "rollback", 6: "pause", 7: "resume"}
ROLES = {0: "", 1: "live", 2: "shadow", 3: "canary"}
REJECTIONS = {0: "", 1: "unloadable", 2: "feature-mismatch", 3: "empty-role", 4: "malformed", 5: "no-registry"}


# Execution records (kinds 102-105), layout version 1: the order, the exchange's answer, the fill, the
# risk check's event. Each table: (column, numpy type, offset) after the 56-byte header.
ORDER_FIELDS = HEADER_FIELDS + [
    ("order_id", "<u8", 56), ("price", "<i8", 64), ("quantity", "<u4", 72), ("side_code", "<u1", 76),
    ("action_code", "<u1", 77), ("tif_code", "<u1", 78), ("policy_reason_code", "<u1", 79),
    ("sent_time", "<i8", 80), ("arrival_time", "<i8", 88), ("acting_model_id", "<u8", 96)]
ORDER_EVENT_FIELDS = HEADER_FIELDS + [
    ("order_id", "<u8", 56), ("event_code", "<u1", 64), ("reason_code", "<u1", 65), ("fee", "<f8", 72),
    ("quantity", "<u4", 80), ("event_time", "<i8", 88)]
FILL_FIELDS = HEADER_FIELDS + [
    ("order_id", "<u8", 56), ("price", "<i8", 64), ("quantity", "<u4", 72), ("side_code", "<u1", 76),
    ("liquidity_code", "<u1", 77), ("fee", "<f8", 80), ("position_after", "<i8", 88), ("cash_after", "<f8", 96),
    ("remaining", "<u4", 104), ("fill_time", "<i8", 112)]
RISK_FIELDS = HEADER_FIELDS + [
    ("code_value", "<u1", 56), ("value", "<f8", 64), ("limit", "<f8", 72), ("order_id", "<u8", 80)]
SIDES = {0x42: "B", 0x53: "S"}
ACTIONS = {1: "new", 2: "cancel"}
TIFS = {1: "DAY", 2: "IOC"}
POLICY_REASONS = {0: "", 1: "join", 2: "cross", 3: "quote", 4: "flat", 5: "opposite", 6: "lifetime", 7: "paused"}
ORDER_EVENTS = {1: "ack", 2: "reject", 3: "cancelled", 4: "cancel_rejected"}
REJECT_REASONS = {0: "", 1: "unknown_instrument", 2: "zero_quantity", 3: "bad_price", 4: "duplicate_id",
                  5: "too_late", 6: "unknown_order", 7: "capacity", 8: "ioc", 9: "cancel",
                  10: "bad_id"}
LIQUIDITY = {1: "maker", 2: "taker"}
RISK_CODES = {1: "refused:max_position", 2: "refused:max_orders", 3: "refused:paused", 4: "paused:max_loss",
              5: "resumed"}


def _field(r, dt, off):
    size = np.dtype(dt).itemsize
    return r[:, off:off + size].copy().view(dt).ravel()


def record_kinds(ring):
    """The kind (u16 at byte 8) of every record of a strategy's ring."""
    return _field(np.ascontiguousarray(ring.records), "<u2", 8)


def _of_kind(ring, kind):
    r = np.ascontiguousarray(ring.records)
    return r[record_kinds(ring) == kind]


def decision_frame(ring):
    """pandas DataFrame of the decision records (kind 100) of a strategy's ring, layout 2 and layout 1
    (told apart by byte 15: 2 or 0), with the role bits as boolean columns (`has_live`, `has_shadow`,
    `has_canary`, `canary_acted`, `paused`), `acting_model_id` (the canary's where the instrument was
    routed to it) and the features as f0..fN (NaN past the record's feature count). Records of other
    kinds are left out: see `control_frame` and `other_records_frame`."""
    import pandas as pd
    r = _of_kind(ring, 100)
    cols = {name: _field(r, dt, off) for name, dt, off in DECISION_FIELDS}
    v1 = cols["layout_version"] == 0
    if v1.any():
        for name in ("live_prediction", "shadow_prediction"):
            cols[name] = np.where(v1, _field(r, "<f8", DECISION_V1[name]), cols[name])
        for name in ("model_id", "shadow_model_id"):
            cols[name] = np.where(v1, _field(r, "<u8", DECISION_V1[name]), cols[name])
        cols["canary_prediction"] = np.where(v1, np.nan, cols["canary_prediction"])
        cols["canary_model_id"] = np.where(v1, np.uint64(0), cols["canary_model_id"])
        cols["canary_percent"] = np.where(v1, np.uint8(0), cols["canary_percent"])
    flags = cols["flags"]
    cols["has_live"] = v1 | ((flags & FLAG_LIVE) != 0)
    cols["has_shadow"] = (flags & FLAG_SHADOW) != 0
    cols["has_canary"] = ~v1 & ((flags & FLAG_CANARY) != 0)
    cols["canary_acted"] = ~v1 & ((flags & FLAG_ACTED) != 0)
    cols["paused"] = ~v1 & ((flags & FLAG_PAUSED) != 0)
    cols["acting_model_id"] = np.where(cols["canary_acted"], cols["canary_model_id"], cols["model_id"])
    slot = r.shape[1]
    nfeat = max(0, (slot - DECISION_V1["features"]) // 8)
    count = cols["feature_count"].astype(np.int64)
    for i in range(nfeat):
        v2 = _field(r, "<f8", DECISION_FEATURES + 8 * i) if DECISION_FEATURES + 8 * i + 8 <= slot \
            else np.full(len(r), np.nan)
        old = _field(r, "<f8", DECISION_V1["features"] + 8 * i)
        cols[f"f{i}"] = np.where(i < count, np.where(v1, old, v2), np.nan)
    return pd.DataFrame(cols)


def control_frame(ring):
    """pandas DataFrame of the control records (kind 101) of a strategy's ring: the command applied or
    rejected (`command_id`, `verb`, `role`, `applied`, `rejection`), the first market sequence processed
    under the new state (`first_market_sequence`), the roles after it (model ids, version ids as 64 hex
    digits or "" when empty, `canary_percent`, `paused`) and `message` (why it was rejected)."""
    import pandas as pd
    r = _of_kind(ring, 101)
    cols = {name: _field(r, dt, off) for name, dt, off in CONTROL_FIELDS}
    cols["first_market_sequence"] = cols.pop("market_sequence")
    cols["verb"] = [VERBS.get(int(v), f"command{int(v)}") for v in cols["verb_code"]]
    cols["role"] = [ROLES.get(int(v), f"role{int(v)}") for v in cols["role_code"]]
    cols["applied"] = (cols["flags"] & 1) != 0
    cols["paused"] = (cols["flags"] & 2) != 0
    cols["rejection"] = [REJECTIONS.get(int(v), str(int(v))) for v in cols["rejection_code"]]
    for name, off in CONTROL_VERSIONS:
        cols[name] = ["" if not row[off:off + 32].any() else bytes(row[off:off + 32]).hex() for row in r]
    cols["message"] = [bytes(row[CONTROL_MESSAGE:CONTROL_MESSAGE + CONTROL_MESSAGE_SIZE]).split(b"\0", 1)[0]
                       .decode("utf-8", "replace") for row in r]
    return pd.DataFrame(cols)


def _named(codes, names, prefix):
    return [names.get(int(v), f"{prefix}{int(v)}") for v in codes]


def _execution_columns(ring, kind, fields):
    r = _of_kind(ring, kind)
    return {name: _field(r, dt, off) for name, dt, off in fields}


def order_frame(ring):
    """pandas DataFrame of the order records (kind 102): `order_id`, `price` (1e-4), `quantity`, `side`
    ("B"/"S"), `action` ("new"/"cancel"), `tif` ("DAY"/"IOC"), `policy_reason` ("join", "cross", "quote",
    "flat", "opposite", "lifetime", "paused"; "" for none), `sent_time`, `arrival_time`, `acting_model_id`,
    with the header columns and the raw codes (`side_code`, `action_code`, ...)."""
    import pandas as pd
    cols = _execution_columns(ring, 102, ORDER_FIELDS)
    cols["side"] = _named(cols["side_code"], SIDES, "?")
    cols["action"] = _named(cols["action_code"], ACTIONS, "action")
    cols["tif"] = _named(cols["tif_code"], TIFS, "tif")
    cols["policy_reason"] = _named(cols["policy_reason_code"], POLICY_REASONS, "reason")
    return pd.DataFrame(cols)


def order_event_frame(ring):
    """pandas DataFrame of the order event records (kind 103): `order_id`, `event` ("ack", "reject",
    "cancelled", "cancel_rejected"), `reason` (the reject reason, "" for none), `fee` (dollars),
    `quantity`, `event_time` (the exchange event's time; the header's times are when the strategy saw it)."""
    import pandas as pd
    cols = _execution_columns(ring, 103, ORDER_EVENT_FIELDS)
    cols["event"] = _named(cols["event_code"], ORDER_EVENTS, "event")
    cols["reason"] = _named(cols["reason_code"], REJECT_REASONS, "reason")
    return pd.DataFrame(cols)


def fill_frame(ring):
    """pandas DataFrame of the fill records (kind 104): `order_id`, `price` (1e-4), `quantity`, `side`,
    `liquidity` ("maker"/"taker"), `fee`, `position_after` (shares, the instrument), `cash_after`
    (dollars, all instruments), `remaining`, `fill_time` (exchange time of the fill)."""
    import pandas as pd
    cols = _execution_columns(ring, 104, FILL_FIELDS)
    cols["side"] = _named(cols["side_code"], SIDES, "?")
    cols["liquidity"] = _named(cols["liquidity_code"], LIQUIDITY, "liquidity")
    return pd.DataFrame(cols)


def risk_frame(ring):
    """pandas DataFrame of the risk records (kind 105): `code` ("refused:max_position",
    "refused:max_orders", "refused:paused", "paused:max_loss", "resumed"), `code_value`, `value` (what was
    checked), `limit`, `order_id` (the refused order, 0 when none)."""
    import pandas as pd
    cols = _execution_columns(ring, 105, RISK_FIELDS)
    cols["code"] = _named(cols["code_value"], RISK_CODES, "code")
    return pd.DataFrame(cols)


EXECUTION_FRAMES = (("order", order_frame), ("order_event", order_event_frame), ("fill", fill_frame),
                    ("risk", risk_frame))


def execution_records(ring):
    """Every execution record (kinds 102-105) of a strategy's ring as a dict of named fields (the columns
    of its frame, plus `kind_name`), in ring order."""
    rows = []
    for name, frame in EXECUTION_FRAMES:
        for row in frame(ring).to_dict("records"):
            row["kind_name"] = name
            rows.append(row)
    return sorted(rows, key=lambda r: int(r["sequence"]))


def other_records_frame(ring):
    """pandas DataFrame of the records of a strategy's ring of a kind this reader does not decode (not
    100 to 105): their header fields and `kind_name` ("unknown" for a kind no build defines)."""
    import pandas as pd
    kinds = record_kinds(ring)
    r = np.ascontiguousarray(ring.records)[(kinds < 100) | (kinds > 105)]
    cols = {name: _field(r, dt, off) for name, dt, off in HEADER_FIELDS}
    cols["kind_name"] = [RECORD_KINDS.get(int(k), "unknown") for k in cols["kind"]]
    return pd.DataFrame(cols)


def _text(v):
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return "-" if v == "" else str(v)


def dump(ring, out=sys.stdout):
    """Prints every record of a strategy's ring in ring order as
    `decision|control|order|order_event|fill|risk|record k=v …`, the columns of its frame (floats as repr,
    empty text as `-`; a control record's message last, as the rest of the line)."""
    rows = [(int(row["sequence"]), row.pop("kind_name"), row) for row in execution_records(ring)]
    for frame, tag in ((decision_frame(ring), "decision"), (control_frame(ring), "control"),
                       (other_records_frame(ring), "record")):
        for row in frame.to_dict("records"):
            rows.append((int(row["sequence"]), tag, row))
    for _, tag, row in sorted(rows, key=lambda x: x[0]):
        message = row.pop("message", None)
        parts = [f"{k}={_text(v)}" for k, v in row.items()]
        if message is not None:
            parts.append(f"message={message}")
        print(tag + " " + " ".join(parts), file=out)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not args:
        print(__doc__)
        return 2
    directory = args[0]
    rings = [args[1]] if len(args) > 1 else sorted(segments(directory))
    bad = 0
    for name in rings:
        ring = read_ring(directory, name)
        lost = sum(c for _, c in ring.gaps)
        status = f"sealed reason={ring.seal['reason']}" if ring.stop is None else f"stopped {ring.stop}"
        print(f"ring={name} records={len(ring.records)} gaps={len(ring.gaps)} lost={lost} {status}")
        bad += ring.stop is not None
        schema = ring.header["schema"] if ring.header else None
        if schema == "decisions" and "--dump" in sys.argv:
            dump(ring)
        elif schema == "market" and len(ring.records):
            print(market_frame(ring).head(5).to_string())
        elif schema == "decisions" and len(ring.records):
            d, c = decision_frame(ring), control_frame(ring)
            e = {tag: len(frame(ring)) for tag, frame in EXECUTION_FRAMES}
            other = len(ring.records) - len(d) - len(c) - sum(e.values())
            print(f"decisions={len(d)} control={len(c)} orders={e['order']} order_events={e['order_event']} "
                  f"fills={e['fill']} risk={e['risk']} other={other}")
            print(d.head(5).to_string())
            if len(c):
                print(c.to_string())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
