/// Why a feature definition was refused (what and where).
public enum FeatureError: Error, Equatable, CustomStringConvertible {
    case io(path: String, reason: String)
    case syntax(line: Int, message: String)
    case invalid(feature: String, message: String)

    public var description: String {
        switch self {
        case .io(let path, let reason): return "cannot read feature definition \(path): \(reason)"
        case .syntax(let line, let message): return "feature definition line \(line): \(message)"
        case .invalid(let feature, let message): return "feature '\(feature)': \(message)"
        }
    }
}

/// The kinds of feature. Prices are in currency units (the ring's 1e-4 fixed point / 1e4),
/// times in seconds; windows are counted in events (messages of the instrument) or exchange-time ns.
public enum FeatureKind: String, Sendable, CaseIterable {
    /// (best bid + best ask) / 2.
    case mid
    /// best ask − best bid.
    case spread
    /// Level-1 imbalance (bid size − ask size) / (bid size + ask size).
    case imbalance
    /// Depth-weighted imbalance over `levels` levels, level i weighted 1/(i+1).
    case depthImbalance = "depth_imbalance"
    /// (bid × ask size + ask × bid size) / (bid size + ask size).
    case microprice
    /// Order-flow imbalance (Cont, Kukanov, Stoikov) summed over the last `events` top-of-book updates.
    case ofi
    /// log(mid / mid `events` events ago).
    case returnEvents = "return_events"
    /// log(mid / last mid at or before exchange time − `window_ns`).
    case returnTime = "return_time"
    /// sqrt of the EWMA (per event, weight `alpha`) of squared log mid returns.
    case volatilityEvents = "volatility_events"
    /// sqrt of the EWMA of squared log mid returns, decayed over exchange time with `halflife_ns`.
    case volatilityTime = "volatility_time"
    /// Trades (trade and execute messages) in the last `window_ns` of exchange time.
    case tradeCount = "trade_count"
    /// Shares traded in the last `window_ns` of exchange time.
    case tradeVolume = "trade_volume"
    /// Seconds of exchange time since the last trade (NaN before the first).
    case timeSinceTrade = "time_since_trade"
}

/// One feature of a definition.
public struct FeatureSpec: Sendable, Equatable {
    public var name: String
    public var kind: FeatureKind
    /// Event-count window (`ofi`, `return_events`).
    public var events: Int = 0
    /// Exchange-time window in ns (`return_time`, `trade_count`, `trade_volume`).
    public var windowNs: Int64 = 0
    /// Depth (`depth_imbalance`).
    public var levels: Int = 0
    /// EWMA weight per event (`volatility_events`).
    public var alpha: Double = 0
    /// EWMA half-life in exchange-time ns (`volatility_time`).
    public var halfLifeNs: Int64 = 0
    /// Capacity of the exchange-time window buffers (entries per instrument); older entries beyond it are dropped.
    public var capacity: Int = 4096

    /// The largest `events` (an event-count window) a definition may give. `FeatureEngine`
    /// preallocates every window for every instrument slot, so a window near `Int.max` would
    /// overflow its size arithmetic or exhaust memory; a million events is far past any real window.
    public static let maxEvents = 1 << 20
    /// The largest exchange-time window `capacity` (entries per instrument), for the same reason.
    public static let maxCapacity = 1 << 20
    /// Depth levels are walked on every update: past the book's depth they only cost time.
    public static let maxLevels = 1024
    /// Window state of one definition, summed over features and instrument slots (8-byte words:
    /// 2^25 is 256 MiB), checked once the definition is read.
    public static let maxStateWords = 1 << 25
    public init(name: String, kind: FeatureKind) {
        self.name = name
        self.kind = kind
    }
}

/// When a message is a decision point (a row of the table, a decision record).
public enum DecisionTrigger: String, Sendable {
    /// Every book or trade message of a selected instrument.
    case every
    /// Only when the best bid or ask (price or size) changed, or on a trade.
    case topChange = "top_change"
}

/// A feature definition: loaded once from a TOML file, then compiled into a `FeatureEngine`.
///
/// ```toml
/// instrument = 1            # only this instrument (omit: all)
/// decide_on = "every"       # or "top_change"
/// max_instruments = 16      # per-instrument state slots, preallocated
///
/// [signal]                  # signal +1 above buy_above, -1 below sell_below, else 0
/// buy_above = 0.6
/// sell_below = 0.4
///
/// [[feature]]
/// name = "imb"
/// kind = "imbalance"
///
/// [[feature]]
/// name = "ret_1s"
/// kind = "return_time"
/// window_ns = 1_000_000_000
/// ```
/// Buy above one threshold, sell below another, else flat.
public struct SignalRule: Sendable, Equatable {
    public var buyAbove: Double
    public var sellBelow: Double
    @inlinable public init(buyAbove: Double, sellBelow: Double) {
        self.buyAbove = buyAbove
        self.sellBelow = sellBelow
    }
    /// +1, −1 or 0.
    @inlinable public func signal(_ prediction: Double) -> Int8 {
        prediction > buyAbove ? 1 : prediction < sellBelow ? -1 : 0
    }
}

public struct FeatureDefinition: Sendable, Equatable {
    public var features: [FeatureSpec]
    public var instrument: UInt32?
    public var trigger: DecisionTrigger = .every
    public var maxInstruments: Int = 16
    public var buyAbove: Double = .infinity
    public var sellBelow: Double = -.infinity

    public init(features: [FeatureSpec], instrument: UInt32? = nil) {
        self.features = features
        self.instrument = instrument
    }

    public var names: [String] { features.map(\.name) }

    /// +1, −1 or 0 from the thresholds.
    @inlinable public func signal(_ prediction: Double) -> Int8 {
        signalRule.signal(prediction)
    }

    /// The thresholds as a plain value, for a hot loop that must not copy the whole definition.
    public var signalRule: SignalRule { SignalRule(buyAbove: buyAbove, sellBelow: sellBelow) }

    public static func load(path: String) throws(FeatureError) -> FeatureDefinition {
        guard let f = fopen(path, "rb") else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            bytes.append(contentsOf: buf[0..<n])
            if n < buf.count { break }
        }
        return try parse(String(decoding: bytes, as: UTF8.self))
    }

    /// Parses the TOML subset above: `key = value` (integers with `_`, floats, "strings", booleans),
    /// `[table]`, `[[feature]]`, `#` comments.
    public static func parse(_ text: String) throws(FeatureError) -> FeatureDefinition {
        enum Section { case top, signal, feature }
        var section = Section.top
        var def = FeatureDefinition(features: [])
        var raw: [[(String, TOMLValue, Int)]] = []
        var lineNo = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#"), !line[..<hash].contains("\"") { line = line[..<hash] }
            line = line.trimmingWhitespace
            if line.isEmpty { continue }
            if line == "[[feature]]" || line == "[[features]]" { section = .feature; raw.append([]); continue }
            if line == "[signal]" { section = .signal; continue }
            if line.hasPrefix("[") { throw .syntax(line: lineNo, message: "unknown table \(line) (expected [signal] or [[feature]])") }
            guard let eq = line.firstIndex(of: "=") else { throw .syntax(line: lineNo, message: "expected key = value") }
            let key = String(line[..<eq].trimmingWhitespace)
            let value = try TOMLValue.parse(line[line.index(after: eq)...].trimmingWhitespace, line: lineNo)
            switch section {
            case .feature: raw[raw.count - 1].append((key, value, lineNo))
            case .signal:
                guard let d = value.double else { throw .syntax(line: lineNo, message: "\(key) must be a number") }
                switch key {
                case "buy_above": def.buyAbove = d
                case "sell_below": def.sellBelow = d
                default: throw .syntax(line: lineNo, message: "unknown key '\(key)' in [signal]")
                }
            case .top:
                switch key {
                case "instrument":
                    guard let i = value.int, i >= 0, i <= Int(UInt32.max) else { throw .syntax(line: lineNo, message: "instrument must be an integer") }
                    def.instrument = i == 0 ? nil : UInt32(i)
                case "decide_on":
                    guard let s = value.string, let t = DecisionTrigger(rawValue: s) else {
                        throw .syntax(line: lineNo, message: "decide_on must be \"every\" or \"top_change\"")
                    }
                    def.trigger = t
                case "max_instruments":
                    guard let i = value.int, i >= 1, i <= 65536 else { throw .syntax(line: lineNo, message: "max_instruments must be 1...65536") }
                    def.maxInstruments = i
                default: throw .syntax(line: lineNo, message: "unknown key '\(key)'")
                }
            }
        }
        for entries in raw {
            let name = entries.first { $0.0 == "name" }?.1.string ?? ""
            guard !name.isEmpty else { throw .syntax(line: entries.first?.2 ?? lineNo, message: "[[feature]] without a name") }
            guard let kindName = entries.first(where: { $0.0 == "kind" })?.1.string else { throw .invalid(feature: name, message: "missing kind") }
            guard let kind = FeatureKind(rawValue: kindName) else {
                throw .invalid(feature: name, message: "unknown kind '\(kindName)' (\(FeatureKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            var spec = FeatureSpec(name: name, kind: kind)
            for (key, value, line) in entries where key != "name" && key != "kind" {
                func int(max limit: Int = .max) throws(FeatureError) -> Int {
                    guard let i = value.int, i > 0 else { throw .syntax(line: line, message: "\(key) must be a positive integer") }
                    guard i <= limit else {
                        throw .syntax(line: line, message: "\(key) = \(i) for feature '\(name)' is above the maximum \(limit)")
                    }
                    return i
                }
                switch key {
                case "events": spec.events = try int(max: FeatureSpec.maxEvents)
                case "window_ns": spec.windowNs = Int64(try int())
                case "levels": spec.levels = try int(max: FeatureSpec.maxLevels)
                case "halflife_ns": spec.halfLifeNs = Int64(try int())
                case "capacity": spec.capacity = try int(max: FeatureSpec.maxCapacity)
                case "alpha":
                    guard let a = value.double, a > 0, a <= 1 else { throw .syntax(line: line, message: "alpha must be in (0, 1]") }
                    spec.alpha = a
                default: throw .syntax(line: line, message: "unknown key '\(key)' for feature '\(name)'")
                }
            }
            switch kind {
            case .ofi, .returnEvents: if spec.events == 0 { throw .invalid(feature: name, message: "\(kind.rawValue) needs events = N") }
            case .returnTime, .tradeCount, .tradeVolume: if spec.windowNs == 0 { throw .invalid(feature: name, message: "\(kind.rawValue) needs window_ns = N") }
            case .depthImbalance: if spec.levels == 0 { throw .invalid(feature: name, message: "depth_imbalance needs levels = N") }
            case .volatilityEvents: if spec.alpha == 0 { throw .invalid(feature: name, message: "volatility_events needs alpha") }
            case .volatilityTime: if spec.halfLifeNs == 0 { throw .invalid(feature: name, message: "volatility_time needs halflife_ns = N") }
            default: break
            }
            if def.features.contains(where: { $0.name == name }) { throw .invalid(feature: name, message: "defined twice") }
            def.features.append(spec)
        }
        guard !def.features.isEmpty else { throw .syntax(line: lineNo, message: "no [[feature]] entries") }
        // Each window is bounded above; many of them times many instrument slots must be too.
        // (An over-estimate of what FeatureEngine.init allocates per slot: cannot overflow, as
        // features.count <= lines and each term <= 2 * 2^20 + 4.)
        let perSlot = def.features.reduce(16) { words, f in
            switch f.kind {
            case .ofi, .returnEvents: return words + 4 + f.events
            case .returnTime, .tradeCount, .tradeVolume: return words + 4 + 2 * f.capacity
            default: return words + 4
            }
        }
        let slots = def.instrument != nil ? 1 : def.maxInstruments
        guard perSlot <= FeatureSpec.maxStateWords / slots else {
            throw .syntax(line: lineNo, message: "window state of \(perSlot) words per instrument for max_instruments = \(slots) "
                + "is above the maximum \(FeatureSpec.maxStateWords) words (256 MiB) in all")
        }
        return def
    }
}

enum TOMLValue {
    case string(String), number(Double, Int?), bool(Bool)

    var string: String? { if case .string(let s) = self { return s }; return nil }
    var double: Double? { if case .number(let d, _) = self { return d }; return nil }
    var int: Int? { if case .number(_, let i) = self { return i }; return nil }

    static func parse(_ s: Substring, line: Int) throws(FeatureError) -> TOMLValue {
        if s.hasPrefix("\"") {
            guard s.count >= 2, s.hasSuffix("\"") else { throw .syntax(line: line, message: "unterminated string") }
            return .string(String(s.dropFirst().dropLast()))
        }
        if s == "true" { return .bool(true) }
        if s == "false" { return .bool(false) }
        let cleaned = s.filter { $0 != "_" }
        if let i = Int(cleaned) { return .number(Double(i), i) }
        if let d = Double(cleaned) { return .number(d, nil) }
        throw .syntax(line: line, message: "cannot read value '\(s)'")
    }
}

extension Substring {
    var trimmingWhitespace: Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return s
    }
}

#if canImport(Glibc)
import Glibc
#endif
