import TickBusCore

// The execution families of a strategy (stats block version 3): orders, order events, fills,
// fill rate, position, P&L, fees and risk events. Labels as the control families (bus, strategy,
// kind), which a model swap does not change, so the series stay continuous.
extension PrometheusExposition {
    /// Adds the execution families of one strategy through `add` (name, type, help, labels, value, suffix).
    static func executionFamilies(
        _ e: ExecutionStatus,
        _ c: [(String, String)],
        _ add: (String, String, String, [(String, String)], String, String) -> Void
    ) {
        add(
            "tickbus_strategy_orders_total",
            "counter",
            "Own order actions the strategy sent (new orders and cancels).",
            c,
            "\(e.ordersSent)",
            ""
        )
        add(
            "tickbus_strategy_ordered_shares_total",
            "counter",
            "Shares of the new orders the strategy sent.",
            c,
            "\(e.orderedShares)",
            ""
        )
        let events = [
            ("ack", e.acks), ("reject", e.rejects), ("cancelled", e.cancelled), ("cancel_rejected", e.cancelRejects),
        ]
        for (event, n) in events {
            add(
                "tickbus_strategy_order_events_total",
                "counter",
                "Answers of the (simulated) exchange to the strategy's order actions, by event.",
                c + [("event", event)],
                "\(n)",
                ""
            )
        }
        add("tickbus_strategy_fills_total", "counter", "Fills of the strategy's own orders.", c, "\(e.fills)", "")
        add(
            "tickbus_strategy_filled_shares_total",
            "counter",
            "Shares filled of the strategy's own orders.",
            c,
            "\(e.filledShares)",
            ""
        )
        add(
            "tickbus_strategy_fill_rate",
            "gauge",
            "Filled shares over ordered shares (0 before any order).",
            c,
            num(e.fillRate ?? 0),
            ""
        )
        add(
            "tickbus_strategy_position",
            "gauge",
            "The strategy's position in shares (all instruments).",
            c,
            "\(e.position)",
            ""
        )
        add(
            "tickbus_strategy_pnl_dollars",
            "gauge",
            "P&L in dollars: realised plus marked to the mid, after fees.",
            c,
            num(e.pnlDollars),
            ""
        )
        add(
            "tickbus_strategy_fees_dollars",
            "gauge",
            "Fees charged in dollars, fills and orders (rebates negative).",
            c,
            num(e.feesDollars),
            ""
        )
        for r in e.riskEvents {
            add(
                "tickbus_strategy_risk_events_total",
                "counter",
                "Risk events by code: orders refused (max position, max orders per second, paused), paused on max loss, resumed.",
                c + [("code", r.code)],
                "\(r.count)",
                ""
            )
        }
    }
}
