#!/usr/bin/env python3
"""Builds the seed corpus of one fuzz target at fuzz time (Docs/FUZZING.md).

    python3 Fuzz/make_corpus.py TARGET OUTDIR

Seeds come from the committed synthetic seeds (Fuzz/seeds/TARGET), the repository's fixtures
(Tests/ModelsTests/Fixtures, Recordings/, Tools/strategy) and the real samples in ../shared/data
(ITCH 5.0, LOBSTER), cut into small pieces here. Nothing of ../shared/data is ever written into
the repository: OUTDIR is under .build-fuzz.
"""
import gzip
import hashlib
import os
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")
SEP = b"TBFUZZ\x00\x01"  # FuzzInput.separator


def put(out, data, name=None):
    name = name or hashlib.sha1(data).hexdigest()
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def committed(target, out):
    d = os.path.join(ROOT, "Fuzz", "seeds", target)
    if os.path.isdir(d):
        for n in sorted(os.listdir(d)):
            p = os.path.join(d, n)
            if os.path.isfile(p):
                put(out, read(p))


def fixtures(out, suffixes, dirs=("Tests/ModelsTests/Fixtures", "Recordings/synthetic-5", "Tools/strategy"), prefix=""):
    for d in dirs:
        d = os.path.join(ROOT, d)
        if not os.path.isdir(d):
            continue
        for n in sorted(os.listdir(d)):
            if n.startswith(prefix) and n.endswith(suffixes):
                put(out, read(os.path.join(d, n)))


def itch_frames(data):
    frames, at = [], 0
    while at + 2 <= len(data):
        n = struct.unpack_from(">H", data, at)[0]
        if n == 0 or at + 2 + n > len(data):
            break
        frames.append(data[at:at + 2 + n])
        at += 2 + n
    return frames


def itch_samples():
    d = os.path.join(SHARED, "itch50")
    if not os.path.isdir(d):
        return []
    return [itch_frames(read(os.path.join(d, n))) for n in sorted(os.listdir(d)) if n.endswith(("ITCH50", ".itch"))]


def lobster_pairs():
    d = os.path.join(SHARED, "lobster")
    if not os.path.isdir(d):
        return []
    pairs = []
    for n in sorted(os.listdir(d)):
        if "_message_" in n and n.endswith(".csv"):
            b = n.replace("_message_", "_orderbook_")
            if os.path.exists(os.path.join(d, b)):
                pairs.append((os.path.join(d, n), os.path.join(d, b)))
    return pairs


def head_lines(path, start, count):
    out = []
    with open(path, "rb") as f:
        for i, line in enumerate(f):
            if i >= start + count:
                break
            if i >= start:
                out.append(line)
    return b"".join(out)


# ---- journal: a writer of the format in Docs/JOURNAL.md (independent of Sources/Journal)
def crc32c(data, crc=0):
    table = crc32c.table
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


crc32c.table = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    crc32c.table.append(c)


def journal_header(segment, first, ring=b"market", slot=64, max_block=8192, flags=0, seek=0):
    h = bytearray(4096)
    struct.pack_into("<QIIIII", h, 0, 0x4C4E52554F4A4254, 1, 4096, 1, slot, segment)
    struct.pack_into("<IQQQII", h, 28, 4096, first, 1_700_000_000_000_000_000, 7, max_block, 0)
    h[64:64 + len(ring)] = ring
    h[128:128 + 4] = b"fuzz"
    struct.pack_into("<I", h, 252, crc32c(bytes(h[:252])))
    struct.pack_into("<Q", h, 4080, seek)
    h[4088] = flags
    return h


def journal_block(kind, number, first, nxt, payload, count, t0=0, t1=0):
    head = bytearray(64)
    struct.pack_into("<IHHQIIQQqq", head, 0, 0x424A4254, kind, 64, number, len(payload), count, first, nxt, t0, t1)
    struct.pack_into("<I", head, 60, crc32c(bytes(head[:60]) + payload))
    block = bytes(head) + payload
    return block + b"\0" * (-len(block) % 4096)


def market_record(seq, t):
    r = bytearray(64)
    struct.pack_into("<QHHIqq", r, 0, seq, 1, 0, 1, t, t + 5)
    struct.pack_into("<QqIB", r, 32, seq + 1, 1_000_000 + seq * 100, 100, 0x42)
    return bytes(r)


def journal(out, records=20, per_block=8, gap_at=None, rotate_at=None, flags=0, seek=0):
    """Segment files of ring market (rotating after `rotate_at` blocks) and the index, packed."""
    segments, index = [bytearray(journal_header(0, 0, flags=flags, seek=seek))], []
    seq, block_no, blocks_in_segment = 0, 0, 0
    while seq < records:
        payload, first = b"", seq
        for _ in range(per_block):
            if seq >= records:
                break
            if gap_at is not None and seq == gap_at:
                g = bytearray(64)
                struct.pack_into("<QQ", g, 0, (1 << 63) | seq, 3)
                payload += bytes(g)
                seq += 3
            else:
                payload += market_record(seq, 1000 * seq)
                seq += 1
        index.append((len(segments) - 1, len(segments[-1]), block_no, first, 1000 * first))
        segments[-1] += journal_block(1, block_no, first, seq, payload, len(payload) // 64, 1000 * first, 1000 * seq)
        block_no += 1
        blocks_in_segment += 1
        if rotate_at and blocks_in_segment == rotate_at and seq < records:
            seal = struct.pack("<QQQQI", seq, 0, 0, seq, 4) + b"\0" * 28
            segments[-1] += journal_block(2, block_no, seq, seq, seal, 0)
            block_no += 1
            segments.append(bytearray(journal_header(len(segments), seq)))
            blocks_in_segment = 0
    seal = struct.pack("<QQQQI", records, 1 if gap_at is not None else 0, 3 if gap_at is not None else 0, seq, 1) + b"\0" * 28
    segments[-1] += journal_block(2, block_no, seq, seq, seal, 0)
    idx = struct.pack("<QIIII", 0x5845444E494A4254, 1, len(index), 64, 1) + b"\0" * 40
    for e in index:
        idx += struct.pack("<IIQQQq", e[0], 0, e[1], e[2], e[3], e[4])
    idx += struct.pack("<I", crc32c(idx))
    parts = [bytes(segments[0]), idx] + ([bytes(segments[1])] if len(segments) > 1 else [])
    put(out, SEP.join(parts))


def segment_file(out, capacity=4, slot=64, published=3, schema=1):
    h = bytearray(12288 + capacity * slot)
    # magic "TKBUSSEG", version, slot size, capacity, slots offset, file size, schema, reader entries, pid, flags, generation
    struct.pack_into("<QIIQQQIIiIQ", h, 0, 0x4745535355424B54, 1, slot, capacity, 12288, len(h), schema, 64, 1, 0, 1)
    h[64:70] = b"market"
    struct.pack_into("<QQI", h, 256, published, 0, 1)
    for s in range(capacity):
        struct.pack_into("<Q", h, 12288 + s * slot, 0xFFFFFFFFFFFFFFFF)
    for s in range(published):
        at = 12288 + (s % capacity) * slot
        h[at:at + 64] = market_record(s, s * 10)
    put(out, bytes(h))


# ---- control: writers of the command slot and the control record (ControlRecords.swift's diagrams)
def text(s, size):
    b = s.encode()[:size]
    return b + b"\0" * (size - len(b))


def control_command(seq, verb, cmd_id, role=0, percent=0, version=b"", runtime=0, strategy="", issuer="ops",
                    reason="why", publish=0, submit=0):
    c = bytearray(256)
    struct.pack_into("<QHBBBB", c, 0, seq, 1, verb, role, percent, 1)
    struct.pack_into("<QQqq", c, 16, cmd_id, runtime, publish, submit)
    c[48:80] = version.ljust(32, b"\0")
    c[80:112] = text(strategy, 32)
    c[112:144] = text(issuer, 32)
    c[144:256] = text(reason, 112)
    return bytes(c)


def control_record(seq, verb, cmd_id, applied=True, rejection=0, message="", first=7, live=b"", canary=b"", percent=0):
    r = bytearray(256)
    struct.pack_into("<QHHBBBB", r, 0, seq, 101, 1 if applied else 0, verb, 1, percent, 1)
    struct.pack_into("<QqIIqq", r, 16, first, 1_700_000_000, rejection, 0, 5, 9)
    struct.pack_into("<QQQQ", r, 56, cmd_id, 0x1234, 0, 0x5678 if canary else 0)
    r[88:120] = live.ljust(32, b"\0")
    r[152:184] = canary.ljust(32, b"\0")
    r[184:256] = text(message, 72)
    return bytes(r)


def mold_packet(session, seq, frames):
    return session + struct.pack(">QH", seq, len(frames) if frames is not None else 0xFFFF) + b"".join(frames or [])


def mold_stream(packets):
    return b"".join(struct.pack(">H", len(p)) + p for p in packets)


def parquet_seeds(out):
    """Small files from pyarrow (an independent writer): PLAIN and dictionary pages, ZSTD and none."""
    try:
        import io
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return
    t = pa.table({"i": pa.array([1, None, 3, 3, 3, 3, 3, 3, 3, 9], pa.int64()),
                  "s": pa.array(["a", "b", None, "a", "a", "a", "a", "a", "b", "c"]),
                  "d": pa.array([0.5, float("nan"), None, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]),
                  "b": pa.array([True, False, None, True, True, True, True, False, True, True]),
                  "n": pa.array([7, 8, 9, 10, None, 12, 13, 14, 15, 16], pa.int32())})
    for codec in ("zstd", "none"):
        for dictionary in (True, False):
            buf = io.BytesIO()
            pq.write_table(t, buf, compression=codec, use_dictionary=dictionary, row_group_size=4)
            put(out, buf.getvalue())


def main(target, out):
    os.makedirs(out, exist_ok=True)
    committed(target, out)
    if target == "itch":
        for frames in itch_samples():
            put(out, b"".join(frames))
            for k in range(0, len(frames), 100):
                put(out, b"".join(frames[k:k + 100]))
            put(out, gzip.compress(b"".join(frames[:50]), mtime=0))
    elif target == "moldudp64":
        session = b"TICKBUS001"
        for frames in itch_samples():
            seq, packets = 1, []
            for k in range(0, 60, 6):
                packets.append(mold_packet(session, seq, frames[k:k + 6]))
                seq += 6
            put(out, mold_stream(packets + [mold_packet(session, seq, [])] + [mold_packet(session, seq, None)]))
            # A gap (go-back-N), a duplicate, then the retransmission in order.
            put(out, mold_stream([packets[0], packets[2], packets[0], packets[1], packets[2], mold_packet(session, 19, None)]))
            # Another session interleaved.
            put(out, mold_stream([packets[0], mold_packet(b"OTHER00001", 7, frames[6:12]), packets[1]]))
    elif target == "lobster":
        for msg, book in lobster_pairs():
            for start in (0, 1000):
                put(out, head_lines(msg, start, 40) + SEP + head_lines(book, start, 40))
    elif target == "lightgbm":
        # Small models only (Fuzz/seeds: two trees; the 6 KB NaN-split fixture): the 30 to 170 KB
        # fixtures cost milliseconds per execution and are cut at -max_len (Tools/fuzz) anyway.
        fixtures(out, ("lgb_nansplit.txt",))
    elif target == "xgboost":
        pass  # Fuzz/seeds only: the fixtures are 60 to 105 KB
    elif target == "linear":
        fixtures(out, ("linear.json", "model.json"))
    elif target == "onnx":
        fixtures(out, (".onnx",))
    elif target == "features":
        fixtures(out, (".toml",))
    elif target == "journal":
        journal(out)
        journal(out, records=30, gap_at=9)
        journal(out, records=24, per_block=4, rotate_at=3)
        journal(out, records=24, flags=2, seek=13)
        journal(out, records=24, per_block=4, flags=4, seek=9000)
    elif target == "segment":
        segment_file(out)
        segment_file(out, capacity=2, published=5)
        segment_file(out, capacity=8, slot=256, published=0, schema=2)
    elif target == "control-submission":
        pass  # Fuzz/seeds only: one frame per verb
    elif target == "control-command":
        a, b = hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()
        put(out, control_command(0, 1, 1, role=1, version=a, runtime=0xFEED, strategy="alpha", reason="load live"))
        put(out, control_command(1, 1, 2, role=3, version=b, runtime=7, issuer="root (uid 0)", publish=123, submit=1 << 60))
        put(out, control_command(2, 2, 3, percent=30, reason="canary 30%"))
        put(out, control_command(3, 5, 4, version=a, runtime=0xFEED, reason="rollback \u00e9\u20ac" * 20))
        for verb in (3, 4, 6, 7):
            put(out, control_command(4 + verb, verb, 10 + verb))
        put(out, control_record(5, 1, 1, live=a))
        put(out, control_record(6, 2, 3, applied=False, rejection=3, message="no canary loaded", percent=30))
        put(out, control_record(7, 1, 2, canary=b, percent=30))
    elif target == "parquet":
        committed(target, out)
        parquet_seeds(out)
    elif target in ("tickbus-moldudp64", "moldudp64-request"):
        pass  # Fuzz/seeds only: hand-built packets and requests of `tickbus republish`
    elif target == "order-csv":
        pass  # Fuzz/seeds only: hand-written order files (every refusal kind, cancels, ties)
    elif target == "execution-file":
        pass  # Fuzz/seeds only: hand-written execution files (every key, quote limits, extremes)
    elif target == "drift-baseline":
        pass  # Fuzz/seeds only: written by `tickbus drift baseline` (Docs/FUZZING.md)
    elif target == "drift-policy":
        pass  # Fuzz/seeds only: hand-written policies (every key, edges, lists, refusals)
    elif target in ("registry-manifest", "alias-log", "snapshot-manifest"):
        pass  # Fuzz/seeds only: written by `tickbus registry` (Docs/FUZZING.md)
    else:
        sys.exit("make_corpus: unknown target " + target)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
