#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads and writes for the snapshot's small files (the manifest) and its data file.
enum SnapshotFiles {
    /// The bytes of `path`.
    static func read(_ path: String) throws(SnapshotError) -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: "cannot be opened: \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n > 0 { out.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count { break }
        }
        guard ferror(f) == 0 else { throw .unreadable(path: path, reason: "read failed") }
        return out
    }

    /// Writes `bytes` to `path + ".tmp"` and renames it into place (a reader never sees half a manifest).
    static func write(_ path: String, _ bytes: [UInt8]) throws(SnapshotError) {
        let tmp = path + ".tmp"
        guard let f = fopen(tmp, "wb") else { throw .unreadable(path: tmp, reason: "cannot be created") }
        let n = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        let closed = fclose(f)
        guard n == bytes.count, closed == 0, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw .unreadable(path: path, reason: "cannot be written")
        }
    }
}
