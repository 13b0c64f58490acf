/// The counters of a stats block. Raw values are slot indices: never renumber, only append.
public enum StatsCounter: Int, Sendable, CaseIterable {
    /// Market messages the process consumed.
    case messages = 0
    /// Decision records published.
    case decisions = 1
    /// Decisions with a non-zero signal.
    case signals = 2
    /// Decisions where the live and the shadow model disagree (different signal).
    case disagreements = 3
    /// Decisions made with a shadow model present (the denominator of disagreements).
    case shadowDecisions = 4
    /// Gaps (laps) the process saw on its input ring.
    case gaps = 5
    /// Messages it lost to those gaps.
    case lost = 6
    /// Control commands the strategy applied (`StatsWriter.recordControl(applied: true, …)`).
    case controlApplied = 7
    /// Control commands it rejected (a control record with a rejection code).
    case controlRejected = 8
    /// Slots of ring `control` that did not decode as a command (`ControlCommand.decode` threw).
    case controlMalformed = 9

    /// The metric name stem (`tickbus_<kind>_<stem>_total`).
    public var metricStem: String {
        switch self {
        case .messages: return "messages"
        case .decisions: return "decisions"
        case .signals: return "signals"
        case .disagreements: return "disagreements"
        case .shadowDecisions: return "shadow_decisions"
        case .gaps: return "gaps"
        case .lost: return "lost_messages"
        case .controlApplied: return "control_applied"
        case .controlRejected: return "control_rejected"
        case .controlMalformed: return "control_malformed"
        }
    }
}
