import CTickBus

// Orders, order events, fills, position, P&L, fees and risk events in the stats block (layout
// version 3, `StatsLayout.executionOffset`). Each is a relaxed load and store of one word of the
// mapped block (one writer): no allocation, lock, syscall, retain or release, so the order policy
// and risk checks may call them between two market messages (`Tools/hot-path-check` holds them to
// calling nothing). Money is in micro-dollars (Int64), so the words stay integers.
extension StatsWriter {
    /// An own order action (new or cancel) sent to the exchange (an order record, kind 102).
    /// - Parameter quantity: a new order's shares (0 for a cancel): the fill rate's denominator
    ///   (filled shares / ordered shares, as the backtest report defines it).
    public func recordOrderSent(quantity: UInt32 = 0) {
        _add(StatsLayout.ordersSentField, 1)
        _add(StatsLayout.orderedSharesField, UInt64(quantity))
    }

    /// An order event seen (kind 103), by `OrderEventKind`'s raw value: 1 ack, 2 reject,
    /// 3 cancelled, 4 cancel rejected; another value is not counted.
    public func recordOrderEvent(_ kindRaw: UInt8) {
        switch kindRaw {
        case 1: _add(StatsLayout.acksField, 1)
        case 2: _add(StatsLayout.rejectsField, 1)
        case 3: _add(StatsLayout.cancelledField, 1)
        case 4: _add(StatsLayout.cancelRejectsField, 1)
        default: break
        }
    }

    /// A fill seen (kind 104): counts it, its shares, and adds its fee (micro-dollars, negative for
    /// a rebate) to the fill fees.
    public func recordFill(quantity: UInt32, feeMicros: Int64) {
        _add(StatsLayout.fillsField, 1)
        _add(StatsLayout.filledSharesField, UInt64(quantity))
        _add(StatsLayout.fillFeesField, UInt64(bitPattern: feeMicros))
    }

    /// A risk event (kind 105), by `RiskEventCode`'s raw value (1...7 each in their own word;
    /// any other code in word 0).
    public func recordRiskEvent(_ codeRaw: UInt8) {
        let i = Int(codeRaw) < StatsLayout.riskEventSlots ? Int(codeRaw) : 0
        _add(StatsLayout.riskEventsField &+ i &* StatsLayout.wordSize, 1)
    }

    /// The execution totals after a fill or a mark: position (shares, all instruments), P&L
    /// (realised + marked to the mid, after fees) and fees, both in micro-dollars.
    public func setExecution(position: Int64, pnlMicros: Int64, feesMicros: Int64) {
        // Safe: the offsets are words of the execution lines `execution` points at.
        tb_store_relaxed_u64(execution + StatsLayout.positionField, UInt64(bitPattern: position))
        tb_store_relaxed_u64(execution + StatsLayout.pnlField, UInt64(bitPattern: pnlMicros))
        tb_store_relaxed_u64(execution + StatsLayout.feesField, UInt64(bitPattern: feesMicros))
    }

    /// Adds `n` (wrapping: a signed sum stored as its bit pattern) to the execution word at `field`.
    @inline(__always)
    func _add(_ field: Int, _ n: UInt64) {
        // Safe: `field` is a word offset inside the execution lines (`StatsLayout.executionSize`).
        let p = execution + field
        tb_store_relaxed_u64(p, tb_load_relaxed_u64(p) &+ n)
    }
}

/// The execution figures of a stats block (`StatsBlock.execution`).
public struct ExecutionStats: Sendable, Equatable {
    public var ordersSent: UInt64 = 0
    public var acks: UInt64 = 0
    public var rejects: UInt64 = 0
    public var cancelled: UInt64 = 0
    public var cancelRejects: UInt64 = 0
    public var fills: UInt64 = 0
    public var filledShares: UInt64 = 0
    /// Shares of the new orders sent (`recordOrderSent(quantity:)`).
    public var orderedShares: UInt64 = 0
    /// The sum of the fills' fees, micro-dollars.
    public var fillFeesMicros: Int64 = 0
    public var position: Int64 = 0
    public var pnlMicros: Int64 = 0
    /// Every fee charged (fills and orders), micro-dollars, as last set.
    public var feesMicros: Int64 = 0
    /// Risk events by code: index 1...7 the code, index 0 any other code.
    public var riskEvents: [UInt64] = Array(repeating: 0, count: 8)
    public init() {}

    /// Whether the writer ever sent an order or saw a risk event (`stat` shows its execution row).
    public var hasOrders: Bool { ordersSent != 0 || riskEvents.contains { $0 != 0 } }

    /// Filled shares over ordered shares; nil before any share was ordered.
    public var fillRate: Double? { orderedShares == 0 ? nil : Double(filledShares) / Double(orderedShares) }
}

extension StatsBlock {
    /// Reads the execution lines of a mapped block (each word on its own, like the counters).
    public static func execution(_ base: UnsafeRawPointer) -> ExecutionStats {
        let p = base + StatsLayout.executionOffset
        func word(_ f: Int) -> UInt64 { tb_load_relaxed_u64(p + f) }
        var e = ExecutionStats()
        e.ordersSent = word(StatsLayout.ordersSentField)
        e.acks = word(StatsLayout.acksField)
        e.rejects = word(StatsLayout.rejectsField)
        e.cancelled = word(StatsLayout.cancelledField)
        e.cancelRejects = word(StatsLayout.cancelRejectsField)
        e.fills = word(StatsLayout.fillsField)
        e.filledShares = word(StatsLayout.filledSharesField)
        e.orderedShares = word(StatsLayout.orderedSharesField)
        e.fillFeesMicros = Int64(bitPattern: word(StatsLayout.fillFeesField))
        e.position = Int64(bitPattern: word(StatsLayout.positionField))
        e.pnlMicros = Int64(bitPattern: word(StatsLayout.pnlField))
        e.feesMicros = Int64(bitPattern: word(StatsLayout.feesField))
        for i in 0..<StatsLayout.riskEventSlots {
            e.riskEvents[i] = word(StatsLayout.riskEventsField + i * StatsLayout.wordSize)
        }
        return e
    }
}
