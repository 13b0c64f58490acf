import Foundation

extension Registry {
    /// Moves NAME@ALIAS to a version after its gates pass (when the policy gates the alias); the
    /// gate results and the policy are stored as objects and referenced from the new log entry.
    /// A refusal names every failing gate. There is no way around the gates.
    public func setAlias(
        _ nameAlias: String,
        to reference: String,
        reason: String,
        who: String = Registry.who(),
        timeNs: Int64 = Registry.nowNs()
    ) throws(RegistryError) -> AliasEntry {
        let (name, alias) = try Self.splitAlias(nameAlias)
        guard !reason.trimmingSpaces.isEmpty else { throw .invalidArgument("--reason must say why the alias moves") }
        let v = try resolve(reference)
        guard v.manifest.name == name else {
            throw .invalidArgument("version \(v.id.prefix(12)) is '\(v.manifest.name)', not '\(name)'")
        }
        let policy = try policy()
        var evidence = ""
        var approvals: [String] = []
        if let rule = policy.aliases[alias] {
            let results = gates(v, alias: nameAlias, rule: rule, policy: policy)
            let failed = results.filter { !$0.passed }
            guard failed.isEmpty else { throw .refused(alias: nameAlias, version: v.id, failures: failed) }
            approvals = results.flatMap(\.approvals)
            let record = CanonicalJSON.object([
                "kind": .string("gate-results"), "version": .string(v.id), "alias": .string(nameAlias),
                "policy": .string(policy.hash),
                "time_ns": .string(String(timeNs)), "results": .array(results.map(\.json)),
            ])
            evidence = try objects.put(record.bytes)
        }
        let policyObject = try objects.put(policy.bytes)
        return try aliasLog(name: name, alias: alias).append { (previous) throws(RegistryError) -> AliasEntry in
            AliasEntry(
                seq: previous.count,
                prev: previous.last?.hash ?? AliasEntry.genesis,
                timeNs: timeNs,
                name: name,
                alias: alias,
                from: previous.last?.to ?? "",
                to: v.id,
                reason: reason,
                who: who,
                policy: policyObject,
                evidence: evidence,
                approvals: approvals
            )
        }
    }

    /// The user name and uid of this process.
    public static func who() -> String {
        let uid = getuid()
        if let pw = getpwuid(uid), let n = pw.pointee.pw_name { return "\(String(cString: n)) (uid \(uid))" }
        return "uid \(uid)"
    }

    /// Wall-clock time, ns since the epoch.
    public static func nowNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// `--at TIME`: ns since the epoch, or ISO 8601 UTC (`2026-12-02T05:30:00Z`, fractions up to ns).
    public static func parseTime(_ s: String) throws(RegistryError) -> Int64 {
        if !s.isEmpty, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            guard let v = Int64(s) else { throw .invalidArgument("time \(s): too large for ns since the epoch") }
            return v
        }
        let bad = RegistryError.invalidArgument(
            "time '\(s)' is neither ns since the epoch nor ISO 8601 UTC like 2026-12-02T05:30:00Z"
        )
        let u = Array(s.utf8)
        guard u.count >= 20, u.last == UInt8(ascii: "Z"), u[4] == 45, u[7] == 45, u[10] == UInt8(ascii: "T"),
            u[13] == 58, u[16] == 58
        else { throw bad }
        func num(_ a: Int, _ b: Int) -> Int? { Int(String(decoding: u[a..<b], as: UTF8.self)) }
        guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13), let mi = num(14, 16),
            let sec = num(17, 19),
            (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61
        else { throw bad }
        var frac: Int64 = 0
        if u.count > 20 {
            let digits = u[20..<(u.count - 1)]
            guard u[19] == 46, (1...9).contains(digits.count), digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                throw bad
            }
            frac = Int64(String(decoding: digits, as: UTF8.self))! * Int64(pow(10.0, Double(9 - digits.count)))
        } else if u.count != 20 {
            throw bad
        }
        // Days from civil (Howard Hinnant's algorithm).
        let yy = mo <= 2 ? y - 1 : y
        let era = yy / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
        return (Int64(days) * 86_400 + Int64(h * 3600 + mi * 60 + sec)) * 1_000_000_000 + frac
    }

    /// ns since the epoch as ISO 8601 UTC with nanoseconds.
    public static func formatTime(_ ns: Int64) -> String {
        let secs = ns / 1_000_000_000
        let frac = ns % 1_000_000_000
        let days = Int(secs / 86_400)
        let rem = Int(secs % 86_400)
        // Civil from days (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func p(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return
            "\(p(y, 4))-\(p(m, 2))-\(p(d, 2))T\(p(rem / 3600, 2)):\(p(rem / 60 % 60, 2)):\(p(rem % 60, 2)).\(p(Int(frac), 9))Z"
    }
}
