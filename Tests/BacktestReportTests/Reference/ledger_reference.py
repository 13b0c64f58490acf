#!/usr/bin/env python3
"""Independent reference for BacktestLedger (Docs/EXECUTION.md, "report.json"): reads the event
list a test wrote, recomputes everything from the documented definitions with plain lists and
numpy (no streaming), prints JSON.

Events, one per line:  M,t,inst,mid | D,t,inst,seq,mid,signal,latency | O,t,id,inst,side,qty,mid
                       C,t,id | F,t,id,inst,side,price,qty,fee,remaining | E,t,id,kind,fee
"""
import json
import sys

import numpy as np

HORIZON = int(sys.argv[2])
events = [line.strip().split(",") for line in open(sys.argv[1]) if line.strip()]

trade_cash = 0           # 1e-4 dollars, exact
fees = 0.0
pos, mid, avg = {}, {}, {}
realized = 0.0
turnover = 0.0
samples = []             # (t, pnl) after every mark, decision, fill, fee
rows = []                # pnl.csv
orders = {}
ordered = filled = nfills = norders = 0
slip_sum, slip_shares = 0.0, 0


def pnl():
    return (trade_cash + sum(pos[i] * mid.get(i, 0) for i in pos)) / 1e4 - fees


for k, e in enumerate(events):
    kind, t = e[0], int(e[1])
    if kind == "M":
        inst, m = int(e[2]), int(e[3])
        mid[inst] = m
        pos.setdefault(inst, 0)
        samples.append((t, pnl()))
    elif kind == "D":
        inst, seq, m = int(e[2]), int(e[3]), int(e[4])
        pos.setdefault(inst, 0)
        if m > 0:
            mid[inst] = m
        samples.append((t, pnl()))
        rows.append((t, seq, inst, pos[inst], trade_cash / 1e4 - fees, fees, m, pnl()))
    elif kind == "O":
        norders += 1
        ordered += int(e[5])
        orders[int(e[2])] = (e[4], int(e[6]))
    elif kind == "F":
        oid, inst, side, price, q, fee = int(e[2]), int(e[3]), e[4], int(e[5]), int(e[6]), float(e[7])
        s = q if side == "B" else -q
        p0 = pos.get(inst, 0)
        if inst not in mid or mid[inst] == 0:
            mid[inst] = price
        if p0 == 0 or (p0 > 0) == (s > 0):
            avg[inst] = (avg.get(inst, 0.0) * abs(p0) + price * q) / (abs(p0) + q)
        else:
            closing = min(q, abs(p0))
            realized += closing * (price - avg[inst]) * (1 if p0 > 0 else -1) / 1e4
            if q > closing:
                avg[inst] = float(price)
            elif closing == abs(p0):
                avg[inst] = 0.0
        pos[inst] = p0 + s
        trade_cash -= s * price
        fees += fee
        turnover += price * q / 1e4
        nfills += 1
        filled += q
        side0, m0 = orders[oid]
        if m0 > 0:
            slip_sum += (price - m0 if side0 == "B" else m0 - price) * q / 1e4
            slip_shares += q
        samples.append((t, pnl()))
    elif kind == "E":
        fee = float(e[4])
        fees += fee
        if fee != 0:
            samples.append((t, pnl()))

# Drawdown: peak-to-trough of pnl, the peak starting at 0.
series = np.array([p for _, p in samples])
peaks = np.maximum.accumulate(np.concatenate([[0.0], series]))[1:]
max_dd = float(np.max(peaks - series)) if len(series) else 0.0

# Sharpe: the last pnl of each clock minute, every minute from the first to the last.
last_in_minute = {}
for t, p in samples:
    last_in_minute[t // 60_000_000_000] = p
first, last = min(last_in_minute), max(last_in_minute)
closes, cur = [], 0.0
for m in range(first, last + 1):
    cur = last_in_minute.get(m, cur)
    closes.append(cur)
changes = np.diff(np.concatenate([[0.0], closes]))
sharpe = None
if len(changes) >= 2 and np.std(changes, ddof=1) > 0:
    sharpe = float(np.mean(changes) / np.std(changes, ddof=1) * np.sqrt(252 * 390))

# Hit rate: sign of the move to the first mark of the instrument at or after t + horizon.
hits = misses = 0
for k, e in enumerate(events):
    if e[0] != "D" or int(e[5]) == 0 or int(e[4]) <= 0:
        continue
    t, inst, m0, sig = int(e[1]), int(e[2]), int(e[4]), int(e[5])
    for f in events[k + 1:]:
        if f[0] == "M" and int(f[2]) == inst and int(f[1]) >= t + HORIZON:
            move = int(f[3]) - m0
            if move != 0:
                hits += (move > 0) == (sig > 0)
                misses += (move > 0) != (sig > 0)
            break

unrealized = sum(pos[i] * (mid[i] - avg.get(i, 0.0)) / 1e4 for i in pos if pos[i] != 0)
print(json.dumps({
    "pnl": pnl(), "realized": realized, "unrealized": unrealized, "fees": fees,
    "cash": trade_cash / 1e4 - fees, "max_drawdown": max_dd, "sharpe": sharpe,
    "sharpe_buckets": len(changes), "orders": norders, "ordered_shares": ordered, "fills": nfills,
    "filled_shares": filled, "fill_rate": filled / ordered if ordered else None,
    "slippage": slip_sum / slip_shares if slip_shares else None, "hits": hits, "signals": hits + misses,
    "turnover": turnover, "rows": rows,
}))
