import Book
import TickBusCore

extension ITCHSource {
    /// `book itch --counts`: one `T=N` line per ITCH message type, then the totals, unknown
    /// references and malformed messages by kind (`malformed.KIND=N`, spaces as `_`).
    public func countLines(_ line: (String) -> Void) {
        let counts = self.counts
        for t in ITCH.types { line("\(Character(Unicode.Scalar(t)))=\(counts[Int(t)])") }
        line("messages=\(report.messagesIn)")
        line("unknown_references=\(unknownReferences)")
        line("malformed=\(report.malformedTotal)")
        for (k, v) in report.malformed.sorted(by: { $0.key < $1.key }) {
            line("malformed.\(k.split(separator: " ", omittingEmptySubsequences: false).joined(separator: "_"))=\(v)")
        }
    }

    /// `book itch --dump final`: `stock,side,price,shares,orders`, then every non-empty level of
    /// every book, by symbol (then instrument), bids before asks, best level first.
    public func finalBookLines(_ line: (String) -> Void) {
        line("stock,side,price,shares,orders")
        var rows: [(symbol: String, instrument: UInt32)] = []
        for inst in books.activeInstruments() { rows.append((symbol(inst), inst)) }
        rows.sort { (a, b) -> Bool in a.symbol != b.symbol ? a.symbol < b.symbol : a.instrument < b.instrument }
        for (symbol, inst) in rows {
            for side in [Side.buy, Side.sell] {
                let tag = side == .buy ? "B" : "S"
                for d in 0..<books.levelCount(instrument: inst, side: side) {
                    let lv = books.level(instrument: inst, side: side, depth: d)!
                    line("\(symbol),\(tag),\(lv.price),\(lv.shares),\(lv.orders)")
                }
            }
        }
    }
}
