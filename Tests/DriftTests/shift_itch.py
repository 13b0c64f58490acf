#!/usr/bin/env python3
"""A regime shift at a known point of an ITCH 5.0 BinaryFILE (the drift monitor's end-to-end test).

    python3 shift_itch.py IN OUT FROM FACTOR

From message index FROM on, every order added (A, F) or replaced in (U) has FACTOR times its
shares, and so do the executions (E, C) and cancels (X) of those orders and the non-displayed
trades (P): the book stays consistent (an order scaled at its add is executed and cancelled in
the same scale), while order sizes, and so order-flow imbalance, change distribution at FROM.
"""
import struct
import sys


def main(src, dst, start, factor):
    data = open(src, "rb").read()
    out = bytearray()
    scaled = set()
    i = k = 0
    while i < len(data):
        n = struct.unpack(">H", data[i:i + 2])[0]
        m = bytearray(data[i + 2:i + 2 + n])
        t = chr(m[0])

        def scale(off):
            v = struct.unpack(">I", m[off:off + 4])[0]
            m[off:off + 4] = struct.pack(">I", min(v * factor, 0xFFFFFFFF))

        if k >= start:
            if t in "AF":
                scaled.add(bytes(m[11:19]))
                scale(20)
            elif t == "U":
                scaled.add(bytes(m[19:27]))
                scale(27)
            elif t in "EXC" and bytes(m[11:19]) in scaled:
                scale(19)
            elif t == "P":
                scale(20)
        out += struct.pack(">H", n) + m
        i += 2 + n
        k += 1
    open(dst, "wb").write(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
