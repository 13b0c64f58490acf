#if canImport(Glibc)
import Glibc
#endif

/// Why a stats block could not be created or read. Each case names the file.
public enum StatsError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidName(String)
    case system(call: String, path: String, errno: Int32)
    case notFound(path: String)
    case fileTooSmall(path: String, size: Int, needed: Int)
    case badMagic(path: String, found: UInt64)
    case unsupportedVersion(path: String, found: UInt32, supported: UInt32)
    case alreadyRunning(path: String, pid: Int32)
    /// The bus directory or the file could not be used safely (a link, not the caller's, ...).
    case bus(SegmentError)

    public var description: String {
        switch self {
        case .invalidName(let n): return "invalid stats name '\(n)': use 1 to \(StatsLayout.maxNameLength) characters from A-Z a-z 0-9 . _ -"
        case .system(let call, let path, let e): return "\(call)(\(path)) failed: \(String(cString: strerror(e))) (errno \(e))"
        case .notFound(let path): return "\(path): no such stats block"
        case .fileTooSmall(let path, let size, let needed): return "\(path): stats file is \(size) bytes, expected \(needed); refused before mapping"
        case .badMagic(let path, let found): return "\(path): header field 'magic' is 0x\(String(found, radix: 16)), expected 0x\(String(StatsLayout.magic, radix: 16)) ('TKBSTATS'); not a stats block"
        case .unsupportedVersion(let path, let found, let supported): return "\(path): header field 'version' is \(found); this build reads stats version \(supported)"
        case .alreadyRunning(let path, let pid): return "\(path): process \(pid) is still writing this stats block; use another name"
        case .bus(let cause): return cause.description
        }
    }
}
