/// One aggregated price level of one side of one instrument.
public struct PriceLevel: Equatable, Sendable {
    /// Price in 1e-4 of the currency unit.
    public var price: Int64
    /// Visible shares resting at this price.
    public var shares: Int64
    /// Number of resting orders at this price (in level-addressed mode: see `MarketFlags.levelAddressed`).
    public var orders: Int32
    @inlinable public init(price: Int64, shares: Int64, orders: Int32) {
        self.price = price
        self.shares = shares
        self.orders = orders
    }
}
