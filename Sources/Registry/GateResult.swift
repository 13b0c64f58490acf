/// One gate's outcome on one move.
public struct GateResult: Equatable, Sendable {
    public var gate: String
    public var passed: Bool
    /// What was measured or why it failed.
    public var detail: String
    /// Approval objects the gate accepted (the approvals gate only).
    public var approvals: [String] = []

    var json: CanonicalJSON {
        .object([
            "gate": .string(gate), "passed": .string(passed ? "yes" : "no"), "detail": .string(detail),
            "approvals": .array(approvals.map { .string($0) }),
        ])
    }
}
