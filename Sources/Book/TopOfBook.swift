/// Best bid and best ask of one instrument; a side with `shares == 0` is empty.
public struct TopOfBook: Equatable, Sendable {
    public var bid: PriceLevel
    public var ask: PriceLevel
    @inlinable public init(bid: PriceLevel, ask: PriceLevel) {
        self.bid = bid
        self.ask = ask
    }
    public static let empty = TopOfBook(
        bid: PriceLevel(price: 0, shares: 0, orders: 0),
        ask: PriceLevel(price: 0, shares: 0, orders: 0)
    )
}
