import TickBusCore

/// What the book knew about an order it just changed (the feed handler fills execute and replace
/// messages with it, because ITCH executions carry only the reference number).
public struct OrderInfo: Equatable, Sendable {
    public var instrument: UInt32
    public var side: Side
    public var price: Int64
    /// Shares left after the change.
    public var remaining: UInt32
    @inlinable public init(instrument: UInt32, side: Side, price: Int64, remaining: UInt32) {
        self.instrument = instrument
        self.side = side
        self.price = price
        self.remaining = remaining
    }
}
