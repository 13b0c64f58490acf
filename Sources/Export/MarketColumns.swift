import Parquet
import TickBusCore

/// The column indices of the market table and how a message fills them: the fields `journal cat`
/// prints for its kind (`MarketMessageView.description`), the others null.
struct MarketColumns {
    let seq, kind, inst, t, id, px, qty, side, match, old, new, bid, bidQty, bidOrders, ask, askQty, askOrders: Int
    let symbol, lot, state, messages, flags, eventTime, receive, gap, from, count: Int
    let midnight: Int64

    init(_ table: ExportTable, midnight: Int64) {
        let c = table.index
        seq = c("seq")
        kind = c("kind")
        inst = c("inst")
        t = c("t")
        id = c("id")
        px = c("px")
        qty = c("qty")
        side = c("side")
        match = c("match")
        old = c("old")
        new = c("new")
        bid = c("bid")
        bidQty = c("bid_qty")
        bidOrders = c("bid_orders")
        ask = c("ask")
        askQty = c("ask_qty")
        askOrders = c("ask_orders")
        symbol = c("symbol")
        lot = c("lot")
        state = c("state")
        messages = c("messages")
        flags = c("flags")
        eventTime = c("event_time")
        receive = c("receive_t")
        gap = c("gap")
        from = c("from")
        count = c("count")
        self.midnight = midnight
    }

    /// The kind as `journal cat` prints it.
    static func kindName(_ k: MessageKind) -> StaticString { k.name }

    @inline(__always)
    func fill(_ w: ParquetWriter, _ m: MarketMessageView) {
        w.uint64(seq, m.sequence)
        w.uint32(inst, m.instrument)
        let time = m.exchangeTime
        w.int64(t, time)
        let (at, overflow) = midnight.addingReportingOverflow(time)
        if !overflow { w.int64(eventTime, at) }
        w.int64(receive, m.receiveTime)
        w.int32(flags, Int32(m.flags))
        guard let k = m.kind else {
            w.string(kind, "kind\(m.rawKind)")
            return
        }
        w.string(kind, Self.kindName(k))
        switch k {
        case .add, .execute, .cancel, .delete, .trade:
            w.uint64(id, m.orderId)
            w.int64(px, m.price)
            w.uint32(qty, m.quantity)
            let s = m.side
            w.string(side, s == .buy ? "B" : s == .sell ? "S" : "?")
            if m.matchNumber != 0 { w.uint64(match, m.matchNumber) }
        case .replace:
            w.uint64(old, m.oldOrderId)
            w.uint64(new, m.newOrderId)
            w.int64(px, m.replacePrice)
            w.uint32(qty, m.replaceQuantity)
        case .topOfBook:
            w.int64(bid, m.bidPrice)
            w.uint32(bidQty, m.bidSize)
            w.uint32(bidOrders, m.bidOrders)
            w.int64(ask, m.askPrice)
            w.uint32(askQty, m.askSize)
            w.uint32(askOrders, m.askOrders)
        case .directory:
            w.string(symbol, m.symbol)
            w.uint32(lot, m.roundLot)
        case .status:
            w.string(state, String(Character(Unicode.Scalar(m.tradingState))))
        case .gap:
            w.uint64(from, m.gapFrom)
            w.uint64(count, m.gapCount)
        case .endOfSession:
            w.uint64(messages, m.sessionMessages)
        }
    }
}
