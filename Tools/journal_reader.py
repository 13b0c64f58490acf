#!/usr/bin/env python3
"""Read a TickBus journal (Docs/JOURNAL.md) into numpy / pandas.

    from journal_reader import read_ring, market_frame
    ring = read_ring("Recordings/session", "market")     # verifies every block
    df = market_frame(ring)                               # one row per market message

    python3 Tools/journal_reader.py DIR [RING]            # prints a summary and the head

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


DECISION_FIELDS = [("sequence", "<u8", 0), ("kind", "<u2", 8), ("flags", "<u2", 10), ("feature_count", "<u2", 12),
                   ("signal", "<i1", 14), ("market_sequence", "<u8", 16), ("exchange_time", "<i8", 24),
                   ("instrument", "<u4", 32), ("receive_time", "<i8", 40), ("publish_time", "<i8", 48),
                   ("live_prediction", "<f8", 56), ("shadow_prediction", "<f8", 64), ("model_id", "<u8", 72),
                   ("shadow_model_id", "<u8", 80)]


def decision_frame(ring):
    """pandas DataFrame of a decisions ring (DecisionRecord.swift layout), features as f0..fN."""
    import pandas as pd
    r = np.ascontiguousarray(ring.records)
    cols = {}
    for name, dt, off in DECISION_FIELDS:
        size = np.dtype(dt).itemsize
        cols[name] = r[:, off:off + size].copy().view(dt).ravel()
    nfeat = (r.shape[1] - 96) // 8
    feats = r[:, 96:96 + 8 * nfeat].copy().view("<f8")
    for i in range(nfeat):
        cols[f"f{i}"] = feats[:, i]
    return pd.DataFrame(cols)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    directory = sys.argv[1]
    rings = [sys.argv[2]] if len(sys.argv) > 2 else sorted(segments(directory))
    bad = 0
    for name in rings:
        ring = read_ring(directory, name)
        lost = sum(c for _, c in ring.gaps)
        status = f"sealed reason={ring.seal['reason']}" if ring.stop is None else f"stopped {ring.stop}"
        print(f"ring={name} records={len(ring.records)} gaps={len(ring.gaps)} lost={lost} {status}")
        bad += ring.stop is not None
        if ring.header and ring.header["schema"] == "market" and len(ring.records):
            print(market_frame(ring).head(5).to_string())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
