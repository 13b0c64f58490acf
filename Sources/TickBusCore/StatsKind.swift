/// What kind of process writes a stats block (a label in telemetry).
public enum StatsKind: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case other = 0
    case strategy = 1
    case feed = 2
    case recorder = 3
    /// `tickbus control serve`: its control counters are submissions accepted, refused, malformed.
    case control = 4

    public var description: String {
        switch self {
        case .other: return "other"
        case .strategy: return "strategy"
        case .feed: return "feed"
        case .recorder: return "recorder"
        case .control: return "control"
        }
    }
}
