"""Recomputes a backtest's P&L from its fills.csv and orders.csv and the last mid of LOBSTER's
own order-book file, independently of the Swift ledger, and compares it with report.json.

usage: backtest_pnl_check.py OUT_DIR ORDERBOOK.csv   (prints `ok pnl=…` or the difference; exit 1)
"""
import csv
import json
import sys

out, orderbook = sys.argv[1], sys.argv[2]
side = {}
with open(f"{out}/orders.csv") as f:
    for row in csv.DictReader(f):
        if row["action"] == "new":
            side[row["id"]] = 1 if row["side"] == "B" else -1
cash = 0.0
fees = 0.0
position = 0
for row in csv.DictReader(open(f"{out}/fills.csv")):
    s = side[row["order_id"]]
    q = int(row["qty"])
    fee = float(row["fee"])
    cash += -s * int(row["price"]) * q / 1e4 - fee
    fees += fee
    position += s * q
with open(orderbook) as f:
    last = None
    for line in f:
        last = line
ask, bid = int(last.split(",")[0]), int(last.split(",")[2])
mid = (ask + bid) // 2
pnl = cash + position * mid / 1e4
report = json.load(open(f"{out}/report.json"))
problems = []
if abs(report["pnl"] - pnl) > 1e-6 * max(1.0, abs(pnl)):
    problems.append(f"pnl: report {report['pnl']} recomputed {pnl}")
if abs(report["fees"] - fees) > 1e-9:
    problems.append(f"fees: report {report['fees']} recomputed {fees}")
if report["filled_shares"] != sum(int(r["qty"]) for r in csv.DictReader(open(f"{out}/fills.csv"))):
    problems.append("filled_shares")
if problems:
    print("; ".join(problems))
    sys.exit(1)
print(f"ok pnl={pnl} position={position} fills={report['fills']}")
