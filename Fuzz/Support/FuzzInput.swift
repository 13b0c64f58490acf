// Helpers shared by the harnesses in Fuzz/Targets (compiled into each harness binary).
#if canImport(Glibc)
import Glibc
#endif

/// One libFuzzer input and the temporary files a harness writes from it.
///
/// Files go to a per-process scratch directory that is emptied before each input, or, when
/// `TICKBUS_FUZZ_MATERIALIZE=DIR` is set, to DIR and kept: `Tools/fuzz` uses that to turn a
/// container input (LOBSTER pair, journal directory) into the real files the CLI test reads.
enum FuzzInput {
    /// The separator between the files of a container input ("TBFUZZ" NUL SOH), see Docs/FUZZING.md.
    static let separator: [UInt8] = [0x54, 0x42, 0x46, 0x55, 0x5A, 0x5A, 0x00, 0x01]

    static let materialize: String? = {
        guard let p = getenv("TICKBUS_FUZZ_MATERIALIZE") else { return nil }
        return String(cString: p)
    }()

    static let scratch: String = {
        if let m = materialize {
            mkdir(m, 0o755)
            return m
        }
        // tmpfs when there is one: the files of every execution are written and read back, and
        // a disk-backed /tmp makes that the cost of an execution.
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        let dir = "\(base)/tickbus-fuzz-\(getpid())"
        mkdir(dir, 0o700)
        atexit { removeAll(FuzzInput.scratch, andDirectory: true) }
        return dir
    }()

    /// The input as an array (the model loaders and the TOML parser take owned bytes).
    static func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Splits a container input at each `separator`. The search is libc's `memchr` and `memcmp`:
    /// a loop here would be instrumented for coverage byte by byte and cost more than the parser
    /// under test.
    static func parts(_ b: [UInt8], limit: Int = 8) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var start = 0
        let s = separator
        b.withUnsafeBytes { all in
            s.withUnsafeBytes { sep in
                var from = start
                while out.count < limit - 1, from + sep.count <= all.count {
                    // Safe: from + sep.count <= all.count: the searched range is inside the input.
                    guard let hit = memchr(all.baseAddress! + from, Int32(s[0]), all.count - sep.count + 1 - from)
                    else { break }
                    let at = all.baseAddress!.distance(to: UnsafeRawPointer(hit))
                    // Safe: at <= all.count - sep.count (memchr searched no further).
                    if memcmp(hit, sep.baseAddress!, sep.count) == 0 {
                        out.append(Array(b[start..<at]))
                        start = at + sep.count
                        from = start
                    } else {
                        from = at + 1
                    }
                }
            }
        }
        out.append(Array(b[start...]))
        return out
    }

    /// Starts a new input: removes the files of the previous one (unless materializing).
    static func reset() {
        if materialize == nil { removeAll(scratch, andDirectory: false) }
    }

    /// Writes `bytes` to `name` in the scratch directory and returns its path.
    @discardableResult
    static func write(_ name: String, _ bytes: [UInt8]) -> String {
        let path = scratch + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "fuzz: cannot create \(path): errno \(errno)")
        bytes.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
                precondition(n > 0, "fuzz: cannot write \(path): errno \(errno)")
                off += n
            }
        }
        close(fd)
        return path
    }

    static func removeAll(_ dir: String, andDirectory: Bool) {
        guard let d = opendir(dir) else { return }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(d)
        for n in names { unlink(dir + "/" + n) }
        if andDirectory { rmdir(dir) }
    }

    /// Rows a loaded model is evaluated on: zeros, missing values, infinities, extremes and the
    /// input's own bytes as doubles, so every split direction and the NaN paths are walked.
    static func rows(features: Int, from b: [UInt8]) -> [[Double]] {
        let n = max(features, 1)
        var rows: [[Double]] = [
            [Double](repeating: 0, count: n), [Double](repeating: .nan, count: n),
            [Double](repeating: .infinity, count: n), [Double](repeating: -.infinity, count: n),
            [Double](repeating: 1e300, count: n), [Double](repeating: -1e-300, count: n),
        ]
        var r = [Double](repeating: 0, count: n)
        for k in 0..<n { r[k] = b.isEmpty ? Double(k) : Double(Int8(bitPattern: b[k % b.count])) / 7 }
        rows.append(r)
        return rows
    }
}
