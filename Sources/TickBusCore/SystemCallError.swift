#if canImport(Glibc)
import Glibc
#endif

/// A system call that failed: which call, on what, and the `errno` it left, kept as a value so a
/// caller can still ask "was it EADDRINUSE?" after the error has crossed a module boundary.
///
/// Modelled on swift-system's `Errno` (the number with its `strerror` text) and swift-nio's
/// `IOError` (the call that failed beside the cause). Build it from `errno` read *immediately*
/// after the failing call: any other libc call in between (`close`, `unlink`, `munmap`, even a
/// `malloc` for an interpolated string) may overwrite `errno`.
public struct SystemCallError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The call that failed, as a C programmer would write it: `"bind"`, `"pread"`, `"setsockopt"`.
    public var call: String
    /// What it was called on — a path, an address, an option name — or nil when nothing names it.
    public var argument: String?
    /// The `errno` value the call left.
    public var errno: Int32

    /// - Parameters:
    ///   - call: the failed call's name.
    ///   - argument: the path, address or option it was called on, shown in parentheses.
    ///   - errno: the `errno` read right after the call.
    public init(call: String, argument: String? = nil, errno: Int32) {
        self.call = call
        self.argument = argument
        self.errno = errno
    }

    /// `strerror` text of `errno`, e.g. "Address already in use".
    public var reason: String { String(cString: strerror(errno)) }

    /// "call(argument) failed: strerror text (errno N)".
    public var description: String {
        "\(call)(\(argument ?? "")) failed: \(reason) (errno \(errno))"
    }
}

/// Runs `body` — one `read`, `write`, `pread`, `pwrite`, `recv`, ... — again for as long as it
/// fails with `EINTR` (a signal arrived before it transferred anything), and returns its first
/// non-negative result. Any other failure becomes a `SystemCallError` holding the `errno` read
/// straight after the call, before anything else can overwrite it.
///
/// ```swift
/// let n = try retryingEINTR("pread", path) { pread(fd, buffer, count, offset) }
/// ```
///
/// A short count is not an error here: the caller loops for the rest (the call did not fail).
/// - Parameters:
///   - call: the call's name, for the error.
///   - argument: what it is called on (a path, an address), evaluated only when the call fails.
///   - body: the call; returns -1 (or any negative value) with `errno` set on failure.
/// - Returns: the call's non-negative result.
@inlinable
public func retryingEINTR<Result: FixedWidthInteger & SignedInteger>(
    _ call: String,
    _ argument: @autoclosure () -> String? = nil,
    _ body: () -> Result
) throws(SystemCallError) -> Result {
    while true {
        let r = body()
        if r >= 0 { return r }
        let e = errno  // first, before building the error allocates anything
        if e != EINTR { throw SystemCallError(call: call, argument: argument(), errno: e) }
    }
}
