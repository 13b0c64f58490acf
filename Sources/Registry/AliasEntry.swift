/// One alias move: a JSON line of the alias log (canonical form), chained to the one before by
/// `prev` (the sha256 of the previous line; 64 zeros for the first).
public struct AliasEntry: Equatable, Sendable {
    public var seq: Int
    public var prev: String
    public var timeNs: Int64
    public var name: String
    public var alias: String
    /// The version that held the alias before ("" for the first move).
    public var from: String
    public var to: String
    public var reason: String
    public var who: String
    /// sha256 of the policy file in force (stored as an object).
    public var policy: String
    /// sha256 of the gate results object ("" when the alias is not gated).
    public var evidence: String
    /// sha256 of each approval object the move used.
    public var approvals: [String]

    /// The first entry's `prev`.
    public static let genesis = String(repeating: "0", count: 64)

    var json: CanonicalJSON {
        .object([
            "seq": .integer(seq), "prev": .string(prev), "time_ns": .string(String(timeNs)), "name": .string(name),
            "alias": .string(alias),
            "from": .string(from), "to": .string(to), "reason": .string(reason), "who": .string(who),
            "policy": .string(policy),
            "evidence": .string(evidence), "approvals": .array(approvals.map { .string($0) }),
        ])
    }

    /// The line's bytes (no newline); their sha256 is the entry's hash (`hash`).
    public var bytes: [UInt8] { json.bytes }

    /// Reads one log line (without its newline).
    public init(line: [UInt8], what: String) throws(RegistryError) {
        let j = try CanonicalJSON.parseCanonical(line, what: what)
        guard let o = j.object,
            Set(o.keys) == [
                "seq", "prev", "time_ns", "name", "alias", "from", "to", "reason", "who", "policy", "evidence",
                "approvals",
            ]
        else {
            throw .malformed(
                what: what,
                reason: "fields are \(j.object?.keys.sorted() ?? []), not those of an alias entry"
            )
        }
        func str(_ k: String) throws(RegistryError) -> String {
            guard let s = o[k]?.string else { throw .malformed(what: what, reason: "'\(k)' is not a string") }
            return s
        }
        func digest(_ k: String, empty: Bool) throws(RegistryError) -> String {
            let s = try str(k)
            guard Digest.isDigest(s) || (empty && s.isEmpty) else {
                throw .malformed(what: what, reason: "'\(k)' is not a sha256: '\(s)'")
            }
            return s
        }
        guard let seq = o["seq"]?.integer else { throw .malformed(what: what, reason: "'seq' is not an integer") }
        let t = try str("time_ns")
        // Plain decimal as the writer prints it: "+5" or "05" would be another line for the same
        // entry (and another hash).
        guard let time = Int64(t), time >= 0, String(time) == t else {
            throw .malformed(what: what, reason: "'time_ns' is not ns since the epoch in plain decimal: '\(t)'")
        }
        guard let approvalList = o["approvals"]?.array else {
            throw .malformed(what: what, reason: "'approvals' is not an array")
        }
        var approvals: [String] = []
        for a in approvalList {
            guard let s = a.string, Digest.isDigest(s) else {
                throw .malformed(what: what, reason: "'approvals' holds a non-sha256")
            }
            approvals.append(s)
        }
        self.init(
            seq: seq,
            prev: try digest("prev", empty: false),
            timeNs: time,
            name: try str("name"),
            alias: try str("alias"),
            from: try digest("from", empty: true),
            to: try digest("to", empty: false),
            reason: try str("reason"),
            who: try str("who"),
            policy: try digest("policy", empty: false),
            evidence: try digest("evidence", empty: true),
            approvals: approvals
        )
    }

    public init(
        seq: Int,
        prev: String,
        timeNs: Int64,
        name: String,
        alias: String,
        from: String,
        to: String,
        reason: String,
        who: String,
        policy: String,
        evidence: String,
        approvals: [String]
    ) {
        (self.seq, self.prev, self.timeNs, self.name, self.alias, self.from, self.to) = (
            seq, prev, timeNs, name, alias, from, to
        )
        (self.reason, self.who, self.policy, self.evidence, self.approvals) = (reason, who, policy, evidence, approvals)
    }
}
