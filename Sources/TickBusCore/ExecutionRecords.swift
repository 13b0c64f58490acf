// The execution records of a strategy's ring `decisions.<name>` (kinds 102–105, layout version 1):
// the orders it sent, what the simulated exchange answered, its fills and its risk checks' events,
// next to its decisions, so one journal holds the whole session (Docs/JOURNAL.md, "Records in a
// strategy's ring"). Every record starts with the 56-byte `RecordHeader`: its market sequence is
// the market message being processed when the record was written, its exchange time that
// message's. Fields are little-endian; f64 fields are IEEE 754 bit patterns.

extension RecordHeader {
    /// Zeroes bytes 8..<`slotSize` (the ring writes the sequence word) and writes the header fields
    /// every kind shares. Flags and the per-kind bytes 12..<15 and 36..<40 stay zero.
    ///
    /// - Parameters:
    ///   - p: the slot; `slotSize` bytes writable, at least `RecordHeader.size`.
    ///   - marketSequence: the market message being processed (0 when none yet).
    ///   - exchangeTime: that message's exchange time (ns since midnight).
    ///   - receiveTime: that message's receive time (monotonic ns, stamped at publish).
    ///   - publishTime: this record's publish time (monotonic ns).
    @inlinable @inline(__always)
    public static func store(
        to p: UnsafeMutableRawPointer,
        slotSize: Int,
        kind: UInt16,
        layoutVersion: UInt8,
        marketSequence: UInt64,
        exchangeTime: Int64,
        instrument: UInt32,
        receiveTime: Int64,
        publishTime: Int64
    ) {
        // Safe: the caller's slot holds `slotSize` >= `RecordHeader.size` bytes.
        (p + 8).initializeMemory(as: UInt8.self, repeating: 0, count: slotSize - 8)
        p.storeLittleEndian(kind, toByteOffset: Self.kind)
        p.storeLittleEndian(layoutVersion, toByteOffset: Self.layoutVersion)
        p.storeLittleEndian(marketSequence, toByteOffset: Self.marketSequence)
        p.storeLittleEndian(exchangeTime, toByteOffset: Self.exchangeTime)
        p.storeLittleEndian(instrument, toByteOffset: Self.instrument)
        p.storeLittleEndian(receiveTime, toByteOffset: Self.receiveTime)
        p.storeLittleEndian(publishTime, toByteOffset: Self.publishTime)
    }
}

/// Why the order policy sent an order or a cancel (`OrderRecordLayout.policyReason`).
public enum OrderPolicyReason: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Not from a policy (an order file, a test).
    case none = 0
    /// Mode `join`: a signal, an order resting at the own best on its side.
    case join = 1
    /// Mode `cross`: a signal, an IOC at the opposite best.
    case cross = 2
    /// Mode `quote`: the best bid or ask changed (a new quote, or the cancel of the old one).
    case quote = 3
    /// A cancel: the signal went flat (`cancel_on_flat`).
    case flat = 4
    /// A cancel: the signal turned to the other side (`cancel_on_opposite`).
    case opposite = 5
    /// A cancel: the order rested `lifetime_ns` since it was sent.
    case lifetime = 6
    /// A cancel: trading paused (a breached loss limit or a pause command).
    case paused = 7

    public var description: String {
        switch self {
        case .none: return "-"
        case .join: return "join"
        case .cross: return "cross"
        case .quote: return "quote"
        case .flat: return "flat"
        case .opposite: return "opposite"
        case .lifetime: return "lifetime"
        case .paused: return "paused"
        }
    }
}

/// What a risk record reports (`RiskRecordLayout.code`).
public enum RiskEventCode: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// An order refused: it would take the position past `max_position`.
    case refusedMaxPosition = 1
    /// An order refused: `max_orders_per_second` new orders in the last second of exchange time.
    case refusedMaxOrders = 2
    /// An order refused: trading is paused (after a breach of `max_loss`).
    case refusedPaused = 3
    /// The loss reached `max_loss`: trading paused.
    case pausedMaxLoss = 4
    /// Trading resumed.
    case resumed = 5

    public var description: String {
        switch self {
        case .refusedMaxPosition: return "refused:max_position"
        case .refusedMaxOrders: return "refused:max_orders"
        case .refusedPaused: return "refused:paused"
        case .pausedMaxLoss: return "paused:max_loss"
        case .resumed: return "resumed"
        }
    }
}

/// Byte offsets of an order record (kind 102, layout version 1): an own order action sent.
///
/// ```
/// 0..<56 RecordHeader (market sequence, exchange time, instrument, receive and publish times)
/// 56 order id u64   64 price i64 (1e-4)   72 quantity u32   76 side u8 ('B'/'S')
/// 77 action u8 (1 new, 2 cancel)   78 tif u8 (1 DAY, 2 IOC)   79 policy reason u8 (OrderPolicyReason)
/// 80 sent time i64 (exchange time)   88 arrival time i64 (sent + order latency)
/// 96 acting model id u64 (the model whose signal led to it; 0 when none)
/// ```
/// A cancel carries the id of the order it cancels; its price, quantity, side and tif are those of
/// that order or zero.
public enum OrderRecordLayout {
    public static let kindValue: UInt16 = RecordKind.order.rawValue
    public static let layoutVersionValue: UInt8 = 1
    public static let orderId = 56
    public static let price = 64
    public static let quantity = 72
    public static let side = 76
    public static let action = 77
    public static let tif = 78
    public static let policyReason = 79
    public static let sentTime = 80
    public static let arrivalTime = 88
    public static let actingModelId = 96
    /// The bytes an order record takes (the slot may be larger).
    public static let size = 104

    /// `action` of a new order and of a cancel.
    public static let actionNew: UInt8 = 1
    public static let actionCancel: UInt8 = 2
    /// `tif` values.
    public static let tifDay: UInt8 = 1
    public static let tifIOC: UInt8 = 2

    /// Writes an order record into the slot at `p` (bytes 8..<`slotSize`; the ring writes the
    /// sequence). Allocates nothing.
    @inlinable
    public static func store(
        to p: UnsafeMutableRawPointer,
        slotSize: Int,
        marketSequence: UInt64,
        exchangeTime: Int64,
        instrument: UInt32,
        receiveTime: Int64,
        publishTime: Int64,
        orderId: UInt64,
        price: Int64,
        quantity: UInt32,
        side: Side,
        action: UInt8,
        tif: UInt8,
        policyReason: UInt8,
        sentTime: Int64,
        arrivalTime: Int64,
        actingModelId: UInt64
    ) {
        RecordHeader.store(
            to: p,
            slotSize: slotSize,
            kind: kindValue,
            layoutVersion: layoutVersionValue,
            marketSequence: marketSequence,
            exchangeTime: exchangeTime,
            instrument: instrument,
            receiveTime: receiveTime,
            publishTime: publishTime
        )
        p.storeLittleEndian(orderId, toByteOffset: Self.orderId)
        p.storeLittleEndian(price, toByteOffset: Self.price)
        p.storeLittleEndian(quantity, toByteOffset: Self.quantity)
        p.storeLittleEndian(side.rawValue, toByteOffset: Self.side)
        p.storeLittleEndian(action, toByteOffset: Self.action)
        p.storeLittleEndian(tif, toByteOffset: Self.tif)
        p.storeLittleEndian(policyReason, toByteOffset: Self.policyReason)
        p.storeLittleEndian(sentTime, toByteOffset: Self.sentTime)
        p.storeLittleEndian(arrivalTime, toByteOffset: Self.arrivalTime)
        p.storeLittleEndian(actingModelId, toByteOffset: Self.actingModelId)
    }
}

/// Byte offsets of an order event record (kind 103, layout version 1): what the simulated
/// exchange answered to an own action (acknowledged, rejected, cancelled, cancel rejected), as the
/// strategy sees it: the header's times are those of the market message being processed when the
/// response arrived (the event's exchange time + response latency).
///
/// ```
/// 0..<56 RecordHeader
/// 56 order id u64   64 event u8 (1 ack, 2 reject, 3 cancelled, 4 cancel rejected)
/// 65 reason u8 (the exchange's reject reason; 0 none)   66..<72 zero
/// 72 fee f64 (dollars: the per-order fee on an ack)   80 quantity u32 (shares cancelled)   84 zero
/// 88 exchange event time i64
/// ```
public enum OrderEventRecordLayout {
    public static let kindValue: UInt16 = RecordKind.orderEvent.rawValue
    public static let layoutVersionValue: UInt8 = 1
    public static let orderId = 56
    public static let event = 64
    public static let reason = 65
    public static let fee = 72
    public static let quantity = 80
    public static let eventTime = 88
    /// The bytes an order event record takes.
    public static let size = 96

    /// The printed names of the events and reject reasons, by raw value (those of `Execution`'s
    /// `OrderEventKind` and `OrderRejectReason`, which this target cannot see; a test holds them equal).
    public static let eventNames = ["event0", "ack", "reject", "cancelled", "cancel_rejected"]
    public static let reasonNames = [
        "-", "unknown_instrument", "zero_quantity", "bad_price", "duplicate_id", "too_late", "unknown_order",
        "capacity", "ioc", "cancel", "bad_id",
    ]

    /// Writes an order event record into the slot at `p`. Allocates nothing.
    @inlinable
    public static func store(
        to p: UnsafeMutableRawPointer,
        slotSize: Int,
        marketSequence: UInt64,
        exchangeTime: Int64,
        instrument: UInt32,
        receiveTime: Int64,
        publishTime: Int64,
        orderId: UInt64,
        event: UInt8,
        reason: UInt8,
        fee: Double,
        quantity: UInt32,
        eventTime: Int64
    ) {
        RecordHeader.store(
            to: p,
            slotSize: slotSize,
            kind: kindValue,
            layoutVersion: layoutVersionValue,
            marketSequence: marketSequence,
            exchangeTime: exchangeTime,
            instrument: instrument,
            receiveTime: receiveTime,
            publishTime: publishTime
        )
        p.storeLittleEndian(orderId, toByteOffset: Self.orderId)
        p.storeLittleEndian(event, toByteOffset: Self.event)
        p.storeLittleEndian(reason, toByteOffset: Self.reason)
        p.storeLittleEndian(fee.bitPattern, toByteOffset: Self.fee)
        p.storeLittleEndian(quantity, toByteOffset: Self.quantity)
        p.storeLittleEndian(eventTime, toByteOffset: Self.eventTime)
    }
}

/// Byte offsets of a fill record (kind 104, layout version 1): a fill of an own order, as the
/// strategy sees it (header times: the market message being processed when the fill's response
/// arrived, fill time + response latency), with the position and cash after it.
///
/// ```
/// 0..<56 RecordHeader
/// 56  order id u64   64 price i64 (1e-4)   72 quantity u32   76 side u8 ('B'/'S')
/// 77  liquidity u8 (1 maker, 2 taker)   78..<80 zero
/// 80  fee f64 (dollars, negative for a rebate)   88 position after i64 (shares, this instrument)
/// 96  cash after f64 (dollars, all instruments)  104 remaining u32 (shares left of the order)
/// 108 zero   112 exchange fill time i64
/// ```
/// Cash changes by `-side × price × quantity / 1e4 − fee` (side +1 buy, −1 sell).
public enum FillRecordLayout {
    public static let kindValue: UInt16 = RecordKind.fill.rawValue
    public static let layoutVersionValue: UInt8 = 1
    public static let orderId = 56
    public static let price = 64
    public static let quantity = 72
    public static let side = 76
    public static let liquidity = 77
    public static let fee = 80
    public static let positionAfter = 88
    public static let cashAfter = 96
    public static let remaining = 104
    public static let fillTime = 112
    /// The bytes a fill record takes.
    public static let size = 120

    /// `liquidity` values.
    public static let maker: UInt8 = 1
    public static let taker: UInt8 = 2

    /// Writes a fill record into the slot at `p`. Allocates nothing.
    @inlinable
    public static func store(
        to p: UnsafeMutableRawPointer,
        slotSize: Int,
        marketSequence: UInt64,
        exchangeTime: Int64,
        instrument: UInt32,
        receiveTime: Int64,
        publishTime: Int64,
        orderId: UInt64,
        price: Int64,
        quantity: UInt32,
        side: Side,
        liquidity: UInt8,
        fee: Double,
        positionAfter: Int64,
        cashAfter: Double,
        remaining: UInt32,
        fillTime: Int64
    ) {
        RecordHeader.store(
            to: p,
            slotSize: slotSize,
            kind: kindValue,
            layoutVersion: layoutVersionValue,
            marketSequence: marketSequence,
            exchangeTime: exchangeTime,
            instrument: instrument,
            receiveTime: receiveTime,
            publishTime: publishTime
        )
        p.storeLittleEndian(orderId, toByteOffset: Self.orderId)
        p.storeLittleEndian(price, toByteOffset: Self.price)
        p.storeLittleEndian(quantity, toByteOffset: Self.quantity)
        p.storeLittleEndian(side.rawValue, toByteOffset: Self.side)
        p.storeLittleEndian(liquidity, toByteOffset: Self.liquidity)
        p.storeLittleEndian(fee.bitPattern, toByteOffset: Self.fee)
        p.storeLittleEndian(positionAfter, toByteOffset: Self.positionAfter)
        p.storeLittleEndian(cashAfter.bitPattern, toByteOffset: Self.cashAfter)
        p.storeLittleEndian(remaining, toByteOffset: Self.remaining)
        p.storeLittleEndian(fillTime, toByteOffset: Self.fillTime)
    }
}

/// Byte offsets of a risk record (kind 105, layout version 1): an order the risk checks refused,
/// or trading paused or resumed.
///
/// ```
/// 0..<56 RecordHeader
/// 56 code u8 (RiskEventCode)   57..<64 zero
/// 64 value f64 (what was checked: the position it would reach, orders in the last second, the loss)
/// 72 limit f64 (the limit it was checked against)   80 order id u64 (the refused order, or 0)
/// ```
public enum RiskRecordLayout {
    public static let kindValue: UInt16 = RecordKind.risk.rawValue
    public static let layoutVersionValue: UInt8 = 1
    public static let code = 56
    public static let value = 64
    public static let limit = 72
    public static let orderId = 80
    /// The bytes a risk record takes.
    public static let size = 88

    /// Writes a risk record into the slot at `p`. Allocates nothing.
    @inlinable
    public static func store(
        to p: UnsafeMutableRawPointer,
        slotSize: Int,
        marketSequence: UInt64,
        exchangeTime: Int64,
        instrument: UInt32,
        receiveTime: Int64,
        publishTime: Int64,
        code: UInt8,
        value: Double,
        limit: Double,
        orderId: UInt64
    ) {
        RecordHeader.store(
            to: p,
            slotSize: slotSize,
            kind: kindValue,
            layoutVersion: layoutVersionValue,
            marketSequence: marketSequence,
            exchangeTime: exchangeTime,
            instrument: instrument,
            receiveTime: receiveTime,
            publishTime: publishTime
        )
        p.storeLittleEndian(code, toByteOffset: Self.code)
        p.storeLittleEndian(value.bitPattern, toByteOffset: Self.value)
        p.storeLittleEndian(limit.bitPattern, toByteOffset: Self.limit)
        p.storeLittleEndian(orderId, toByteOffset: Self.orderId)
    }
}

/// The header fields every record view of `decisions.<name>` reads the same way.
/// Conforming views hold `base`, pointing at a record's readable bytes (at least the kind's `size`).
public protocol RecordHeaderView {
    var base: UnsafeRawPointer { get }
}

extension RecordHeaderView {
    /// The ring sequence.
    @inlinable public var sequence: UInt64 { base.loadLittleEndian(as: UInt64.self) }
    /// The record's kind (`RecordKind`).
    @inlinable public var kind: UInt16 { base.loadLittleEndian(fromByteOffset: RecordHeader.kind, as: UInt16.self) }
    @inlinable public var layoutVersion: UInt8 {
        base.loadLittleEndian(fromByteOffset: RecordHeader.layoutVersion, as: UInt8.self)
    }
    /// The market message being processed when the record was written.
    @inlinable public var marketSequence: UInt64 {
        base.loadLittleEndian(fromByteOffset: RecordHeader.marketSequence, as: UInt64.self)
    }
    @inlinable public var exchangeTime: Int64 {
        base.loadLittleEndian(fromByteOffset: RecordHeader.exchangeTime, as: Int64.self)
    }
    @inlinable public var instrument: UInt32 {
        base.loadLittleEndian(fromByteOffset: RecordHeader.instrument, as: UInt32.self)
    }
    @inlinable public var receiveTime: Int64 {
        base.loadLittleEndian(fromByteOffset: RecordHeader.receiveTime, as: Int64.self)
    }
    @inlinable public var publishTime: Int64 {
        base.loadLittleEndian(fromByteOffset: RecordHeader.publishTime, as: Int64.self)
    }

    @inlinable func double(_ offset: Int) -> Double {
        Double(bitPattern: base.loadLittleEndian(fromByteOffset: offset, as: UInt64.self))
    }
}

/// A zero-copy view of an order record (kind 102). Invariant: `base` points at
/// `OrderRecordLayout.size` readable bytes.
public struct OrderRecordView: RecordHeaderView {
    public let base: UnsafeRawPointer
    @inlinable public init(_ base: UnsafeRawPointer) { self.base = base }

    @inlinable public var orderId: UInt64 {
        base.loadLittleEndian(fromByteOffset: OrderRecordLayout.orderId, as: UInt64.self)
    }
    @inlinable public var price: Int64 {
        base.loadLittleEndian(fromByteOffset: OrderRecordLayout.price, as: Int64.self)
    }
    @inlinable public var quantity: UInt32 {
        base.loadLittleEndian(fromByteOffset: OrderRecordLayout.quantity, as: UInt32.self)
    }
    @inlinable public var rawSide: UInt8 {
        base.loadLittleEndian(fromByteOffset: OrderRecordLayout.side, as: UInt8.self)
    }
    @inlinable public var side: Side? { Side(rawValue: rawSide) }
    /// 1 new, 2 cancel (`OrderRecordLayout.actionNew`, `.actionCancel`).
    @inlinable public var action: UInt8 {
        base.loadLittleEndian(fromByteOffset: OrderRecordLayout.action, as: UInt8.self)
    }
    /// 1 DAY, 2 IOC.
    @inlinable public var tif: UInt8 { base.loadLittleEndian(fromByteOffset: OrderRecordLayout.tif, as: UInt8.self) }
    @inlinable public var rawPolicyReason: UInt8 {
        base.loadLittleEndian(fromByteOffset: OrderRecordLayout.policyReason, as: UInt8.self)
    }
    public var policyReason: OrderPolicyReason? { OrderPolicyReason(rawValue: rawPolicyReason) }
    @inlinable public var sentTime: Int64 {
        base.loadLittleEndian(fromByteOffset: OrderRecordLayout.sentTime, as: Int64.self)
    }
    @inlinable public var arrivalTime: Int64 {
        base.loadLittleEndian(fromByteOffset: OrderRecordLayout.arrivalTime, as: Int64.self)
    }
    @inlinable public var actingModelId: UInt64 {
        base.loadLittleEndian(fromByteOffset: OrderRecordLayout.actingModelId, as: UInt64.self)
    }
}

/// A zero-copy view of an order event record (kind 103). Invariant: `base` points at
/// `OrderEventRecordLayout.size` readable bytes.
public struct OrderEventRecordView: RecordHeaderView {
    public let base: UnsafeRawPointer
    @inlinable public init(_ base: UnsafeRawPointer) { self.base = base }

    @inlinable public var orderId: UInt64 {
        base.loadLittleEndian(fromByteOffset: OrderEventRecordLayout.orderId, as: UInt64.self)
    }
    /// `OrderEventKind`'s raw value (1 ack, 2 reject, 3 cancelled, 4 cancel rejected).
    @inlinable public var event: UInt8 {
        base.loadLittleEndian(fromByteOffset: OrderEventRecordLayout.event, as: UInt8.self)
    }
    /// `OrderRejectReason`'s raw value (0 none).
    @inlinable public var reason: UInt8 {
        base.loadLittleEndian(fromByteOffset: OrderEventRecordLayout.reason, as: UInt8.self)
    }
    @inlinable public var fee: Double { double(OrderEventRecordLayout.fee) }
    @inlinable public var quantity: UInt32 {
        base.loadLittleEndian(fromByteOffset: OrderEventRecordLayout.quantity, as: UInt32.self)
    }
    @inlinable public var eventTime: Int64 {
        base.loadLittleEndian(fromByteOffset: OrderEventRecordLayout.eventTime, as: Int64.self)
    }
}

/// A zero-copy view of a fill record (kind 104). Invariant: `base` points at
/// `FillRecordLayout.size` readable bytes.
public struct FillRecordView: RecordHeaderView {
    public let base: UnsafeRawPointer
    @inlinable public init(_ base: UnsafeRawPointer) { self.base = base }

    @inlinable public var orderId: UInt64 {
        base.loadLittleEndian(fromByteOffset: FillRecordLayout.orderId, as: UInt64.self)
    }
    @inlinable public var price: Int64 { base.loadLittleEndian(fromByteOffset: FillRecordLayout.price, as: Int64.self) }
    @inlinable public var quantity: UInt32 {
        base.loadLittleEndian(fromByteOffset: FillRecordLayout.quantity, as: UInt32.self)
    }
    @inlinable public var rawSide: UInt8 {
        base.loadLittleEndian(fromByteOffset: FillRecordLayout.side, as: UInt8.self)
    }
    @inlinable public var side: Side? { Side(rawValue: rawSide) }
    /// 1 maker, 2 taker.
    @inlinable public var liquidity: UInt8 {
        base.loadLittleEndian(fromByteOffset: FillRecordLayout.liquidity, as: UInt8.self)
    }
    @inlinable public var fee: Double { double(FillRecordLayout.fee) }
    @inlinable public var positionAfter: Int64 {
        base.loadLittleEndian(fromByteOffset: FillRecordLayout.positionAfter, as: Int64.self)
    }
    @inlinable public var cashAfter: Double { double(FillRecordLayout.cashAfter) }
    @inlinable public var remaining: UInt32 {
        base.loadLittleEndian(fromByteOffset: FillRecordLayout.remaining, as: UInt32.self)
    }
    @inlinable public var fillTime: Int64 {
        base.loadLittleEndian(fromByteOffset: FillRecordLayout.fillTime, as: Int64.self)
    }
}

/// A zero-copy view of a risk record (kind 105). Invariant: `base` points at
/// `RiskRecordLayout.size` readable bytes.
public struct RiskRecordView: RecordHeaderView {
    public let base: UnsafeRawPointer
    @inlinable public init(_ base: UnsafeRawPointer) { self.base = base }

    @inlinable public var rawCode: UInt8 {
        base.loadLittleEndian(fromByteOffset: RiskRecordLayout.code, as: UInt8.self)
    }
    public var code: RiskEventCode? { RiskEventCode(rawValue: rawCode) }
    @inlinable public var value: Double { double(RiskRecordLayout.value) }
    @inlinable public var limit: Double { double(RiskRecordLayout.limit) }
    @inlinable public var orderId: UInt64 {
        base.loadLittleEndian(fromByteOffset: RiskRecordLayout.orderId, as: UInt64.self)
    }
}
