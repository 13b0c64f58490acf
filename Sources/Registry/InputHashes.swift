#if canImport(Glibc)
import Glibc
#endif

/// The sha256 of a run's inputs (a backtest report's `inputs`): what the registry's backtest gate
/// and a reader of the report check the run against. A directory (a journal) hashes as the
/// sha256 of its files' names and hashes, in name order.
public enum InputHashes {
    /// sha256 hex of the file or directory at `path`; nil when it cannot be read.
    public static func sha256(path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        if st.st_mode & S_IFMT == S_IFDIR {
            guard let dir = opendir(path) else { return nil }
            defer { closedir(dir) }
            var names: [String] = []
            while let e = readdir(dir) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            var listing: [UInt8] = []
            for name in names.sorted() {
                guard let h = sha256(path: path + "/" + name) else { return nil }
                listing.append(contentsOf: "\(h)  \(name)\n".utf8)
            }
            return Manifest.sha256Hex(listing)
        }
        guard let bytes = try? FileIO.read(path) else { return nil }
        return Manifest.sha256Hex(bytes)
    }

    /// The hashes of `files` (name → path; nil paths skipped, unreadable ones hashed as "unreadable").
    public static func hashes(_ files: [String: String?]) -> [String: String] {
        var out: [String: String] = [:]
        for (name, path) in files {
            guard let path else { continue }
            out[name] = sha256(path: path) ?? "unreadable"
        }
        return out
    }
}
