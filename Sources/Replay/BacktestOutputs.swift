import BacktestReport
import Book
import Execution
import TickBusCore

/// The files of `tickbus backtest --out DIR` besides the journal: `orders.csv` (the order file
/// format `tickbus sim` reads, so the same orders can be re-simulated alone), `fills.csv` (the
/// sim's format), and through the ledger `pnl.csv`, `report.json` and `report.html`. Streaming:
/// rows go to buffered files as records arrive; the mids are one fixed table.
public final class BacktestOutputs: Backtest.Observer {
    public let ledger: BacktestLedger
    var orders: BufferedFileWriter
    var fills: BufferedFileWriter
    /// The last mid (1e-4) per instrument id below 65,536, 0 before the first two-sided top.
    var mids: [Int64]
    var line: [UInt8] = []
    public private(set) var lastSummary = Backtest.Summary()
    let onProgress: ((Backtest.Summary) -> Void)?

    public init(
        directory: String,
        options: BacktestLedger.Options = .init(),
        progress: ((Backtest.Summary) -> Void)? = nil
    ) throws(BacktestReportError) {
        ledger = try BacktestLedger(pnlCSV: directory + "/pnl.csv", options: options)
        orders = try BufferedFileWriter(path: directory + "/orders.csv")
        fills = try BufferedFileWriter(path: directory + "/fills.csv")
        orders.append("id,time_ns,action,instrument,side,price,qty,tif\n")
        fills.append(ExecutionCSV.fillsHeader + "\n")
        mids = [Int64](repeating: 0, count: 1 << 16)
        line.reserveCapacity(256)
        onProgress = progress
    }

    public func market(_ m: MarketMessageView, books: OrderBooks) {
        switch m.rawKind {
        case MessageKind.add.rawValue, MessageKind.execute.rawValue, MessageKind.cancel.rawValue,
            MessageKind.delete.rawValue, MessageKind.replace.rawValue, MessageKind.topOfBook.rawValue:
            break
        default: return
        }
        guard m.instrument < 1 << 16 else { return }
        let top = books.top(instrument: m.instrument)
        guard top.bid.shares > 0, top.ask.shares > 0 else { return }
        // The mid in 1e-4, rounded down (a half of 1e-4 does not occur on a cent grid).
        let mid = (top.bid.price + top.ask.price) / 2
        guard mid != mids[Int(m.instrument)] else { return }
        mids[Int(m.instrument)] = mid
        ledger.mark(time: m.exchangeTime, instrument: m.instrument, mid: mid)
    }

    func mid(_ instrument: UInt32) -> Int64 { instrument < 1 << 16 ? mids[Int(instrument)] : 0 }

    public func record(_ p: UnsafeRawPointer) {
        switch p.load(fromByteOffset: RecordHeader.kind, as: UInt16.self) {
        case RecordKind.decision.rawValue:
            let d = DecisionRecordView(p)
            ledger.decision(
                time: d.exchangeTime,
                instrument: d.instrument,
                marketSequence: d.marketSequence,
                mid: mid(d.instrument),
                signal: d.signal,
                latencyNs: UInt64(clamping: d.latencyNs)
            )
        case RecordKind.order.rawValue:
            let o = OrderRecordView(p)
            let cancel = o.action == 2
            let action = OwnAction(
                kind: cancel ? .cancel : .new,
                orderId: o.orderId,
                sentTime: o.sentTime,
                instrument: o.instrument,
                side: o.side ?? .buy,
                price: o.price,
                quantity: o.quantity,
                tif: o.tif == TimeInForce.ioc.rawValue ? .ioc : .day
            )
            ledger.order(action, decisionMid: mid(o.instrument))
            line.removeAll(keepingCapacity: true)
            if cancel {
                line.append(contentsOf: "\(o.orderId),\(o.sentTime),cancel,,,,,\n".utf8)
            } else {
                let side = action.side == .buy ? "B" : "S"
                line.append(
                    contentsOf:
                        "\(o.orderId),\(o.sentTime),new,\(o.instrument),\(side),\(o.price),\(o.quantity),\(action.tif)\n"
                        .utf8
                )
            }
            line.withUnsafeBufferPointer { orders.append($0) }
        case RecordKind.orderEvent.rawValue:
            let e = OrderEventRecordView(p)
            ledger.orderEvent(
                OrderEvent(
                    orderId: e.orderId,
                    instrument: e.instrument,
                    time: e.eventTime,
                    kind: OrderEventKind(rawValue: e.event) ?? .ack,
                    reason: OrderRejectReason(rawValue: e.reason) ?? .none,
                    fee: e.fee,
                    quantity: e.quantity
                )
            )
        case RecordKind.fill.rawValue:
            let f = FillRecordView(p)
            let fill = Fill(
                orderId: f.orderId,
                instrument: f.instrument,
                side: f.side ?? .buy,
                time: f.fillTime,
                marketSequence: f.marketSequence,
                price: f.price,
                quantity: f.quantity,
                liquidity: f.liquidity == Liquidity.taker.rawValue ? .taker : .maker,
                fee: f.fee,
                remaining: f.remaining
            )
            ledger.fill(fill)
            line.removeAll(keepingCapacity: true)
            ExecutionCSV.appendRow(fill, to: &line)
            line.withUnsafeBufferPointer { fills.append($0) }
        default: break
        }
    }

    public func progress(_ s: Backtest.Summary) {
        lastSummary = s
        onProgress?(s)
    }

    /// Closes the CSV files and writes `report.json` and `report.html` into `directory`.
    public func finish(
        directory: String,
        inputs: [String: String],
        summary: Backtest.Summary
    ) throws(BacktestReportError) -> BacktestReport {
        try orders.close()
        try fills.close()
        let report = try ledger.finish(
            inputs: inputs,
            counters: [
                "market_messages": Int(summary.messages),
                "records": Int(summary.records),
                "risk_events": Int(summary.risks),
                "control_records": Int(summary.controls),
            ]
        )
        try ledger.write(report, directory: directory)
        return report
    }
}
