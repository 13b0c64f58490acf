#if canImport(Glibc)
import Glibc
#endif

/// A value of the TOML subset TickBus's definition files use (`FeatureDefinition.parse`, the
/// strategy's execution file): a "string", a number (integers may have `_` separators), a boolean.
public enum TOMLValue: Equatable, Sendable {
    case string(String)
    /// The number as a double, and as an integer when it is written as one.
    case number(Double, Int?)
    case bool(Bool)

    /// The string, or nil for another kind of value.
    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    /// The number (an integer too), or nil for another kind of value.
    public var double: Double? {
        if case .number(let d, _) = self { return d }
        return nil
    }
    /// The number when it is an integer that fits an `Int`, else nil.
    public var int: Int? {
        if case .number(_, let i) = self { return i }
        return nil
    }
    /// The boolean, or nil for another kind of value.
    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// Reads one value (the text after `=`, trimmed).
    /// - Throws: `FeatureError.syntax` naming `line`.
    public static func parse(_ s: Substring, line: Int) throws(FeatureError) -> TOMLValue {
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

/// One meaningful line of a TOML-subset file: a table header or a `key = value` pair.
public enum TOMLLine: Equatable, Sendable {
    /// A line starting with `[`, as written (trimmed, comment removed): `[signal]`, `[[feature]]`.
    case header(String)
    case pair(key: String, value: TOMLValue)

    /// Reads one line of the file; nil for a blank or comment-only line. `#` starts a comment
    /// unless a `"` comes before it on the line.
    /// - Throws: `FeatureError.syntax` naming `line` (no `=`, a value that cannot be read).
    public static func parse(_ rawLine: Substring, line: Int) throws(FeatureError) -> TOMLLine? {
        var text = rawLine
        if let hash = text.firstIndex(of: "#"), !text[..<hash].contains("\"") { text = text[..<hash] }
        text = text.trimmingWhitespace
        if text.isEmpty { return nil }
        if text.hasPrefix("[") { return .header(String(text)) }
        guard let eq = text.firstIndex(of: "=") else { throw .syntax(line: line, message: "expected key = value") }
        let key = String(text[..<eq].trimmingWhitespace)
        return .pair(
            key: key,
            value: try TOMLValue.parse(text[text.index(after: eq)...].trimmingWhitespace, line: line)
        )
    }

    /// The text of a file (read whole; a definition file is small).
    /// - Throws: `FeatureError.io` with the errno of the failing call.
    public static func readFile(path: String) throws(FeatureError) -> String {
        guard let f = fopen(path, "rb") else { throw .io(path: path, errno: errno) }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            bytes.append(contentsOf: buf[0..<n])
            if n < buf.count {
                // A short read is the end of the file or an error (a directory reads as EISDIR).
                if ferror(f) != 0 { throw .io(path: path, errno: errno != 0 ? errno : EIO) }
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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
