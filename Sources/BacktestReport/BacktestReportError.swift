import Foundation

/// Why a backtest output could not be written, or a stored report could not be read. Each case
/// names the file (or what was being read) and keeps the cause.
public enum BacktestReportError: Error, Equatable, CustomStringConvertible {
    /// `open(2)` refused the file.
    case open(path: String, errno: Int32)
    /// `write(2)` or `close(2)` failed part way (the file is incomplete).
    case write(path: String, errno: Int32)
    /// The report holds a value JSON cannot carry (a NaN or an infinity), named by its key.
    case encode(what: String, reason: String)
    /// A stored report.json that does not read as one: which file and why.
    case malformed(what: String, reason: String)

    public var description: String {
        switch self {
        case .open(let path, let e): return "cannot open \(path): \(Self.text(e)) (errno \(e))"
        case .write(let path, let e): return "cannot write \(path): \(Self.text(e)) (errno \(e))"
        case .encode(let what, let reason): return "cannot encode \(what): \(reason)"
        case .malformed(let what, let reason): return "\(what): not a backtest report: \(reason)"
        }
    }

    static func text(_ e: Int32) -> String { String(cString: strerror(e)) }
}
