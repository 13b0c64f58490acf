import Foundation

extension StatView {
    /// The execution table, for the strategies that sent an order or saw a risk event (none: no
    /// table): order actions sent, acks, rejects, cancels, cancel rejects, fills, filled shares,
    /// fill rate (filled / ordered shares), position, P&L and fees in dollars; then one line per
    /// risk event code that occurred.
    static func executionLines(_ s: BusSnapshot) -> [String] {
        let trading = s.strategies.filter { $0.execution.hasOrders }
        if trading.isEmpty { return [] }
        var lines = [
            "",
            row([
                ("STRATEGY", -16), ("ORDERS", 6), ("ACKS", 6), ("REJ", 4), ("CXL", 5), ("CXL-REJ", 7), ("FILLS", 6),
                ("SHARES", 8), ("FILL%", 6), ("POS", 7), ("P&L $", 10), ("FEES $", 8),
            ]),
        ]
        for st in trading {
            let e = st.execution
            lines.append(
                row([
                    (String(st.name.prefix(16)), -16), ("\(e.ordersSent)", 6), ("\(e.acks)", 6), ("\(e.rejects)", 4),
                    ("\(e.cancelled)", 5), ("\(e.cancelRejects)", 7), ("\(e.fills)", 6), ("\(e.filledShares)", 8),
                    (e.fillRate.map { String(format: "%.1f", $0 * 100) } ?? "-", 6), ("\(e.position)", 7),
                    (String(format: "%.2f", e.pnlDollars), 10), (String(format: "%.2f", e.feesDollars), 8),
                ])
            )
        }
        let risky = trading.flatMap { st in
            st.execution.riskEvents.filter { $0.count != 0 }.map { (st.name, $0.code, $0.count) }
        }
        if !risky.isEmpty {
            lines.append("")
            lines.append(row([("STRATEGY", -16), ("RISK EVENT", -22), ("COUNT", 8)]))
            for (name, code, n) in risky {
                lines.append(row([(String(name.prefix(16)), -16), (code, -22), ("\(n)", 8)]))
            }
        }
        return lines
    }
}
