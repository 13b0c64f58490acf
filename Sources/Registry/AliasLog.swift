import Foundation

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

    /// The line's bytes (no newline); their sha256 is the entry's hash.
    public var bytes: [UInt8] { json.bytes }
    /// The entry's hash: what the next entry's `prev` holds.
    public var hash: String { ObjectStore.sha256(bytes) }

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
            guard ObjectStore.isDigest(s) || (empty && s.isEmpty) else {
                throw .malformed(what: what, reason: "'\(k)' is not a sha256: '\(s)'")
            }
            return s
        }
        guard let seq = o["seq"]?.integer else { throw .malformed(what: what, reason: "'seq' is not an integer") }
        let t = try str("time_ns")
        guard let time = Int64(t), time >= 0 else {
            throw .malformed(what: what, reason: "'time_ns' is not ns since the epoch: '\(t)'")
        }
        var approvals: [String] = []
        for a in o["approvals"]?.array ?? [] {
            guard let s = a.string, ObjectStore.isDigest(s) else {
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

/// The append-only log of one NAME@ALIAS: `aliases/NAME@ALIAS.log` (one entry per line) and
/// `aliases/NAME@ALIAS.head` (`{"count":N,"last":"<hash>"}`), which catches a cut tail.
public struct AliasLog: Sendable {
    public let name: String
    public let alias: String
    let logPath: String
    let headPath: String

    /// The head file's content for a log of `count` entries ending in `last`.
    static func head(count: Int, last: String) -> [UInt8] {
        CanonicalJSON.object(["count": .integer(count), "last": .string(last)]).bytes
    }

    /// The raw lines, each with its 1-based line number (an empty log when the file is absent).
    func lines() throws(RegistryError) -> [[UInt8]] {
        guard FileIO.exists(logPath) else { return [] }
        let bytes = try FileIO.read(logPath)
        guard !bytes.isEmpty else { return [] }
        guard bytes.last == 10 else {
            throw .malformed(what: logPath, reason: "last line has no newline (a cut or partial write)")
        }
        return bytes.dropLast().split(separator: 10, omittingEmptySubsequences: false).map(Array.init)
    }

    /// Every entry, checked: parse, seq, the hash chain, and the head file.
    public func entries() throws(RegistryError) -> [AliasEntry] {
        var out: [AliasEntry] = []
        var prev = AliasEntry.genesis
        for (i, line) in try lines().enumerated() {
            let what = "\(logPath):\(i + 1)"
            let e = try AliasEntry(line: line, what: what)
            guard e.seq == i else {
                throw .malformed(
                    what: what,
                    reason: "seq is \(e.seq), expected \(i) (an entry was removed or inserted)"
                )
            }
            guard e.prev == prev else {
                throw .malformed(
                    what: what,
                    reason: "prev is \(e.prev), but the entry before hashes to \(prev) (edited or removed entry)"
                )
            }
            guard e.name == name, e.alias == alias else {
                throw .malformed(what: what, reason: "entry is for \(e.name)@\(e.alias), not \(name)@\(alias)")
            }
            prev = ObjectStore.sha256(line)
            out.append(e)
        }
        let want = Self.head(count: out.count, last: prev)
        if !out.isEmpty || FileIO.exists(headPath) {
            let head = FileIO.exists(headPath) ? try FileIO.read(headPath) : []
            guard head == want else {
                throw .malformed(
                    what: headPath,
                    reason:
                        "head says \(String(decoding: head, as: UTF8.self)), the log has \(String(decoding: want, as: UTF8.self)) (entries cut or added)"
                )
            }
        }
        return out
    }

    /// The entry in effect at `timeNs`: the last move at or before it (nil before the first).
    public func entry(at timeNs: Int64) throws(RegistryError) -> AliasEntry? {
        try entries().last { $0.timeNs <= timeNs }
    }

    /// Appends `make(previous entries)` under an exclusive lock (one writer per alias at a time).
    func append(_ make: ([AliasEntry]) throws(RegistryError) -> AliasEntry) throws(RegistryError) -> AliasEntry {
        let lockPath = logPath + ".lock"
        let fd = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: lockPath, operation: "open", reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else {
            throw .io(path: lockPath, operation: "lock", reason: String(cString: strerror(errno)))
        }
        let existing = try entries()
        let entry = try make(existing)
        let line = entry.bytes + [10]
        let out = open(logPath, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o644)
        guard out >= 0 else { throw .io(path: logPath, operation: "open", reason: String(cString: strerror(errno))) }
        defer { close(out) }
        let written = line.withUnsafeBytes { write(out, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(out) == 0 else {
            throw .io(path: logPath, operation: "append to", reason: String(cString: strerror(errno)))
        }
        try FileIO.writeAtomically(Self.head(count: existing.count + 1, last: entry.hash), to: headPath, mode: 0o644)
        return entry
    }
}

extension Registry {
    /// The log of NAME@ALIAS (which may not exist yet).
    public func aliasLog(name: String, alias: String) throws(RegistryError) -> AliasLog {
        try Self.checkName(name, what: "name")
        try Self.checkName(alias, what: "alias")
        let base = aliasDirectory + "/" + name + "@" + alias
        return AliasLog(name: name, alias: alias, logPath: base + ".log", headPath: base + ".head")
    }

    /// Every NAME@ALIAS with a log.
    public func aliasNames() throws(RegistryError) -> [String] {
        try FileIO.list(aliasDirectory).filter { $0.hasSuffix(".log") }.map { String($0.dropLast(4)) }
    }
}

extension Registry {
    /// Where every alias points now: NAME@ALIAS → version id (a damaged log is left out; `verify` names it).
    public func currentAliases() throws(RegistryError) -> [String: String] {
        var out: [String: String] = [:]
        for na in try aliasNames() {
            guard let (n, a) = try? Self.splitAlias(na), let last = try? aliasLog(name: n, alias: a).entries().last
            else { continue }
            out[na] = last.to
        }
        return out
    }
}

extension AliasEntry {
    /// The entry as JSON for `history --json`, with its hash and the time in ISO 8601.
    public var reportJSON: CanonicalJSON {
        guard case .object(var o) = json else { return json }
        o["hash"] = .string(hash)
        o["time"] = .string(Registry.formatTime(timeNs))
        return .object(o)
    }

    /// One line for `history`.
    public var reportText: String {
        "\(seq) \(Registry.formatTime(timeNs)) \(name)@\(alias) \(from.isEmpty ? "-" : from) -> \(to) who=\"\(who)\" reason=\"\(reason)\""
            + (evidence.isEmpty ? "" : " evidence=\(evidence)")
            + (approvals.isEmpty ? "" : " approvals=\(approvals.joined(separator: ","))")
    }
}

extension Manifest {
    /// The manifest as JSON for `show`/`list --json`, with its id and the aliases holding it.
    public func reportJSON(id: String, aliases: [String]) -> CanonicalJSON {
        .object(["id": .string(id), "manifest": json, "aliases": .array(aliases.sorted().map { .string($0) })])
    }
}
