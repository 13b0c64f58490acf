/// Buy above one threshold, sell below another, else flat.
public struct SignalRule: Sendable, Equatable {
    public var buyAbove: Double
    public var sellBelow: Double
    @inlinable public init(buyAbove: Double, sellBelow: Double) {
        self.buyAbove = buyAbove
        self.sellBelow = sellBelow
    }
    /// +1, −1 or 0.
    @inlinable public func signal(_ prediction: Double) -> Int8 {
        prediction > buyAbove ? 1 : prediction < sellBelow ? -1 : 0
    }
}
