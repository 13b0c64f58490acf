import Features

#if canImport(Glibc)
import Glibc
#endif

extension DriftPolicy {
    /// A policy file is small; a larger one is refused before it is read.
    public static let maxFileBytes = 1 << 20
    /// Levels a policy may declare.
    public static let maxLevels = 16

    /// Reads and parses a policy file.
    /// - Throws: `PolicyError.io` (with the errno), `.tooLarge`, or the parse error inside `.file`.
    public static func load(path: String) throws(PolicyError) -> DriftPolicy {
        var st = stat()
        guard stat(path, &st) == 0 else { throw .io(path: path, errno: errno) }
        guard Int(st.st_size) <= maxFileBytes else { throw .tooLarge(path: path, bytes: Int(st.st_size)) }
        let text: String
        do { text = try TOMLLine.readFile(path: path) } catch {
            if case .io(_, let e) = error { throw .io(path: path, errno: e) }
            throw .io(path: path, errno: EIO)
        }
        do { return try parse(text) } catch { throw .file(path: path, error) }
    }

    /// Parses the text of a policy file (Docs/DRIFT.md, "Policy"): unknown tables and keys are
    /// refused with their line, and so is a threshold that could never breach or always would.
    /// - Throws: `PolicyError` naming the line, the table and the key.
    public static func parse(_ text: String) throws(PolicyError) -> DriftPolicy {
        var policy = DriftPolicy()
        var table: PolicyTable?
        var seen: [String: Int] = [:]  // "table.key" -> line
        var levelLines: [Int] = []
        var canaryLine = 0
        var lineNo = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            guard let parsed = try PolicyLine.parse(rawLine, line: lineNo) else { continue }
            switch parsed {
            case .header(let header):
                guard let t = PolicyTable(header: header) else { throw .unknownTable(line: lineNo, header: header) }
                if let first = seen[t.name] { throw .duplicateTable(line: lineNo, header: header, firstLine: first) }
                seen[t.name] = lineNo
                switch t {
                case .level(let name):
                    guard policy.levels.count < maxLevels else {
                        throw .invalidTable(line: lineNo, header: header, message: "more than \(maxLevels) levels")
                    }
                    policy.levels.append(PolicyLevel(name: name))
                    levelLines.append(lineNo)
                case .canary:
                    policy.canary = CanaryPolicy()
                    canaryLine = lineNo
                case .policy: break
                }
                table = t
            case .pair(let key, let value):
                guard let t = table else { throw .outsideTable(line: lineNo, key: key) }
                if let first = seen["\(t.name).\(key)"] {
                    throw .duplicateKey(line: lineNo, table: t.name, key: key, firstLine: first)
                }
                seen["\(t.name).\(key)"] = lineNo
                try policy.set(PolicyField(line: lineNo, table: t, key: key, value: value))
            }
        }
        for (i, level) in policy.levels.enumerated() {
            let header = "[level.\(level.name)]"
            if level.thresholds.isEmpty {
                throw .invalidTable(
                    line: levelLines[i],
                    header: header,
                    message: "a level needs at least one threshold"
                )
            }
            if level.scope == .prediction, level.thresholds.contains(where: { $0.statistic == .chi2 }) {
                // The prediction is numeric: a categorical statistic in this scope never breaches.
                throw .invalidTable(
                    line: levelLines[i],
                    header: header,
                    message: "chi2 never applies to the prediction"
                )
            }
        }
        if let c = policy.canary, c.minPairs < 1 {
            throw .invalidTable(line: canaryLine, header: "[canary]", message: "min_pairs must be at least 1")
        }
        return policy
    }

    mutating func set(_ f: PolicyField) throws(PolicyError) {
        switch f.table {
        case .policy:
            switch f.key {
            case "alerts_file": alertsFile = try f.path()
            case "retrain_dir": retrainDirectory = try f.path()
            case "issuer":
                let s = try f.string()
                guard !s.isEmpty, s.utf8.count <= 32, !s.utf8.contains(where: { $0 < 32 }) else {
                    throw f.invalid("must be 1 to 32 bytes of text")
                }
                issuer = s
            default: throw f.unknown
            }
        case .canary:
            var c = canary ?? CanaryPolicy()
            switch f.key {
            case "min_pairs": c.minPairs = try f.integer(in: 1...100_000_000, "a count of paired outcomes")
            case "alpha": c.alpha = try f.probability()
            case "promote_windows": c.promoteWindows = try f.integer(in: 1...1_000_000, "a number of windows")
            case "max_latency_ratio":
                guard let d = f.value.double, d.isFinite, d >= 1, d <= 1_000_000 else {
                    throw f.invalid("must be a factor of at least 1 (canary p99 / live p99)")
                }
                c.maxLatencyRatio = d
            case "rollback_on_fail":
                guard case .scalar(.bool(let b)) = f.value else { throw f.invalid("must be true or false") }
                c.rollbackOnFail = b
            default: throw f.unknown
            }
            canary = c
        case .level:
            let i = levels.count - 1
            try levels[i].set(f)
        }
    }
}

extension PolicyLevel {
    mutating func set(_ f: PolicyField) throws(PolicyError) {
        if let statistic = PolicyStatistic(rawValue: f.key) {
            thresholds.append(PolicyThreshold(statistic, try f.threshold(statistic)))
            return
        }
        switch f.key {
        case "match":
            switch try f.string() {
            case "any": requireAll = false
            case "all": requireAll = true
            default: throw f.invalid("must be \"any\" or \"all\"")
            }
        case "scope":
            guard let s = PolicyScope(rawValue: try f.string()) else {
                throw f.invalid("must be \"all\", \"features\" or \"prediction\"")
            }
            scope = s
        case "consecutive": consecutive = try f.integer(in: 1...1_000_000, "a number of windows")
        case "clear_windows": clearWindows = try f.integer(in: 1...1_000_000, "a number of windows")
        case "cooldown_windows": cooldownWindows = try f.integer(in: 0...1_000_000, "a number of windows")
        case "max_firings": maxFirings = try f.integer(in: 1...1_000_000, "a number of firings")
        case "actions":
            guard case .strings(let names) = f.value else { throw f.invalid("must be a list of action names") }
            var out: [PolicyAction] = []
            for n in names {
                guard let a = PolicyAction(rawValue: n) else {
                    throw f.invalid("'\(n)' is not an action (alert, retrain, shadow, rollback)")
                }
                if out.contains(a) { throw f.invalid("'\(n)' is listed twice") }
                out.append(a)
            }
            if out.contains(.shadow), out.contains(.rollback) {
                throw f.invalid("shadow and rollback contradict each other (demote live, or load the previous live)")
            }
            actions = out
        case "alert_command":
            let s = try f.string()
            guard !s.isEmpty else { throw f.invalid("must not be empty") }
            alertCommand = s
        default: throw f.unknown
        }
    }
}

/// The tables of a policy file.
enum PolicyTable: Equatable {
    case policy
    case level(String)
    case canary

    init?(header: String) {
        switch header {
        case "[policy]": self = .policy
        case "[canary]": self = .canary
        default:
            guard header.hasPrefix("[level."), header.hasSuffix("]") else { return nil }
            let name = String(header.dropFirst(7).dropLast())
            guard PolicyTable.isLevelName(name) else { return nil }
            self = .level(name)
        }
    }

    /// 1 to 32 of `a-z 0-9 _ -`, not `none` (the level of a window that breaches nothing).
    static func isLevelName(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 32, s != "none" else { return false }
        return s.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 || $0 == 45 }
    }

    var name: String {
        switch self {
        case .policy: return "policy"
        case .canary: return "canary"
        case .level(let n): return "level.\(n)"
        }
    }
}

/// A value in a policy file: the TOML subset's, or a one-line list of strings.
enum PolicyValue: Equatable {
    case scalar(TOMLValue)
    case strings([String])

    var double: Double? {
        if case .scalar(let v) = self { return v.double }
        return nil
    }
    var int: Int? {
        if case .scalar(let v) = self { return v.int }
        return nil
    }
    var string: String? {
        if case .scalar(let v) = self { return v.string }
        return nil
    }

    var text: String {
        switch self {
        case .strings(let a): return "[" + a.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        case .scalar(.string(let s)): return "\"\(s)\""
        case .scalar(.bool(let b)): return "\(b)"
        case .scalar(.number(let d, let i)): return i.map { "\($0)" } ?? "\(d)"
        }
    }
}

/// One meaningful line of a policy file.
enum PolicyLine: Equatable {
    case header(String)
    case pair(key: String, value: PolicyValue)

    static func parse(_ raw: Substring, line: Int) throws(PolicyError) -> PolicyLine? {
        // A list is read here; everything else is the TOML subset of the feature definitions.
        if let eq = raw.firstIndex(of: "="), !raw[..<eq].contains("#"), !raw[..<eq].contains("[") {
            var rest = raw[raw.index(after: eq)...]
            while let c = rest.first, c == " " || c == "\t" { rest = rest.dropFirst() }
            if rest.first == "[" {
                let key = String(raw[..<eq].filter { $0 != " " && $0 != "\t" })
                return .pair(key: key, value: .strings(try parseList(rest, line: line)))
            }
        }
        do {
            switch try TOMLLine.parse(raw, line: line) {
            case nil: return nil
            case .header(let h)?: return .header(h)
            case .pair(let k, let v)?: return .pair(key: k, value: .scalar(v))
            }
        } catch {
            if case .syntax(let l, let message) = error { throw .syntax(line: l, message: message) }
            throw .syntax(line: line, message: "\(error)")
        }
    }

    /// `["a", "b"]` (a trailing comment allowed), strings without quotes or backslashes inside.
    static func parseList(_ s: Substring, line: Int) throws(PolicyError) -> [String] {
        guard let close = s.firstIndex(of: "]") else { throw .syntax(line: line, message: "unterminated list") }
        var after = s[s.index(after: close)...]
        while let c = after.first, c == " " || c == "\t" || c == "\r" { after = after.dropFirst() }
        guard after.isEmpty || after.first == "#" else {
            throw .syntax(line: line, message: "text after the list: '\(after)'")
        }
        let inner = s[s.index(after: s.startIndex)..<close]
        var out: [String] = []
        for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
            var p = part
            while let c = p.first, c == " " || c == "\t" { p = p.dropFirst() }
            while let c = p.last, c == " " || c == "\t" { p = p.dropLast() }
            if p.isEmpty, inner.allSatisfy({ $0 == " " || $0 == "\t" }) { break }
            guard p.count >= 2, p.first == "\"", p.last == "\"", !p.dropFirst().dropLast().contains("\"") else {
                throw .syntax(line: line, message: "a list holds \"strings\" separated by commas, found '\(p)'")
            }
            out.append(String(p.dropFirst().dropLast()))
        }
        return out
    }
}

/// One `key = value` line, with what its errors name.
struct PolicyField {
    var line: Int
    var table: PolicyTable
    var key: String
    var value: PolicyValue

    func invalid(_ message: String) -> PolicyError {
        .invalid(line: line, table: table.name, key: key, message: message, found: value.text)
    }

    var unknown: PolicyError { .unknownKey(line: line, table: table.name, key: key) }

    func string() throws(PolicyError) -> String {
        guard let s = value.string else { throw invalid("must be a \"string\"") }
        return s
    }

    func path() throws(PolicyError) -> String {
        let s = try string()
        guard !s.isEmpty, !s.utf8.contains(0) else { throw invalid("must be a file path") }
        return s
    }

    func integer(in range: ClosedRange<Int>, _ what: String) throws(PolicyError) -> Int {
        guard let i = value.int, range.contains(i) else {
            throw invalid("must be an integer, \(what), in \(range.lowerBound)...\(range.upperBound)")
        }
        return i
    }

    func probability() throws(PolicyError) -> Double {
        guard let d = value.double, d > 0, d < 1 else { throw invalid("must be a probability in (0, 1)") }
        return d
    }

    /// A threshold that can both breach and not breach (see `PolicyStatistic.allowed`).
    func threshold(_ s: PolicyStatistic) throws(PolicyError) -> Double {
        guard let d = value.double, d.isFinite else { throw invalid("must be a finite number") }
        let a = s.allowed
        let low = a.openLow ? d > a.range.lowerBound : d >= a.range.lowerBound
        let high = a.openHigh ? d < a.range.upperBound : d <= a.range.upperBound
        guard low, high else {
            let lo = a.openLow ? "(" : "["
            let hi = a.openHigh ? ")" : "]"
            let what = s.isPValue ? "a p-value threshold" : "a \(s.rawValue) threshold"
            let upper = a.range.upperBound == .greatestFiniteMagnitude ? "∞" : "\(a.range.upperBound)"
            throw invalid(
                "\(what) must be in \(lo)\(a.range.lowerBound), \(upper)\(hi): any other never or always breaches"
            )
        }
        return d
    }
}

/// Why a policy file was refused: what (the table and key, the value found) and where (the line).
public enum PolicyError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read: the errno of the failing call.
    case io(path: String, errno: Int32)
    case tooLarge(path: String, bytes: Int)
    /// A parse error inside the file at `path`.
    indirect case file(path: String, PolicyError)
    case syntax(line: Int, message: String)
    /// A table other than `[policy]`, `[level.NAME]`, `[canary]`.
    case unknownTable(line: Int, header: String)
    case duplicateTable(line: Int, header: String, firstLine: Int)
    /// A table that is complete but cannot be used (no threshold, too many levels).
    case invalidTable(line: Int, header: String, message: String)
    case outsideTable(line: Int, key: String)
    case unknownKey(line: Int, table: String, key: String)
    case duplicateKey(line: Int, table: String, key: String, firstLine: Int)
    /// A known key with a value out of its range or of the wrong type.
    case invalid(line: Int, table: String, key: String, message: String, found: String)

    /// The line the error names (nil for an I/O error).
    public var line: Int? {
        switch self {
        case .io, .tooLarge: return nil
        case .file(_, let e): return e.line
        case .syntax(let l, _), .unknownTable(let l, _), .duplicateTable(let l, _, _), .invalidTable(let l, _, _),
            .outsideTable(let l, _), .unknownKey(let l, _, _), .duplicateKey(let l, _, _, _),
            .invalid(let l, _, _, _, _):
            return l
        }
    }

    public var description: String {
        switch self {
        case .io(let path, let e):
            return "cannot read policy file \(path): \(String(cString: strerror(e))) (errno \(e))"
        case .tooLarge(let path, let n):
            return "policy file \(path) is \(n) bytes, more than \(DriftPolicy.maxFileBytes)"
        case .file(let path, let e): return "\(path): \(e)"
        case .syntax(let l, let m): return "line \(l): \(m)"
        case .unknownTable(let l, let h):
            return
                "line \(l): unknown table \(h) (expected [policy], [level.NAME] with NAME of a-z 0-9 _ -, or [canary])"
        case .duplicateTable(let l, let h, let first): return "line \(l): table \(h) again (first on line \(first))"
        case .invalidTable(let l, let h, let m): return "line \(l): \(h): \(m)"
        case .outsideTable(let l, let k): return "line \(l): key '\(k)' before any table"
        case .unknownKey(let l, let t, let k): return "line \(l): unknown key '\(k)' in [\(t)]"
        case .duplicateKey(let l, let t, let k, let first):
            return "line \(l): key '\(k)' in [\(t)] again (first on line \(first))"
        case .invalid(let l, let t, let k, let m, let found): return "line \(l): [\(t)] \(k) = \(found): \(m)"
        }
    }
}
