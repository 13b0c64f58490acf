/// The query times of `features asof --at`; kept apart from `AsOfQuery` (which needs the table
/// and its hashing) so that the fuzz build compiles it with the manifest reader alone.
public enum QueryTime {
    /// A query time: epoch ns as a decimal integer, or UTC `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
    /// - Returns: nil when the text is neither.
    public static func parse(_ text: String) -> Int64? {
        if let v = Int64(text) { return v }
        let u = Array(text.utf8)
        guard u.count >= 20, u[10] == UInt8(ascii: "T"), u.last == UInt8(ascii: "Z"), u[13] == 58, u[16] == 58,
            let midnight = SnapshotManifest.midnightNs(String(decoding: u[0..<10], as: UTF8.self))
        else { return nil }
        func digits(_ r: Range<Int>) -> Int64? { SnapshotManifest.decimal(u, r) }
        guard let h = digits(11..<13), let m = digits(14..<16), let s = digits(17..<19), h < 24, m < 60, s < 60 else {
            return nil
        }
        var fraction: Int64 = 0
        if u.count > 20 {
            // ".d…dZ": one to nine digits of a second.
            guard u[19] == UInt8(ascii: "."), u.count - 21 >= 1, u.count - 21 <= 9, let f = digits(20..<(u.count - 1))
            else { return nil }
            fraction = f
            for _ in 0..<(9 - (u.count - 21)) { fraction *= 10 }
        } else if u[19] != UInt8(ascii: "Z") {
            return nil
        }
        return midnight + ((h * 60 + m) * 60 + s) * 1_000_000_000 + fraction
    }
}
