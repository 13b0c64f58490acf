/// A value of the TOML subset `FeatureDefinition.parse` reads.
enum TOMLValue {
    case string(String)
    case number(Double, Int?)
    case bool(Bool)

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    var double: Double? {
        if case .number(let d, _) = self { return d }
        return nil
    }
    var int: Int? {
        if case .number(_, let i) = self { return i }
        return nil
    }

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
