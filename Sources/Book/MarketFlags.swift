/// Bits of the `flags` field of market messages (see Docs/FEED.md).
public enum MarketFlags {
    /// The event addresses a price level, not an order: apply `quantity` at (`side`, `price`) and
    /// ignore the order id. LOBSTER sources publish every book event this way.
    public static let levelAddressed: UInt16 = 1 << 0
    /// An add that seeds the initial book from a snapshot (LOBSTER's first order-book row).
    public static let seed: UInt16 = 1 << 1
    /// An add that refills a level revealed from below the source's depth (taken from LOBSTER's order-book file).
    public static let refill: UInt16 = 1 << 2
    /// A delete of a whole level that fell below the source's depth (LOBSTER: no longer tracked).
    public static let truncate: UInt16 = 1 << 3
    /// An execute whose price is the execution price, not the order's (ITCH C, executed with price).
    public static let executionPrice: UInt16 = 1 << 4
    /// A trade that is a cross (ITCH Q, LOBSTER type 6).
    public static let cross: UInt16 = 1 << 5
}
