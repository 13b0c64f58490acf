#!/usr/bin/env python3
"""An independent reference for `tickbus sim`, written from the rules of issue 13 (Docs/EXECUTION.md,
rules 1-8), not from the Swift code. It reads the market messages of a journal (ring `market`) with
Tools/journal_reader.py, keeps its own book, matches the own orders of an orders.csv and writes
fills.csv and events.csv in the formats of `tickbus sim`.

    reference_sim.py JOURNAL_DIR ORDERS.csv --out fills.csv [--events events.csv]
                     [--latency ORDER_NS,RESPONSE_NS] [--fees maker=M,taker=T,order=O]

The readings the rules leave open, as this file takes them:
- A real order is "ahead" of an own order when its add came at or before the last market message
  processed before the own order's arrival; orders the reference never saw added (LOBSTER seeds,
  refills, orders resting before the file starts) are ahead.
- Levels addressed by price (LOBSTER) hold anonymous liquidity (seeds, refills, orders added before
  the data) and orders whose add was seen (by id). A taker takes the anonymous part of a level first
  (it is older), then the known orders in the order they were added; one fill per level.
- Liquidity taken from anonymous liquidity is remembered per level, at most up to the anonymous
  shares the level still shows when some of them leave, and forgotten when the level leaves the book.
- A level pushed below a LOBSTER file's depth (a truncate) leaves the book with the orders known
  there: the file says nothing of them while they are below its depth.
- Seed and refill adds are not "added" orders: they never fill a resting own order.
- A cancel that finds nothing resting (the order filled, was cancelled, was IOC, was refused, or
  has not arrived yet) is rejected `too_late` (rule 6: "otherwise it is rejected as too late").
"""
import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tools"))
import journal_reader  # noqa: E402

ADD, EXECUTE, CANCEL, DELETE, REPLACE, TRADE, TOP, DIRECTORY, STATUS, GAP, EOS = range(1, 12)
LEVEL, SEED, REFILL, TRUNCATE, EXEC_PRICE, CROSS = 1, 2, 4, 8, 16, 32
BUY, SELL = 0x42, 0x53


class Real:
    """A real order resting in the book: remaining shares, when its add came, shares own orders took."""

    def __init__(self, oid, side, price, remaining, added):
        self.id, self.side, self.price, self.remaining, self.added, self.taken = oid, side, price, remaining, added, 0


class Own:
    """A resting own order."""

    def __init__(self, a, arrival_index, rank):
        self.id, self.inst, self.side, self.price = a["id"], a["inst"], a["side"], a["price"]
        self.remaining, self.arrival_index, self.rank, self.ahead = a["qty"], arrival_index, rank, 0


def better(side, a, b):
    """Price a is better than b for an order of `side` (higher bid, lower ask)."""
    return a > b if side == BUY else a < b


class Reference:
    def __init__(self, latency, fees):
        self.order_ns, self.response_ns = latency
        self.maker, self.taker, self.per_order = fees
        self.levels = {}       # (inst, side, price) -> displayed shares
        self.queue = {}        # (inst, side, price) -> [Real] in add order (orders whose add was seen)
        self.anon_taken = {}   # (inst, side, price) -> shares taken from the level's anonymous liquidity
        self.orders = {}       # (inst, id) -> Real (order-level data)
        self.by_lobster_id = {}  # (inst, side, price, id) -> Real (level-addressed data)
        self.seen = set()      # instruments with a message so far
        self.own = []          # resting own orders
        self.rank = 0          # arrival order
        self.index = -1        # index of the last market message processed
        self.last_seq = 0      # its ring sequence
        self.fills, self.events = [], []
        self.stats = collections.Counter()  # what the run exercised (printed on stderr for the tests)

    # ---- the book
    def displayed(self, key):
        return self.levels.get(key, 0)

    def change_level(self, key, delta):
        v = self.levels.get(key, 0) + delta
        if v > 0:
            self.levels[key] = v
        else:
            self.levels.pop(key, None)
            self.anon_taken.pop(key, None)

    def add_real(self, r, inst):
        key = (inst, r.side, r.price)
        self.queue.setdefault(key, []).append(r)

    def remove_real(self, r, inst):
        key = (inst, r.side, r.price)
        q = self.queue.get(key, [])
        if r in q:
            q.remove(r)

    # ---- own actions (rules 1, 2, 6)
    def arrive(self, a):
        ta = a["time"] + self.order_ns
        if a["action"] == "cancel":
            for o in self.own:
                if o.id == a["id"]:
                    self.own.remove(o)
                    self.events.append((o.id, ta, "cancelled", "cancel", 0.0))
                    return
            self.events.append((a["id"], ta, "cancel_rejected", "too_late", 0.0))
            return
        if a["inst"] not in self.seen:
            self.events.append((a["id"], ta, "reject", "unknown_instrument", 0.0))
            return
        if any(o.id == a["id"] for o in self.own):
            self.events.append((a["id"], ta, "reject", "duplicate_id", 0.0))
            return
        self.events.append((a["id"], ta, "ack", "", self.per_order))
        self.rank += 1
        o = Own(a, self.index, self.rank)
        self.take(o, ta)
        if o.remaining == 0:
            return
        if a["tif"] == "IOC":
            self.events.append((o.id, ta, "cancelled", "ioc", 0.0))
            return
        o.ahead = self.displayed((o.inst, o.side, o.price))
        self.own.append(o)

    def take(self, o, ta):
        """Rule 2: cross the opposite side level by level, anonymous liquidity first, then by add order."""
        opposite = SELL if o.side == BUY else BUY
        prices = sorted(p for (i, s, p) in self.levels if i == o.inst and s == opposite)
        if opposite == BUY:
            prices.reverse()
        for p in prices:
            if o.remaining == 0 or (p > o.price if o.side == BUY else p < o.price):  # past the limit
                break
            key = (o.inst, opposite, p)
            known = self.queue.get(key, [])
            anon = max(0, self.displayed(key) - sum(r.remaining for r in known))
            got = 0
            n = min(o.remaining, max(0, anon - self.anon_taken.get(key, 0)))
            if n:
                self.anon_taken[key] = self.anon_taken.get(key, 0) + n
                got += n
            for r in known:
                n = min(o.remaining - got, max(0, r.remaining - r.taken))
                r.taken += n
                got += n
            if got:
                self.stats["taker_level_fills"] += 1
                o.remaining -= got
                self.fills.append((o.id, ta, self.last_seq, p, got, "taker", self.taker * got))

    # ---- market messages (rules 3, 4, 5)
    def fill_makers(self, eligible, pool, seq, t):
        """Shares `pool` among own orders in price-time priority; returns what was used."""
        eligible.sort(key=lambda o: (-o.price if o.side == BUY else o.price, o.rank))
        if len([o for o in eligible if o.remaining > 0]) > 1 and pool > 0:
            self.stats["shared_events"] += 1
        used = 0
        for o in eligible:
            n = min(o.remaining, pool - used)
            if n == 0:
                continue
            o.remaining -= n
            used += n
            self.fills.append((o.id, t, seq, o.price, n, "maker", self.maker * n))
        self.own = [o for o in self.own if o.remaining > 0]
        return used

    def is_ahead(self, r, o):
        return r is None or r.added <= o.arrival_index

    def leaves(self, inst, side, price, r, q, seq, t, executed):
        """Real order r (None: never seen added) loses q shares at (side, price): cancel, delete,
        replace-away or execution. Depletes `ahead` of every own order it was ahead of; an
        execution fills own orders it was behind, and own orders at better prices (traded through)."""
        eligible = []
        for o in self.own:
            if o.inst != inst or o.side != side:
                continue
            if o.price == price:
                if self.is_ahead(r, o):
                    if o.ahead > 0:
                        self.stats["depleted_by_execution" if executed else "depleted_by_cancel"] += 1
                    o.ahead = max(0, o.ahead - q)
                elif executed:
                    self.stats["filled_behind"] += 1
                    o.ahead = 0
                    eligible.append(o)
            elif executed and better(side, o.price, price):
                self.stats["traded_through"] += 1
                eligible.append(o)
        if eligible:
            self.fill_makers(eligible, q, seq, t)

    def crossing_add(self, inst, r, seq, t):
        """A real order added on the opposite side at a price crossing own orders fills them; taken."""
        own_side = SELL if r.side == BUY else BUY
        eligible = [o for o in self.own if o.inst == inst and o.side == own_side
                    and (o.price >= r.price if own_side == BUY else o.price <= r.price)]
        if eligible:
            self.stats["crossing_adds"] += 1
            r.taken += self.fill_makers(eligible, r.remaining, seq, t)

    def market(self, m, i):
        kind, flags, inst, t, seq = m["kind"], m["flags"], m["inst"], m["time"], m["seq"]
        if kind == EOS:
            return  # the publisher's, not the source's: `tickbus sim` reads the source itself
        self.index, self.last_seq = i, seq
        if kind == GAP:
            return
        self.seen.add(inst)
        if kind in (ADD, EXECUTE, CANCEL, DELETE) and flags & LEVEL:
            self.level_message(kind, flags, inst, m["id"], m["side"], m["price"], m["qty"], seq, t, i)
        elif kind == ADD:
            r = Real(m["id"], m["side"], m["price"], m["qty"], i)
            self.crossing_add(inst, r, seq, t)
            self.orders[(inst, r.id)] = r
            self.add_real(r, inst)
            self.change_level((inst, r.side, r.price), r.remaining)
        elif kind in (EXECUTE, CANCEL, DELETE):
            r = self.orders.get((inst, m["id"]))
            if r is None:
                return  # the feed drops references it does not know; a book would skip them too
            q = r.remaining if kind == DELETE else min(m["qty"], r.remaining)
            self.leaves(inst, r.side, r.price, r, q, seq, t, kind == EXECUTE)
            self.reduce(inst, r, q)
        elif kind == REPLACE:
            r = self.orders.get((inst, m["old"]))
            if r is None:
                return
            self.leaves(inst, r.side, r.price, r, r.remaining, seq, t, False)
            side = r.side
            self.reduce(inst, r, r.remaining)
            n = Real(m["new"], side, m["rprice"], m["rqty"], i)
            self.crossing_add(inst, n, seq, t)
            self.orders[(inst, n.id)] = n
            self.add_real(n, inst)
            self.change_level((inst, side, n.price), n.remaining)

    def reduce(self, inst, r, q):
        r.remaining -= q
        self.change_level((inst, r.side, r.price), -q)
        if r.remaining <= 0:
            self.remove_real(r, inst)
            self.orders.pop((inst, r.id), None)

    def level_message(self, kind, flags, inst, oid, side, price, q, seq, t, i):
        key = (inst, side, price)
        if kind == ADD:
            if flags & (SEED | REFILL):
                self.change_level(key, q)  # anonymous liquidity, ahead of everything
                return
            r = Real(oid, side, price, q, i)
            self.crossing_add(inst, r, seq, t)
            self.by_lobster_id[(inst, side, price, oid)] = r
            self.add_real(r, inst)
            self.change_level(key, q)
            return
        if kind == DELETE and flags & TRUNCATE:
            # The level fell below the file's depth: own orders there keep their `ahead`.
            for r in self.queue.pop(key, []):
                self.by_lobster_id.pop((inst, side, price, r.id), None)
            self.change_level(key, -self.displayed(key))
            return
        r = self.by_lobster_id.get((inst, side, price, oid))
        self.leaves(inst, side, price, r, q, seq, t, kind == EXECUTE)
        if r is not None:
            r.remaining -= q
            if kind == DELETE or r.remaining <= 0:
                self.remove_real(r, inst)
                self.by_lobster_id.pop((inst, side, price, oid), None)
        self.change_level(key, -q)
        if r is None and key in self.anon_taken:
            # Orders never seen added left: what was taken from them stays, up to what they still show.
            anon = max(0, self.displayed(key) - sum(x.remaining for x in self.queue.get(key, [])))
            self.anon_taken[key] = min(self.anon_taken[key], anon)

    def run(self, messages, actions):
        k = 0
        for i, m in enumerate(messages):
            while k < len(actions) and actions[k]["time"] + self.order_ns < m["time"]:
                self.arrive(actions[k])
                k += 1
            self.market(m, i)
        while k < len(actions):
            self.arrive(actions[k])
            k += 1


def read_orders(path):
    """orders.csv (valid files only: the reference is run on files the tests generate)."""
    lines = open(path).read().splitlines()
    assert lines[0] == "id,time_ns,action,instrument,side,price,qty,tif", lines[0]
    out = []
    for n, line in enumerate(lines[1:]):
        f = line.split(",")
        a = dict(id=int(f[0]), time=int(f[1]), action=f[2], n=n)
        if f[2] == "new":
            a.update(inst=int(f[3]), side=BUY if f[4] == "B" else SELL, price=int(f[5]), qty=int(f[6]), tif=f[7])
        out.append(a)
    out.sort(key=lambda a: (a["time"], a["n"]))  # stable: file order within a time
    return out


def read_messages(directory):
    ring = journal_reader.read_ring(directory, "market")
    if ring.stop is not None and ring.seal is None:
        raise SystemExit(f"journal {directory}: {ring.stop}")
    a = journal_reader.market_array(ring)
    cols = {k: a[k].tolist() for k in ("sequence", "kind", "flags", "instrument", "exchange_time", "w32", "w40", "w48", "w56")}
    out = []
    for j in range(len(a)):
        kind, w32, w40, w48, w56 = cols["kind"][j], cols["w32"][j], cols["w40"][j], cols["w48"][j], cols["w56"][j]
        m = dict(seq=cols["sequence"][j], kind=kind, flags=cols["flags"][j], inst=cols["instrument"][j],
                 time=signed(cols["exchange_time"][j]))
        if kind == REPLACE:
            m.update(old=w32, new=w40, rprice=signed(w48), rqty=w56 & 0xFFFFFFFF)
        else:
            m.update(id=w32, price=signed(w40), qty=w48 & 0xFFFFFFFF, side=(w48 >> 32) & 0xFF)
        out.append(m)
    return out


def signed(v):
    v = int(v)
    return v - (1 << 64) if v >= 1 << 63 else v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("journal")
    ap.add_argument("orders")
    ap.add_argument("--out", required=True)
    ap.add_argument("--events")
    ap.add_argument("--latency", default="0,0")
    ap.add_argument("--fees", default="")
    args = ap.parse_args()
    latency = tuple(int(x) for x in args.latency.split(","))
    fees = dict(maker=0.0, taker=0.0, order=0.0)
    for part in filter(None, args.fees.split(",")):
        k, v = part.split("=")
        fees[k] = float(v)
    ref = Reference(latency, (fees["maker"], fees["taker"], fees["order"]))
    ref.run(read_messages(args.journal), read_orders(args.orders))
    with open(args.out, "w") as f:
        f.write("order_id,time_ns,market_sequence,price,qty,liquidity,fee\n")
        for r in ref.fills:
            f.write(",".join(str(x) if not isinstance(x, float) else repr(x) for x in r) + "\n")
    if args.events:
        with open(args.events, "w") as f:
            f.write("order_id,time_ns,event,reason,fee\n")
            for r in ref.events:
                f.write(",".join(str(x) if not isinstance(x, float) else repr(x) for x in r) + "\n")
    late = sum(1 for e in ref.events if e[3] == "too_late")
    partial = len({f[0] for f in ref.fills} & {e[0] for e in ref.events if e[2] == "cancelled"})
    extra = " ".join(f"{k}={ref.stats[k]}" for k in sorted(ref.stats))
    print(f"fills={len(ref.fills)} events={len(ref.events)} late_cancels={late} partial_then_cancelled={partial} {extra}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
