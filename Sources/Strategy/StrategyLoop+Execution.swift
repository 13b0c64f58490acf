import Book
import Execution
import Features
import TickBusCore

extension StrategyLoop {
    /// One market message through the strategy, the same for `run`, the decision verifier and the
    /// backtest: with paper trading, the simulator sees `m` before the feature engine applies it
    /// (`PaperTrading.onMarket`); the engine applies it; at a decision point the decision is
    /// published; then the policy and the risk limits act on it (`PaperTrading.afterUpdate`). A
    /// breached loss limit pauses the loop here (a control record with the `risk` flag, the
    /// state from the next market message on).
    /// - Returns: the decision made at `m`, nil when `m` was not a decision point.
    @discardableResult
    public mutating func step(_ m: MarketMessageView, into producer: inout RingProducer) -> DecisionOutcome? {
        let engine = _engine
        let books = _books
        // Safe: `self.engine` keeps the engine and its book alive (see `_engine`).
        if paper == nil {
            lastExchangeTime = m.exchangeTime
            return engine._withUnsafeGuaranteedRef { $0.update(m) } ? _decide(m, into: &producer) : nil
        }
        books._withUnsafeGuaranteedRef { b in paper!.onMarket(m, books: b, into: &producer) }
        let decided = engine._withUnsafeGuaranteedRef { $0.update(m) }
        let decision: DecisionOutcome? = decided ? _decide(m, into: &producer) : nil
        lastExchangeTime = m.exchangeTime
        let p = paused
        let breached = books._withUnsafeGuaranteedRef { b in
            paper!.afterUpdate(m, books: b, decision: decision, paused: p, into: &producer)
        }
        if breached { _riskPause(m, into: &producer) }
        return decision
    }

    /// End of the stream (end-of-session): the simulator processes the actions still queued and
    /// every answer is delivered and published. Nothing without paper trading.
    public mutating func finishSession(into producer: inout RingProducer) {
        if paper != nil { paper!.finish(books: engine.books, into: &producer) }
    }

    /// Whether this loop paper-trades (an execution file was given).
    public var isPaperTrading: Bool { paper != nil }

    /// What paper trading did so far; nil without an execution file.
    public mutating func executionSummary() -> PaperTradingSummary? {
        withPaperTrading { $0.summary }
    }

    /// Runs `body` on the paper-trading state (the backtest reads positions, cash and fees).
    /// - Returns: nil without an execution file.
    public mutating func withPaperTrading<R>(_ body: (inout PaperTrading) -> R) -> R? {
        if paper == nil { return nil }
        return body(&paper!)
    }

    /// The loss limit paused trading: the loop's pause (the decisions' signal 0 from the next
    /// market message on) and its control record, marked `risk` (not a command).
    mutating func _riskPause(_ m: MarketMessageView, into producer: inout RingProducer) {
        paused = true
        publishControlRecord(
            commandId: 0,
            rawVerb: ControlVerb.pause.rawValue,
            rawRole: 0,
            applied: true,
            rejection: nil,
            message: "risk: max_loss reached",
            commandPublishTime: 0,
            firstMarketSequence: m.sequence &+ 1,
            extraFlags: ControlRecordLayout.risk,
            into: &producer
        )
        _controlTelemetry(applied: true)
    }

    /// A `resume` applied: ends a pause of the loss limit (a risk record, code 5).
    mutating func _resumed(into producer: inout RingProducer) {
        if paper != nil { paper!.resumed(into: &producer) }
    }
}
