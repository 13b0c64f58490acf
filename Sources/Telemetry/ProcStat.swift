#if canImport(Glibc)
import Glibc
#endif

/// CPU time and resident set size from /proc/PID/stat (fields `utime`, `stime` and `rss`: 14, 15 and 24).
public enum ProcStat {
    public struct Reading: Sendable, Equatable {
        public var cpuSeconds: Double
        public var residentBytes: UInt64
    }

    /// Field numbers of /proc/PID/stat (1-based, as proc(5) counts them).
    enum Field {
        /// The first field after the command name's closing parenthesis (state).
        static let afterCommand = 3
        /// User-mode CPU time, in clock ticks.
        static let utime = 14
        /// Kernel-mode CPU time, in clock ticks.
        static let stime = 15
        /// Resident set size, in pages.
        static let rss = 24
    }

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    static let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))

    public static func read(pid: Int32) -> Reading? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return parse(String(decoding: buffer[0..<n], as: UTF8.self))
    }

    /// Parses the text of /proc/PID/stat. The command name (field 2) may hold spaces and
    /// parentheses, so fields are counted after the last ')'.
    public static func parse(_ text: String) -> Reading? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): field k is fields[k - Field.afterCommand].
        func field(_ k: Int) -> Substring? {
            let i = k - Field.afterCommand
            return i < fields.count ? fields[i] : nil
        }
        guard let utime = field(Field.utime).flatMap({ UInt64($0) }),
            let stime = field(Field.stime).flatMap({ UInt64($0) }),
            let rss = field(Field.rss).flatMap({ Int64($0) })
        else { return nil }
        return Reading(
            cpuSeconds: Double(utime + stime) / ticksPerSecond,
            residentBytes: UInt64(max(0, rss)) * pageSize
        )
    }
}
