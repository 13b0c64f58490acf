import Drift

/// A JSON text built by appending (the monitor's lines: window, alert, retrain request), spaced as
/// the issue writes the window line (and as Python's `json.dumps` does): `", "` between members,
/// `": "` after keys. Numbers are Swift's shortest round-trip form; a NaN, an infinity or nil is `null`.
struct JSONText {
    var text = ""
    var needsComma = [false]

    mutating func comma() {
        if needsComma[needsComma.count - 1] { text += ", " }
        needsComma[needsComma.count - 1] = true
    }

    mutating func open(_ c: String = "{") {
        text += c
        needsComma.append(false)
    }

    mutating func close(_ c: String = "}") {
        text += c
        needsComma.removeLast()
    }

    mutating func key(_ k: String) {
        comma()
        text += JSONText.quote(k) + ": "
    }

    mutating func raw(_ k: String, _ v: String) {
        key(k)
        text += v
    }

    mutating func number(_ k: String, _ v: Double?) { raw(k, JSONText.number(v)) }
    mutating func int<I: BinaryInteger>(_ k: String, _ v: I) { raw(k, "\(v)") }
    mutating func string(_ k: String, _ v: String?) { raw(k, v.map(JSONText.quote) ?? "null") }

    /// Starts a nested object under `k`.
    mutating func object(_ k: String) {
        key(k)
        open("{")
    }

    /// Starts a nested array under `k`.
    mutating func array(_ k: String) {
        key(k)
        open("[")
    }

    /// An element of the current array.
    mutating func element(_ v: String) {
        comma()
        text += v
    }

    static func number(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "null" }
        return "\(v)"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
