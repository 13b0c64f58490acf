import Models

/// The registry's JSON values: objects, arrays, strings and small non-negative integers only
/// (times are decimal strings of nanoseconds), so that every document has one byte form.
public indirect enum CanonicalJSON: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case array([CanonicalJSON])
    case object([String: CanonicalJSON])

    /// The canonical bytes: keys sorted by their UTF-8 bytes, no whitespace, strings escaped only
    /// where JSON requires it (`"`, `\`, control characters; `\n`-style short forms where they
    /// exist, else `\u00xx`), everything else as raw UTF-8, integers in plain decimal.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        append(to: &out)
        return out
    }

    /// The canonical form as text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    func append(to out: inout [UInt8]) {
        switch self {
        case .integer(let v): out.append(contentsOf: Array(String(v).utf8))
        case .string(let s): Self.appendString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                v.append(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            // Sorted by UTF-8 bytes, not by String's ordering (which is Unicode-aware and not
            // what another implementation would reproduce).
            for (i, key) in o.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }).enumerated()
            {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                o[key]!.append(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func appendString(_ s: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 0x08: out.append(contentsOf: [92, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [92, UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20: out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Parses `bytes` and checks that they are already in canonical form (a registry file that
    /// is valid JSON but not canonical has been rewritten by something other than the registry).
    /// - Parameter what: the file, for the error message.
    public static func parseCanonical(_ bytes: [UInt8], what: String) throws(RegistryError) -> CanonicalJSON {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes, format: "JSON") } catch { throw .syntax(what: what, error) }
        let converted = try convert(value, what: what, path: "$")
        guard converted.bytes == bytes else {
            throw .malformed(what: what, reason: "not in canonical form (sorted keys, no whitespace, minimal escapes)")
        }
        return converted
    }

    static func convert(_ v: JSONValue, what: String, path: String) throws(RegistryError) -> CanonicalJSON {
        switch v {
        case .string(let s): return .string(s)
        case .number(let d):
            guard d >= 0, d < 9_007_199_254_740_992, d == d.rounded() else {
                throw .malformed(what: what, reason: "\(path): \(d) is not a non-negative integer below 2^53")
            }
            return .integer(Int(d))
        case .array(let a):
            var out: [CanonicalJSON] = []
            for (i, x) in a.enumerated() { out.append(try convert(x, what: what, path: "\(path)[\(i)]")) }
            return .array(out)
        case .object(let pairs):
            var out: [String: CanonicalJSON] = [:]
            for (k, x) in pairs {
                guard out[k] == nil else { throw .malformed(what: what, reason: "\(path): key '\(k)' appears twice") }
                out[k] = try convert(x, what: what, path: "\(path).\(k)")
            }
            return .object(out)
        case .null, .bool:
            throw .malformed(what: what, reason: "\(path): null and booleans are not used in registry files")
        }
    }

    /// The member `key` of an object.
    public subscript(key: String) -> CanonicalJSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The string value, if this is one.
    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    /// The integer value, if this is one.
    public var integer: Int? {
        if case .integer(let v) = self { return v }
        return nil
    }
    /// The elements, if this is an array.
    public var array: [CanonicalJSON]? {
        if case .array(let a) = self { return a }
        return nil
    }
    /// The members, if this is an object.
    public var object: [String: CanonicalJSON]? {
        if case .object(let o) = self { return o }
        return nil
    }
}
