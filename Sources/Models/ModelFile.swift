#if canImport(Glibc)
import Glibc
#endif

/// Reading model files (load time only) and the model id.
public enum ModelFile {
    /// The whole file as bytes.
    public static func read(_ path: String) throws(ModelError) -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw .io(path: path, errno: errno) }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            errno = 0  // so that a nonzero errno below is this fread's
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            // fread sets errno when the read under it fails: keep it before append can change it.
            let e = errno
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count {
                if ferror(f) != 0 { throw .io(path: path, errno: e != 0 ? e : EIO) }
                break
            }
        }
        return bytes
    }

    /// The model id: FNV-1a 64 over the file's bytes (the first 8 bytes of a content hash, as the
    /// decision record stores it). Any edit to the file changes the id.
    public static func contentHash(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }
}
