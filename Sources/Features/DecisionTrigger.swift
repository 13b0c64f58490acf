/// When a message is a decision point (a row of the table, a decision record).
public enum DecisionTrigger: String, Sendable {
    /// Every book or trade message of a selected instrument.
    case every
    /// Only when the best bid or ask (price or size) changed, or on a trade.
    case topChange = "top_change"
}
