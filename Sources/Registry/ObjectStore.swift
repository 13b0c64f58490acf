import Crypto
import Foundation

/// Content-addressed, read-only files: `objects/sha256/<hex>` holds bytes whose sha256 is `<hex>`.
struct ObjectStore {
    let directory: String

    /// Lowercase hex sha256 of `bytes`.
    static func sha256(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { hexByte($0) }.joined() }

    static func hexByte(_ b: UInt8) -> String {
        let h = String(b, radix: 16)
        return h.count == 1 ? "0" + h : h
    }

    func path(_ hex: String) -> String { directory + "/" + hex }

    /// Stores `bytes` (if not already there) and returns their hash. Written to a temporary name
    /// and renamed, so a reader never sees half an object; then made read-only.
    func put(_ bytes: [UInt8]) throws(RegistryError) -> String {
        let hex = Self.sha256(bytes)
        let final = path(hex)
        if FileManager.default.fileExists(atPath: final) { return hex }
        try FileIO.writeAtomically(bytes, to: final, mode: 0o444)
        return hex
    }

    /// The bytes of object `hex`, checked against their name.
    func get(_ hex: String) throws(RegistryError) -> [UInt8] {
        let bytes = try FileIO.read(path(hex))
        guard Self.sha256(bytes) == hex else {
            throw .malformed(what: path(hex), reason: "content does not hash to its name (altered)")
        }
        return bytes
    }

    /// Every object's name.
    func names() throws(RegistryError) -> [String] { try FileIO.list(directory) }
}

/// File system calls with errors that name the path and the operation.
enum FileIO {
    static func read(_ path: String) throws(RegistryError) -> [UInt8] {
        do { return Array(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw .io(path: path, operation: "read", reason: reason(error))
        }
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    static func makeDirectory(_ path: String) throws(RegistryError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw .io(path: path, operation: "create directory", reason: reason(error))
        }
    }

    /// The names in a directory, sorted, without dot files; none when it does not exist (a part
    /// of the registry not made yet). Any other failure (no permission) is an error, not "empty".
    static func list(_ path: String) throws(RegistryError) -> [String] {
        var st = stat()
        if stat(path, &st) != 0 {
            let e = errno
            if e == ENOENT { return [] }
            throw .io(path: path, operation: "list", reason: reason(errno: e))
        }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw .io(path: path, operation: "list", reason: reason(error))
        }
    }

    /// Writes `bytes` to `path` through a temporary file beside it and a rename, so that a reader
    /// sees the old content or the new, never part of it; nothing is left behind on failure.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: Int) throws(RegistryError) {
        try commit(try prepare(bytes, for: path, mode: mode), to: path)
    }

    /// The first half of `writeAtomically`: a complete temporary file beside `path` (its name
    /// returned), so that a caller can learn that the directory is writable before it changes
    /// anything else, and `commit` it afterwards (or `discard` it).
    static func prepare(_ bytes: [UInt8], for path: String, mode: Int) throws(RegistryError) -> String {
        let tmp = path + ".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        // open(2) and write(2) rather than Data.write: their errno is the cause the message keeps
        // (Foundation's error for a refused create carries only its own sentence).
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw .io(path: path, operation: "write", reason: reason(errno: errno)) }
        var done = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { b in
            while done < b.count {
                let n = write(fd, b.baseAddress! + done, b.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                done += n
            }
        }
        // The mode again: open(2)'s is reduced by the umask.
        if failure == 0, fchmod(fd, mode_t(mode)) != 0 { failure = errno }
        close(fd)
        guard failure == 0 else {
            discard(tmp)
            throw .io(path: path, operation: "write", reason: reason(errno: failure))
        }
        return tmp
    }

    /// Renames a `prepare`d file onto `path`; on failure the temporary file is removed.
    static func commit(_ tmp: String, to path: String) throws(RegistryError) {
        guard rename(tmp, path) == 0 else {
            let e = errno
            discard(tmp)
            throw .io(path: path, operation: "write", reason: reason(errno: e))
        }
    }

    /// Removes a `prepare`d file that will not be committed.
    static func discard(_ tmp: String) { unlink(tmp) }

    /// An errno as the other I/O errors give it: the system's message and the number.
    static func reason(errno e: Int32) -> String { "\(String(cString: strerror(e))) (errno \(e))" }

    /// The system's message without Foundation's wrapping.
    static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let u = ns.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain {
            return "\(String(cString: strerror(Int32(u.code)))) (errno \(u.code))"
        }
        if ns.domain == NSPOSIXErrorDomain { return "\(String(cString: strerror(Int32(ns.code)))) (errno \(ns.code))" }
        return ns.localizedDescription
    }
}
