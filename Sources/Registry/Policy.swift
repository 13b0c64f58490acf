/// `policy.toml`: which aliases are gated, by which gates, and whose approvals count.
///
/// ```toml
/// [alias.champion]
/// gates = ["features", "predictions", "latency", "backtest", "approvals"]
/// latency_p99_ns = 100000
/// approvals = ["risk"]
/// min_sharpe = 1.5          # thresholds of the backtest gate, each optional
/// max_drawdown = 2500.0
/// min_fill_rate = 0.05
///
/// [keys]
/// risk = ["<64 hex digits: an Ed25519 public key>"]
/// ```
public struct Policy: Equatable, Sendable {
    /// The gates of one alias.
    public struct AliasRule: Equatable, Sendable {
        public var gates: [String] = ["features", "predictions", "latency"]
        public var latencyP99Ns: Int = 100_000
        public var approvals: [String] = []
        /// The backtest gate's thresholds on the version's report.json.
        public var backtest = BacktestThresholds()
    }

    /// Limits on a backtest report (Docs/EXECUTION.md, "report.json"); nil = not checked. A limit on
    /// a figure the report leaves null (a Sharpe ratio over fewer than two minutes, a fill rate
    /// with no order) fails.
    public struct BacktestThresholds: Equatable, Sendable {
        /// `sharpe` at least this.
        public var minSharpe: Double?
        /// `max_drawdown` (dollars) at most this.
        public var maxDrawdown: Double?
        /// `fill_rate` at least this.
        public var minFillRate: Double?
        /// `pnl` (dollars) at least this.
        public var minPnl: Double?
        /// `hit_rate` at least this.
        public var minHitRate: Double?
        public init() {}

        /// The policy keys, in the order the gate reports them.
        public static let keys = ["min_sharpe", "max_drawdown", "min_fill_rate", "min_pnl", "min_hit_rate"]

        subscript(key: String) -> Double? {
            get {
                switch key {
                case "min_sharpe": return minSharpe
                case "max_drawdown": return maxDrawdown
                case "min_fill_rate": return minFillRate
                case "min_pnl": return minPnl
                default: return minHitRate
                }
            }
            set {
                switch key {
                case "min_sharpe": minSharpe = newValue
                case "max_drawdown": maxDrawdown = newValue
                case "min_fill_rate": minFillRate = newValue
                case "min_pnl": minPnl = newValue
                default: minHitRate = newValue
                }
            }
        }
    }

    /// Every gate name a policy may use.
    public static let gateNames = ["features", "predictions", "latency", "backtest", "approvals"]

    /// Gated aliases by name; any other alias moves freely.
    public var aliases: [String: AliasRule]
    /// Public keys (hex) allowed to sign for each role.
    public var keys: [String: [String]]
    /// sha256 of the policy's bytes: what approvals sign.
    public var hash: String
    /// The bytes (stored as an object with every gated move).
    public var bytes: [UInt8]

    /// Used when the registry has no `policy.toml`: `champion` and `canary` gated by features,
    /// predictions, latency and the backtest report (no thresholds: a report of this version's
    /// model and features, with decisions), no approvals.
    public static let defaultText = """
        # Default policy (no policy.toml in the registry).
        [alias.champion]
        gates = ["features", "predictions", "latency", "backtest"]
        latency_p99_ns = 100000

        [alias.canary]
        gates = ["features", "predictions", "latency", "backtest"]
        latency_p99_ns = 100000

        """

    /// Parses the subset of TOML a policy uses: `[alias.NAME]` and `[keys]` tables, keys with an
    /// integer, a string or an array of strings.
    public init(bytes: [UInt8], what: String) throws(RegistryError) {
        self.bytes = bytes
        self.hash = ObjectStore.sha256(bytes)
        var aliases: [String: AliasRule] = [:]
        var keys: [String: [String]] = [:]
        var table = ""
        for (n, raw) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let at = "\(what):\(n + 1)"
            let line = Self.stripComment(raw).trimmingSpaces
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { throw .malformed(what: at, reason: "unterminated table header") }
                table = String(line.dropFirst().dropLast()).trimmingSpaces
                if table.hasPrefix("alias.") {
                    let a = String(table.dropFirst(6))
                    try Registry.checkName(a, what: "alias")
                    aliases[a] = AliasRule()  // a table without `gates` gets the default gates
                } else if table != "keys" {
                    throw .malformed(what: at, reason: "unknown table [\(table)] (expected [alias.NAME] or [keys])")
                }
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { throw .malformed(what: at, reason: "expected key = value") }
            let key = String(line[..<eq]).trimmingSpaces
            let value = String(line[line.index(after: eq)...]).trimmingSpaces
            if table == "keys" {
                keys[key] = try Self.strings(value, at: at)
            } else if table.hasPrefix("alias.") {
                let a = String(table.dropFirst(6))
                switch key {
                case "gates":
                    let g = try Self.strings(value, at: at)
                    for x in g where !Self.gateNames.contains(x) {
                        throw .malformed(
                            what: at,
                            reason: "unknown gate '\(x)' (known: \(Self.gateNames.joined(separator: ", ")))"
                        )
                    }
                    aliases[a]!.gates = g
                case "latency_p99_ns":
                    guard let v = Int(value), v > 0 else {
                        throw .malformed(what: at, reason: "latency_p99_ns must be a positive integer, found \(value)")
                    }
                    aliases[a]!.latencyP99Ns = v
                case "approvals": aliases[a]!.approvals = try Self.strings(value, at: at)
                case _ where BacktestThresholds.keys.contains(key):
                    guard let v = Double(value.replacingOccurrences(of: "_", with: "")), v.isFinite,
                        value.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true
                    else {
                        throw .malformed(what: at, reason: "\(key) must be a finite number, found \(value)")
                    }
                    if (key == "min_fill_rate" || key == "min_hit_rate") && !(0...1).contains(v) {
                        throw .malformed(what: at, reason: "\(key) is a share: between 0 and 1, found \(value)")
                    }
                    if key == "max_drawdown" && v < 0 {
                        throw .malformed(what: at, reason: "max_drawdown is dollars below a peak: >= 0, found \(value)")
                    }
                    aliases[a]!.backtest[key] = v
                default:
                    throw .malformed(
                        what: at,
                        reason:
                            "unknown key '\(key)' (expected gates, latency_p99_ns, approvals, "
                            + BacktestThresholds.keys.joined(separator: ", ") + ")"
                    )
                }
            } else {
                throw .malformed(what: at, reason: "key outside a table")
            }
        }
        for (a, rule) in aliases where !rule.approvals.isEmpty && !rule.gates.contains("approvals") {
            throw .malformed(what: what, reason: "[alias.\(a)] lists approvals but not the 'approvals' gate")
        }
        for (a, rule) in aliases where rule.backtest != BacktestThresholds() && !rule.gates.contains("backtest") {
            throw .malformed(what: what, reason: "[alias.\(a)] sets backtest thresholds but not the 'backtest' gate")
        }
        self.aliases = aliases
        self.keys = keys
    }

    static func stripComment(_ s: Substring) -> Substring {
        var inString = false
        for i in s.indices {
            if s[i] == "\"" { inString.toggle() }
            if s[i] == "#" && !inString { return s[..<i] }
        }
        return s
    }

    static func strings(_ v: String, at: String) throws(RegistryError) -> [String] {
        guard v.hasPrefix("["), v.hasSuffix("]") else {
            throw .malformed(what: at, reason: "expected an array of strings, found \(v)")
        }
        let inner = v.dropFirst().dropLast().trimmingSpaces
        if inner.isEmpty { return [] }
        var out: [String] = []
        for item in inner.split(separator: ",") {
            let t = item.trimmingSpaces
            if t.isEmpty { continue }  // a trailing comma
            guard t.count >= 2, t.hasPrefix("\""), t.hasSuffix("\""), !t.dropFirst().dropLast().contains("\"") else {
                throw .malformed(what: at, reason: "expected a quoted string, found \(t)")
            }
            out.append(String(t.dropFirst().dropLast()))
        }
        return out
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}

extension Registry {
    /// The policy in force: `policy.toml`, or `Policy.defaultText`.
    public func policy() throws(RegistryError) -> Policy {
        let path = root + "/policy.toml"
        if FileIO.exists(path) { return try Policy(bytes: try FileIO.read(path), what: path) }
        return try Policy(bytes: Array(Policy.defaultText.utf8), what: "default policy")
    }
}
