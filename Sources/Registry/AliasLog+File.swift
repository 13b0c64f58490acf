import Foundation

extension AliasLog {
    /// Every entry, checked: parse, seq, the hash chain, and the head file (`check`).
    public func entries() throws(RegistryError) -> [AliasEntry] {
        let log = FileIO.exists(logPath) ? try FileIO.read(logPath) : []
        let head = FileIO.exists(headPath) ? try FileIO.read(headPath) : nil
        return try check(log: log, head: head, hash: ObjectStore.sha256)
    }

    /// The entry in effect at `timeNs`: the last move at or before it (nil before the first).
    public func entry(at timeNs: Int64) throws(RegistryError) -> AliasEntry? {
        try entries().last { $0.timeNs <= timeNs }
    }

    /// Appends `make(previous entries)` under an exclusive lock (one writer per alias at a time).
    /// The new head is written to a temporary file first, so a directory that refuses it fails
    /// the move before the log changes: nothing is half-written (a log line without its head).
    func append(_ make: ([AliasEntry]) throws(RegistryError) -> AliasEntry) throws(RegistryError) -> AliasEntry {
        let lockPath = logPath + ".lock"
        let fd = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: lockPath, operation: "open", reason: FileIO.reason(errno: errno)) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else {
            throw .io(path: lockPath, operation: "lock", reason: FileIO.reason(errno: errno))
        }
        let existing = try entries()
        let entry = try make(existing)
        let line = entry.bytes + [10]
        let head = try FileIO.prepare(
            Self.head(count: existing.count + 1, last: entry.hash),
            for: headPath,
            mode: 0o644
        )
        let out = open(logPath, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o644)
        guard out >= 0 else {
            let e = errno
            FileIO.discard(head)
            throw .io(path: logPath, operation: "open", reason: FileIO.reason(errno: e))
        }
        defer { close(out) }
        let written = line.withUnsafeBytes { write(out, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(out) == 0 else {
            let e = errno
            FileIO.discard(head)
            throw .io(path: logPath, operation: "append to", reason: FileIO.reason(errno: e))
        }
        try FileIO.commit(head, to: headPath)
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
