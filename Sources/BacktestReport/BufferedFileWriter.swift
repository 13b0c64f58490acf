import Foundation

/// Appends bytes to a file through a fixed buffer (64 KiB): memory does not grow with what is
/// written. Errors are sticky: the first failed `write(2)` is kept, later appends are dropped,
/// and `close()` reports it, so per-row calls on the backtest's path need not throw.
public struct BufferedFileWriter: ~Copyable {
    let path: String
    private var fd: Int32
    private var buffer: [UInt8]
    private var used = 0
    private(set) var failure: BacktestReportError?
    static let capacity = 1 << 16

    /// Creates or truncates `path` (mode 0644).
    public init(path: String) throws(BacktestReportError) {
        self.path = path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .open(path: path, errno: errno) }
        self.fd = fd
        self.buffer = [UInt8](repeating: 0, count: Self.capacity)
    }

    /// A writer with no file: `append` buffers nothing (the ledger without `pnl.csv`).
    init() {
        path = ""
        fd = -1
        buffer = []
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Appends ASCII/UTF-8 bytes.
    public mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { append($0) }
    }

    public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard fd >= 0 else { return }
        if used + bytes.count > Self.capacity { flush() }
        if bytes.count > Self.capacity {
            writeAll(bytes)
            return
        }
        let at = used
        buffer.withUnsafeMutableBufferPointer { b in
            // Safe: at + bytes.count <= capacity after the flush above.
            _ = UnsafeMutableBufferPointer(rebasing: b[at..<(at + bytes.count)]).update(fromContentsOf: bytes)
        }
        used += bytes.count
    }

    mutating func append(byte: UInt8) {
        guard fd >= 0 else { return }
        if used == Self.capacity { flush() }
        buffer[used] = byte
        used += 1
    }

    /// Appends an integer in decimal without building a String.
    mutating func append(_ v: Int64) { append(v.magnitude, negative: v < 0) }

    mutating func append(_ v: UInt64) { append(v, negative: false) }

    private mutating func append(_ magnitude: UInt64, negative: Bool) {
        guard fd >= 0 else { return }
        if used + 21 > Self.capacity { flush() }
        if negative {
            buffer[used] = UInt8(ascii: "-")
            used += 1
        }
        var m = magnitude
        var digits = 0
        var probe = m
        repeat {
            digits += 1
            probe /= 10
        } while probe > 0
        var at = used + digits
        used = at
        repeat {
            at -= 1
            buffer[at] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: m % 10)
            m /= 10
        } while m > 0
    }

    /// Appends a Double as Swift prints it (the shortest text that reads back to the same value).
    mutating func append(_ v: Double) { append(v.description) }

    /// Writes the buffer out.
    mutating func flush() {
        guard used > 0 else { return }
        let n = used
        used = 0
        buffer.withUnsafeBufferPointer { b in writeAll(UnsafeBufferPointer(rebasing: b[0..<n])) }
    }

    private mutating func writeAll(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard failure == nil, let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            // Safe: done < bytes.count, so base + done is inside the buffer.
            let r = write(fd, base + done, bytes.count - done)
            if r < 0 {
                if errno == EINTR { continue }
                failure = .write(path: path, errno: errno)
                return
            }
            done += r
        }
    }

    /// Flushes and closes; throws the first write error, if any.
    public mutating func close() throws(BacktestReportError) {
        flush()
        if fd >= 0 {
            if Glibc.close(fd) != 0, failure == nil { failure = .write(path: path, errno: errno) }
            fd = -1
        }
        if let failure { throw failure }
    }
}
