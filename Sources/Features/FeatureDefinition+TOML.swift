#if canImport(Glibc)
import Glibc
#endif

extension FeatureDefinition {
    /// Reads and parses a definition file (see `parse`).
    public static func load(path: String) throws(FeatureError) -> FeatureDefinition {
        try parse(TOMLLine.readFile(path: path))
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
            guard let parsed = try TOMLLine.parse(rawLine, line: lineNo) else { continue }
            let key: String
            let value: TOMLValue
            switch parsed {
            case .header(let line):
                if line == "[[feature]]" || line == "[[features]]" {
                    section = .feature
                    raw.append([])
                    continue
                }
                if line == "[signal]" {
                    section = .signal
                    continue
                }
                throw .syntax(line: lineNo, message: "unknown table \(line) (expected [signal] or [[feature]])")
            case .pair(let k, let v):
                key = k
                value = v
            }
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
                    guard let i = value.int, i >= 0, i <= Int(UInt32.max) else {
                        throw .syntax(line: lineNo, message: "instrument must be an integer")
                    }
                    def.instrument = i == 0 ? nil : UInt32(i)
                case "decide_on":
                    guard let s = value.string, let t = DecisionTrigger(rawValue: s) else {
                        throw .syntax(line: lineNo, message: "decide_on must be \"every\" or \"top_change\"")
                    }
                    def.trigger = t
                case "max_instruments":
                    guard let i = value.int, i >= 1, i <= 65536 else {
                        throw .syntax(line: lineNo, message: "max_instruments must be 1...65536")
                    }
                    def.maxInstruments = i
                default: throw .syntax(line: lineNo, message: "unknown key '\(key)'")
                }
            }
        }
        for entries in raw {
            let name = entries.first { $0.0 == "name" }?.1.string ?? ""
            guard !name.isEmpty else {
                throw .syntax(line: entries.first?.2 ?? lineNo, message: "[[feature]] without a name")
            }
            guard let kindName = entries.first(where: { $0.0 == "kind" })?.1.string else {
                throw .invalid(feature: name, message: "missing kind")
            }
            guard let kind = FeatureKind(rawValue: kindName) else {
                throw .invalid(
                    feature: name,
                    message:
                        "unknown kind '\(kindName)' (\(FeatureKind.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            var spec = FeatureSpec(name: name, kind: kind)
            for (key, value, line) in entries where key != "name" && key != "kind" {
                func int(max limit: Int = .max) throws(FeatureError) -> Int {
                    guard let i = value.int, i > 0 else {
                        throw .syntax(line: line, message: "\(key) must be a positive integer")
                    }
                    guard i <= limit else {
                        throw .syntax(
                            line: line,
                            message: "\(key) = \(i) for feature '\(name)' is above the maximum \(limit)"
                        )
                    }
                    return i
                }
                switch key {
                case "events": spec.events = try int(max: FeatureSpec.maxEvents)
                case "window_ns": spec.windowNs = Int64(try int())
                case "levels": spec.levels = try int(max: FeatureSpec.maxLevels)
                case "halflife_ns": spec.halfLifeNs = Int64(try int())
                case "capacity": spec.capacity = try int(max: FeatureSpec.maxCapacity)
                case "categorical":
                    guard let b = value.bool else {
                        throw .syntax(line: line, message: "categorical must be true or false")
                    }
                    spec.categorical = b
                case "alpha":
                    guard let a = value.double, a > 0, a <= 1 else {
                        throw .syntax(line: line, message: "alpha must be in (0, 1]")
                    }
                    spec.alpha = a
                default: throw .syntax(line: line, message: "unknown key '\(key)' for feature '\(name)'")
                }
            }
            switch kind {
            case .ofi, .returnEvents:
                if spec.events == 0 { throw .invalid(feature: name, message: "\(kind.rawValue) needs events = N") }
            case .returnTime, .tradeCount, .tradeVolume:
                if spec.windowNs == 0 { throw .invalid(feature: name, message: "\(kind.rawValue) needs window_ns = N") }
            case .depthImbalance:
                if spec.levels == 0 { throw .invalid(feature: name, message: "depth_imbalance needs levels = N") }
            case .volatilityEvents:
                if spec.alpha == 0 { throw .invalid(feature: name, message: "volatility_events needs alpha") }
            case .volatilityTime:
                if spec.halfLifeNs == 0 {
                    throw .invalid(feature: name, message: "volatility_time needs halflife_ns = N")
                }
            default: break
            }
            if def.features.contains(where: { $0.name == name }) {
                throw .invalid(feature: name, message: "defined twice")
            }
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
            throw .syntax(
                line: lineNo,
                message: "window state of \(perSlot) words per instrument for max_instruments = \(slots) "
                    + "is above the maximum \(FeatureSpec.maxStateWords) words (256 MiB) in all"
            )
        }
        return def
    }
}
