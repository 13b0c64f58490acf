import CTickBus
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// The control server's Unix-domain stream socket, `control.sock` in the bus directory, and the
/// connections made through it.
///
/// Why `/proc/self/fd/<dir>/control.sock`: Linux has no `bindat`/`connectat`, and a path such as
/// `/dev/shm/tickbus/<bus>/control.sock` would be resolved again, through whatever sits at that
/// name now. Going through the descriptor of the `BusDirectory` already opened and checked (no
/// symbolic link, owned by the caller) keeps the socket inside that directory, and the path stays
/// far below `sun_path`'s 108 bytes whatever the bus name.
///
/// Invariant: `fd` is an open socket owned by this value and closed by `deinit`.
public struct ControlSocket: ~Copyable {
    /// The socket's name in the bus directory.
    public static let name = "control.sock"

    public let fd: Int32

    init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// `/proc/self/fd/N/control.sock` for the open bus directory.
    static func address(_ dir: borrowing BusDirectory) -> sockaddr_un {
        var a = sockaddr_un()
        a.sun_family = sa_family_t(AF_UNIX)
        let path = Array("/proc/self/fd/\(dir.fd)/\(name)".utf8)
        withUnsafeMutableBytes(of: &a.sun_path) { raw in
            for (i, b) in path.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        return a
    }

    static func withAddress<R>(_ dir: borrowing BusDirectory, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var a = address(dir)
        return withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    static func stream(_ what: String) throws(ControlSocketError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw .system(SystemCallError(call: "socket", argument: what, errno: errno)) }
        return fd
    }

    /// Connects to the server of the bus.
    /// - Throws: `.noServer` when nothing listens (no socket, or a stale one), else the failed call.
    public static func connect(_ dir: borrowing BusDirectory) throws(ControlSocketError) -> ControlSocket {
        let path = dir.path(of: name)
        let fd = try stream(path)
        let r = withAddress(dir) { Glibc.connect(fd, $0, $1) }
        if r != 0 {
            let e = errno
            close(fd)
            if e == ENOENT || e == ECONNREFUSED { throw .noServer(path: path) }
            throw .system(SystemCallError(call: "connect", argument: path, errno: e))
        }
        return ControlSocket(fd: fd)
    }

    /// Binds and listens on `control.sock`, with the access of the segments (0600, or 0660 and
    /// the group's ownership for a group bus). A socket
    /// already there is removed only if it is a socket and no server answers on it.
    /// - Throws: `.serverRunning` when a server answers, `.notASocket` when something else holds
    ///   the name, or the failed call.
    public static func listen(
        _ dir: borrowing BusDirectory,
        access: Segment.Access
    ) throws(ControlSocketError) -> ControlSocket {
        let path = dir.path(of: name)
        var st = stat()
        if fstatat(dir.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else { throw .notASocket(path: path) }
            do throws(ControlSocketError) {
                _ = try connect(dir)
                throw .serverRunning(path: path)
            } catch {
                guard case .noServer = error else { throw error }
            }
            // Stale: left by a server that was killed. The entry goes, never what it points to.
            if unlinkat(dir.fd, name, 0) != 0 && errno != ENOENT {
                throw .system(SystemCallError(call: "unlink", argument: path, errno: errno))
            }
        }
        let fd = try stream(path)
        let s = ControlSocket(fd: fd)
        // bind creates the entry atomically: of two servers starting at once, one gets EADDRINUSE.
        if withAddress(dir, { bind(fd, $0, $1) }) != 0 {
            let e = errno
            if e == EADDRINUSE { throw .serverRunning(path: path) }
            throw .system(SystemCallError(call: "bind", argument: path, errno: e))
        }
        // The bus directory (0700/0770) already keeps others out; the mode says the same of the socket.
        if case .group(let gid) = access, fchownat(dir.fd, name, uid_t.max, gid, AT_SYMLINK_NOFOLLOW) != 0 {
            let e = errno
            _ = unlinkat(dir.fd, name, 0)
            throw .system(SystemCallError(call: "chown", argument: path, errno: e))
        }
        if fchmodat(dir.fd, name, access.mode, 0) != 0 {
            let e = errno
            _ = unlinkat(dir.fd, name, 0)
            throw .system(SystemCallError(call: "chmod", argument: path, errno: e))
        }
        if Glibc.listen(fd, 16) != 0 {
            let e = errno
            _ = unlinkat(dir.fd, name, 0)
            throw .system(SystemCallError(call: "listen", argument: path, errno: e))
        }
        return s
    }

    /// Waits up to `timeoutMs` for `events` on the socket; false on timeout or a signal.
    public func wait(for events: Int16 = Int16(POLLIN), timeoutMs: Int32) -> Bool {
        var p = pollfd(fd: fd, events: events, revents: 0)
        return poll(&p, 1, timeoutMs) > 0
    }

    /// Accepts one connection if one is waiting (call after `wait`).
    public func accept() throws(ControlSocketError) -> ControlSocket? {
        let c = Glibc.accept(fd, nil, nil)
        if c < 0 {
            let e = errno
            if e == EAGAIN || e == EINTR || e == ECONNABORTED { return nil }
            throw .system(SystemCallError(call: "accept", argument: Self.name, errno: e))
        }
        // accept4 is not in Swift's Glibc module; nothing forks between the two calls.
        _ = fcntl(c, F_SETFD, FD_CLOEXEC)
        return ControlSocket(fd: c)
    }

    /// The peer's pid and uid (SO_PEERCRED), for the server's log line.
    public var peer: (pid: Int32, uid: UInt32)? {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (not imported without _GNU_SOURCE).
        var cred: (Int32, UInt32, UInt32) = (0, 0, 0)
        var len = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0, len == 12 else { return nil }
        return (cred.0, cred.1)
    }

    /// Reads exactly `count` bytes into `buffer`, or fewer if the peer closes first; gives up at
    /// `deadline` (monotonic ns) so a silent client cannot hold the server.
    /// - Returns: the bytes read (less than `count` only at end of stream).
    /// - Throws: `.timedOut` at the deadline, or the failed call.
    public func read(
        into buffer: UnsafeMutableRawPointer,
        count: Int,
        deadline: UInt64
    ) throws(ControlSocketError) -> Int {
        var got = 0
        while got < count {
            let now = tb_monotonic_ns()
            guard now < deadline else { throw .timedOut(what: "reading", after: got) }
            let ms = Int32(min(1000, (deadline - now) / 1_000_000 + 1))
            if !wait(timeoutMs: ms) { continue }
            let n: Int
            do throws(SystemCallError) {
                n = try retryingEINTR("read", Self.name) { Glibc.read(fd, buffer + got, count - got) }
            } catch {
                // A peer that reset the connection has ended it, as far as the reader is concerned.
                if error.errno == ECONNRESET { return got }
                throw .system(error)
            }
            if n == 0 { return got }
            got += n
        }
        return got
    }

    /// Writes every byte (the peer may have gone: EPIPE is reported, never a SIGPIPE).
    public func write(_ bytes: [UInt8], deadline: UInt64) throws(ControlSocketError) {
        var sent = 0
        while sent < bytes.count {
            let now = tb_monotonic_ns()
            guard now < deadline else { throw .timedOut(what: "writing", after: sent) }
            let ms = Int32(min(1000, (deadline - now) / 1_000_000 + 1))
            if !wait(for: Int16(POLLOUT), timeoutMs: ms) { continue }
            let n = bytes.withUnsafeBytes { b in send(fd, b.baseAddress! + sent, b.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                let e = errno
                if e == EINTR || e == EAGAIN { continue }
                throw .system(SystemCallError(call: "send", argument: Self.name, errno: e))
            }
            sent += n
        }
    }

    /// Ends this side's writing: the peer reads end of stream after the last byte.
    public func shutdownWrite() { _ = shutdown(fd, Int32(SHUT_WR)) }

    /// Reads and drops whatever the peer still sends (at most `limit` bytes, until `deadline`), so
    /// that closing after a refusal does not reset the connection before the peer read the reply.
    public func drain(limit: Int, deadline: UInt64) {
        var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var total = 0
        while total < limit {
            let n = withUnsafeMutableBytes(of: &scratch) { b in
                (try? read(into: b.baseAddress!, count: b.count, deadline: deadline)) ?? 0
            }
            if n == 0 { return }
            total += n
        }
    }
}

/// Why the control socket could not be used: the path and the failed call or condition.
public enum ControlSocketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing listens at the socket (no server started on this bus, or it was killed).
    case noServer(path: String)
    /// Another server answers on the socket.
    case serverRunning(path: String)
    /// The socket's name is taken by something that is not a socket.
    case notASocket(path: String)
    /// The peer stayed silent (or did not read) until the deadline.
    case timedOut(what: String, after: Int)
    case system(SystemCallError)

    public var description: String {
        switch self {
        case .noServer(let p): return "no control server answers at \(p) (start one: tickbus control serve --bus BUS)"
        case .serverRunning(let p): return "another control server is running on \(p)"
        case .notASocket(let p): return "\(p) exists and is not a socket; remove it if it is yours"
        case .timedOut(let what, let n): return "control socket timed out \(what) (after \(n) bytes)"
        case .system(let e): return "\(e)"
        }
    }
}
