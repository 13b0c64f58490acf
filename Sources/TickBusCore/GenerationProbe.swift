#if canImport(Glibc)
import Glibc
#endif

/// Reads the generation of the segment file now at a ring's name, without allocating: a reader
/// asks this when idle to learn whether a new producer replaced the file it maps.
///
/// Invariant: `directory` is a descriptor of the bus directory (opened `O_NOFOLLOW | O_DIRECTORY`,
/// or -1 when that failed) and `name` a NUL-terminated copy of the ring name, both owned here and
/// released in `deinit`. The probe only reads a header field; whoever re-attaches goes through
/// `Segment.attach` and all its checks (ownership, links, validation).
public struct _GenerationProbe: ~Copyable {
    @usableFromInline let directory: Int32
    @usableFromInline let name: UnsafeMutablePointer<CChar>

    /// - Parameter path: the mapped segment's path, `/dev/shm/tickbus/BUS/RING`.
    public init(path: String) {
        let cut = path.utf8.lastIndex(of: UInt8(ascii: "/")) ?? path.utf8.startIndex
        let dirPath = String(path[..<cut])
        let ring = Array(path.utf8[path.utf8.index(after: cut)...])
        directory = open(dirPath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        // Safe: allocated here with room for the terminator, freed in deinit, never shared.
        name = .allocate(capacity: ring.count + 1)
        for (i, b) in ring.enumerated() { name[i] = CChar(bitPattern: b) }
        name[ring.count] = 0
    }

    deinit {
        if directory >= 0 { close(directory) }
        name.deallocate()
    }

    /// The generation in the header of the file now at the ring's name; nil when there is no
    /// such file or it holds no segment header.
    public func generation() -> UInt64? {
        guard directory >= 0 else { return nil }
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // The magic and the generation, read into the stack: no allocation on this idle path.
        var head: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        let size = MemoryLayout.size(ofValue: head)
        let n = withUnsafeMutableBytes(of: &head) { b in
            (try? retryingEINTR("pread") { pread(fd, b.baseAddress, size, 0) }) ?? -1
        }
        guard n == size else { return nil }
        return withUnsafeBytes(of: head) { b -> UInt64? in
            // Safe: `size` (64) bytes were read; both fields lie within them.
            let base = b.baseAddress!
            guard
                base.loadLittleEndian(fromByteOffset: SegmentLayout.magicOffset, as: UInt64.self) == SegmentLayout.magic
            else { return nil }
            return base.loadLittleEndian(fromByteOffset: SegmentLayout.generationOffset, as: UInt64.self)
        }
    }
}
