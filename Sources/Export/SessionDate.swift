/// The session date of a journal: the UTC calendar day of its creation time (the file header's
/// CLOCK_REALTIME stamp), as `YYYY-MM-DD` and as the epoch ns of that day's midnight.
public struct SessionDate: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var day: Int
    /// ns since the Unix epoch of 00:00 UTC of the day.
    public var midnightNs: Int64

    /// The UTC day containing `epochNs`.
    public init(epochNs: UInt64) {
        let days = Int64(epochNs / 86_400_000_000_000)
        // Howard Hinnant's civil_from_days (days since 1970-01-01 to y-m-d, proleptic Gregorian).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        year = Int(yoe + era * 400 + (m <= 2 ? 1 : 0))
        month = Int(m)
        day = Int(d)
        midnightNs = days * 86_400_000_000_000
    }

    /// `YYYY-MM-DD`.
    public var text: String {
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }
}
