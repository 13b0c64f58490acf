import TickBusCore

/// Whether an own order rests until cancelled (`day`) or cancels whatever it could not take at
/// arrival (`ioc`).
public enum TimeInForce: UInt8, Sendable, CustomStringConvertible {
    case day = 1
    case ioc = 2
    public var description: String { self == .day ? "DAY" : "IOC" }
}

/// Whether a fill added liquidity (the own order rested) or took it (it crossed at arrival).
public enum Liquidity: UInt8, Sendable, CustomStringConvertible {
    case maker = 1
    case taker = 2
    public var description: String { self == .maker ? "maker" : "taker" }
}

/// The delays of Docs/EXECUTION.md rules 1 and 7, in exchange-time ns.
public struct ExecutionLatency: Sendable, Equatable {
    /// From sending an own action to its arrival at the simulated exchange.
    public var orderNs: Int64
    /// From an exchange event (fill, acknowledgment) to the strategy seeing it.
    public var responseNs: Int64
    @inlinable public init(orderNs: Int64, responseNs: Int64) {
        self.orderNs = orderNs
        self.responseNs = responseNs
    }
    public static let zero = ExecutionLatency(orderNs: 0, responseNs: 0)
}

/// Fees in dollars: per share for maker and taker fills (a rebate is negative) and per order sent.
public struct ExecutionFees: Sendable, Equatable {
    public var makerPerShare: Double
    public var takerPerShare: Double
    public var perOrder: Double
    @inlinable public init(makerPerShare: Double = 0, takerPerShare: Double = 0, perOrder: Double = 0) {
        self.makerPerShare = makerPerShare
        self.takerPerShare = takerPerShare
        self.perOrder = perOrder
    }
    public static let zero = ExecutionFees()
}

/// An own action as the strategy or an order file sends it: a new limit order or a cancel.
public struct OwnAction: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case new = 1
        case cancel = 2
    }
    public var kind: Kind
    /// The own order's id (for a cancel: the id of the order it cancels). Unique per session.
    public var orderId: UInt64
    /// Exchange time at which it was sent (ns since midnight); it arrives `latency.orderNs` later.
    public var sentTime: Int64
    public var instrument: UInt32
    public var side: Side
    /// Limit price in 1e-4.
    public var price: Int64
    public var quantity: UInt32
    public var tif: TimeInForce

    @inlinable
    public init(
        kind: Kind,
        orderId: UInt64,
        sentTime: Int64,
        instrument: UInt32 = 0,
        side: Side = .buy,
        price: Int64 = 0,
        quantity: UInt32 = 0,
        tif: TimeInForce = .day
    ) {
        self.kind = kind
        self.orderId = orderId
        self.sentTime = sentTime
        self.instrument = instrument
        self.side = side
        self.price = price
        self.quantity = quantity
        self.tif = tif
    }

    /// A new limit order.
    @inlinable
    public static func new(
        id: UInt64,
        at time: Int64,
        instrument: UInt32,
        side: Side,
        price: Int64,
        quantity: UInt32,
        tif: TimeInForce = .day
    ) -> OwnAction {
        OwnAction(
            kind: .new,
            orderId: id,
            sentTime: time,
            instrument: instrument,
            side: side,
            price: price,
            quantity: quantity,
            tif: tif
        )
    }

    /// A cancel of order `id`.
    @inlinable public static func cancel(id: UInt64, at time: Int64) -> OwnAction {
        OwnAction(kind: .cancel, orderId: id, sentTime: time)
    }
}

/// A fill of an own order (Docs/EXECUTION.md, "fills.csv").
public struct Fill: Sendable, Equatable {
    public var orderId: UInt64
    public var instrument: UInt32
    public var side: Side
    /// The exchange time of the market message that caused it, or the arrival time for a taker fill.
    public var time: Int64
    /// The ring `market` sequence of the message that caused it (for a taker fill: the last message
    /// processed before the arrival, 0 when none).
    public var marketSequence: UInt64
    /// Price in 1e-4 (maker: the own limit; taker: the level's price).
    public var price: Int64
    public var quantity: UInt32
    public var liquidity: Liquidity
    /// Dollars (per-share fee × quantity; negative for a rebate).
    public var fee: Double
    /// Shares of the order left after this fill.
    public var remaining: UInt32

    @inlinable
    public init(
        orderId: UInt64,
        instrument: UInt32,
        side: Side,
        time: Int64,
        marketSequence: UInt64,
        price: Int64,
        quantity: UInt32,
        liquidity: Liquidity,
        fee: Double,
        remaining: UInt32
    ) {
        self.orderId = orderId
        self.instrument = instrument
        self.side = side
        self.time = time
        self.marketSequence = marketSequence
        self.price = price
        self.quantity = quantity
        self.liquidity = liquidity
        self.fee = fee
        self.remaining = remaining
    }
}

/// What happened to an own order other than a fill (Docs/EXECUTION.md, "events.csv").
public enum OrderEventKind: UInt8, Sendable, CustomStringConvertible {
    /// A new order arrived and was accepted (it may fill or rest).
    case ack = 1
    /// A new order was refused (`reason` says why).
    case reject = 2
    /// A cancel removed the remaining quantity, or an IOC's rest was cancelled at arrival.
    case cancelled = 3
    /// A cancel arrived after the order was filled, cancelled or never existed.
    case cancelRejected = 4
    public var description: String {
        switch self {
        case .ack: return "ack"
        case .reject: return "reject"
        case .cancelled: return "cancelled"
        case .cancelRejected: return "cancel_rejected"
        }
    }
}

/// Why an own action was refused by the simulated exchange.
public enum OrderRejectReason: UInt8, Sendable, CustomStringConvertible {
    case none = 0
    /// No market message of this instrument was seen before the arrival.
    case unknownInstrument = 1
    /// Quantity zero.
    case zeroQuantity = 2
    /// Price zero or negative, or off the tick grid (Reg NMS rule 612).
    case badPrice = 3
    /// Another order with this id was sent before.
    case duplicateId = 4
    /// A cancel arriving when nothing remains (filled, cancelled, or IOC).
    case tooLate = 5
    /// A cancel naming an id never sent.
    case unknownOrder = 6
    /// More orders resting than the simulator holds (`maxOrders`).
    case capacity = 7
    /// The IOC remainder (`cancelled` events) or a cancel request (`cancelled` after a cancel).
    case ioc = 8
    case cancelRequested = 9
    /// An order id the simulator cannot hold (UInt64.max).
    case badId = 10
    public var description: String {
        switch self {
        case .none: return ""
        case .unknownInstrument: return "unknown_instrument"
        case .zeroQuantity: return "zero_quantity"
        case .badPrice: return "bad_price"
        case .duplicateId: return "duplicate_id"
        case .tooLate: return "too_late"
        case .unknownOrder: return "unknown_order"
        case .capacity: return "capacity"
        case .ioc: return "ioc"
        case .cancelRequested: return "cancel"
        case .badId: return "bad_id"
        }
    }
}

/// An order event at the simulated exchange.
public struct OrderEvent: Sendable, Equatable {
    public var orderId: UInt64
    public var instrument: UInt32
    /// The exchange time at which it happened (the action's arrival time).
    public var time: Int64
    public var kind: OrderEventKind
    public var reason: OrderRejectReason
    /// Dollars charged with this event (the per-order fee on `ack`).
    public var fee: Double
    /// Shares cancelled (for `cancelled`).
    public var quantity: UInt32

    @inlinable
    public init(
        orderId: UInt64,
        instrument: UInt32,
        time: Int64,
        kind: OrderEventKind,
        reason: OrderRejectReason = .none,
        fee: Double = 0,
        quantity: UInt32 = 0
    ) {
        self.orderId = orderId
        self.instrument = instrument
        self.time = time
        self.kind = kind
        self.reason = reason
        self.fee = fee
        self.quantity = quantity
    }
}

/// Where the simulator reports what happened. Generic (`@inlinable` methods take `inout S`), never
/// an existential, so the calls specialise and inline on the hot path.
public protocol ExecutionSink {
    mutating func fill(_ fill: Fill)
    mutating func orderEvent(_ event: OrderEvent)
}

/// Reg NMS rule 612 (minimum pricing increment): $0.01 at or above $1.00, $0.0001 below.
/// Prices are in 1e-4 dollars.
public enum TickGrid {
    @inlinable public static func isValid(_ price: Int64) -> Bool {
        guard price > 0 else { return false }
        return price < 10_000 || price % 100 == 0
    }
}
