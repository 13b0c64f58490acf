import CTickBus
#if canImport(Glibc)
import Glibc
#endif

/// Where segments live. A bus is a directory; tests use a unique bus each and remove it after.
public enum BusPaths {
    public static let root = "/dev/shm/tickbus"

    public static func busDirectory(_ bus: String) -> String { "\(root)/\(bus)" }
    public static func ring(bus: String, ring: String) -> String { "\(root)/\(bus)/\(ring)" }

    /// Bus and ring names are path components: a short, safe alphabet only.
    public static func validate(_ name: String) throws(SegmentError) {
        let ok = !name.isEmpty && name.utf8.count <= 63 && name != "." && name != ".."
            && name.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                    || c == 0x2E || c == 0x5F || c == 0x2D
            }
        if !ok { throw .invalidName(name) }
    }
}

/// The header fields of a segment, as read (and validated) from its first bytes.
public struct SegmentHeader: Equatable, Sendable {
    public var version: UInt32
    public var slotSize: Int
    public var capacity: Int
    public var slotsOffset: Int
    public var fileSize: Int
    public var schema: SchemaID
    public var producerPid: Int32
    public var generation: UInt64
    public var name: String
    public var createdRealtimeNs: UInt64
}

/// A mapped segment file. Owns the mapping for the lifetime of the producer or reader that holds
/// it; the hot path uses raw pointers copied out of it, never the object itself.
///
/// Invariant: `base` points at `size` bytes mapped shared and read-write, `size` equals the file
/// size validated against the header, and the header was validated before the mapping was made.
public final class _SegmentMapping: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let size: Int
    public let path: String
    public let header: SegmentHeader

    init(base: UnsafeMutableRawPointer, size: Int, path: String, header: SegmentHeader) {
        self.base = base
        self.size = size
        self.path = path
        self.header = header
    }

    deinit { munmap(base, size) }

    @inlinable public var slots: UnsafeMutableRawPointer { base + SegmentLayout.slotsOffset }

    @inlinable public func readerEntry(_ index: Int) -> UnsafeMutableRawPointer {
        base + SegmentLayout.readerTableOffset + index * SegmentLayout.readerEntrySize
    }

    /// The producer's published cursor: the next sequence it will write.
    @inlinable public var cursor: UInt64 { tb_load_acquire_u64(base + SegmentLayout.cursorOffset) }
    @inlinable public var producerHeartbeat: UInt64 { tb_load_acquire_u64(base + SegmentLayout.heartbeatOffset) }
    @inlinable public var producerState: ProducerState {
        ProducerState(rawValue: tb_load_acquire_u32(base + SegmentLayout.stateOffset)) ?? .closed
    }
}

/// Creating and attaching segment files.
public enum Segment {
    /// Who may attach: the owner only (0600) or also a group (0660).
    public enum Access: Sendable, Equatable {
        case owner
        case group(gid_t)
        public var mode: mode_t {
            switch self {
            case .owner: return 0o600
            case .group: return 0o660
            }
        }
    }

    /// Creates a ring segment: writes the whole header into a temporary file, then renames it
    /// into place so that no reader ever sees a half-written header. The generation is one more
    /// than the generation of the file it replaces.
    public static func create(
        bus: String, ring: String, schema: SchemaID, slotSize: Int, capacity: Int,
        access: Access = .owner
    ) throws(SegmentError) -> _SegmentMapping {
        try BusPaths.validate(bus)
        try BusPaths.validate(ring)
        guard slotSize >= 64, slotSize % 64 == 0 else { throw .invalidParameter("slot size \(slotSize) is not a non-zero multiple of 64") }
        guard capacity >= 2, capacity & (capacity - 1) == 0 else { throw .invalidParameter("capacity \(capacity) is not a power of two >= 2") }

        let dirMode: mode_t = access == .owner ? 0o700 : 0o770
        try makeDirectory(BusPaths.root, mode: 0o1777)
        try makeDirectory(BusPaths.busDirectory(bus), mode: dirMode)
        if case .group(let gid) = access {
            // The group must be able to reach the ring through the bus directory too.
            let dir = BusPaths.busDirectory(bus)
            if chown(dir, uid_t.max, gid) != 0 {
                let e = errno
                if e != EPERM { throw .system(call: "chown", path: dir, errno: e) }
            }
            chmod(dir, dirMode)
        }
        let path = BusPaths.ring(bus: bus, ring: ring)

        var generation: UInt64 = 1
        if let previous = try? readHeader(path: path, expecting: nil) {
            if previous.producerPid != getpid(), tb_pid_alive(previous.producerPid) != 0,
                let old = try? attachMapping(path: path, expecting: nil), old.producerState == .running
            {
                throw .producerAlreadyRunning(path: path, pid: previous.producerPid)
            }
            generation = previous.generation &+ 1
        }

        let tmp = "\(path).tmp.\(getpid())"
        let fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, access.mode)
        if fd < 0 { throw .system(call: "open", path: tmp, errno: errno) }
        defer { close(fd) }
        // umask may have cleared bits: set exactly the mode asked for.
        if fchmod(fd, access.mode) != 0 { let e = errno; unlink(tmp); throw .system(call: "fchmod", path: tmp, errno: e) }
        if case .group(let gid) = access, fchown(fd, uid_t.max, gid) != 0 {
            let e = errno; unlink(tmp); throw .system(call: "fchown", path: tmp, errno: e)
        }
        let size = SegmentLayout.fileSize(slotSize: slotSize, capacity: capacity)
        if ftruncate(fd, off_t(size)) != 0 { let e = errno; unlink(tmp); throw .system(call: "ftruncate", path: tmp, errno: e) }
        guard let raw = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), raw != MAP_FAILED else {
            let e = errno; unlink(tmp); throw .system(call: "mmap", path: tmp, errno: e)
        }

        let header = SegmentHeader(
            version: SegmentLayout.version, slotSize: slotSize, capacity: capacity,
            slotsOffset: SegmentLayout.slotsOffset, fileSize: size, schema: schema,
            producerPid: getpid(), generation: generation, name: ring,
            createdRealtimeNs: tb_realtime_ns())
        let mapping = _SegmentMapping(base: raw, size: size, path: path, header: header)
        write(header, to: raw)
        // Every slot starts empty: no sequence can match it.
        for i in 0..<capacity {
            raw.storeBytes(of: SegmentLayout.emptyWord, toByteOffset: SegmentLayout.slotsOffset + i * slotSize, as: UInt64.self)
        }
        tb_store_release_u64(raw + SegmentLayout.heartbeatOffset, tb_monotonic_ns())
        tb_store_release_u32(raw + SegmentLayout.stateOffset, ProducerState.running.rawValue)
        if rename(tmp, path) != 0 { let e = errno; unlink(tmp); throw .system(call: "rename", path: path, errno: e) }
        return mapping
    }

    /// Validates a segment's header, then maps it. Nothing is mapped until magic, version, slot
    /// size, capacity, schema, layout and file size have all been checked.
    public static func attach(bus: String, ring: String, expecting schema: SchemaID?) throws(SegmentError) -> _SegmentMapping {
        try BusPaths.validate(bus)
        try BusPaths.validate(ring)
        return try attachMapping(path: BusPaths.ring(bus: bus, ring: ring), expecting: schema)
    }

    public static func attachMapping(path: String, expecting schema: SchemaID?) throws(SegmentError) -> _SegmentMapping {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 { throw openError(path: path, errno: errno) }
        defer { close(fd) }
        let header = try readHeader(fd: fd, path: path, expecting: schema)
        guard let raw = mmap(nil, header.fileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), raw != MAP_FAILED else {
            throw .system(call: "mmap", path: path, errno: errno)
        }
        return _SegmentMapping(base: raw, size: header.fileSize, path: path, header: header)
    }

    /// Reads and validates the header of a segment file without mapping it.
    public static func readHeader(path: String, expecting schema: SchemaID?) throws(SegmentError) -> SegmentHeader {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw openError(path: path, errno: errno) }
        defer { close(fd) }
        return try readHeader(fd: fd, path: path, expecting: schema)
    }

    static func readHeader(fd: Int32, path: String, expecting schema: SchemaID?) throws(SegmentError) -> SegmentHeader {
        var st = stat()
        if fstat(fd, &st) != 0 { throw .system(call: "fstat", path: path, errno: errno) }
        let actual = Int(st.st_size)
        if actual < SegmentLayout.slotsOffset {
            throw .fileTooSmall(path: path, size: actual, needed: SegmentLayout.slotsOffset)
        }
        var bytes = [UInt8](repeating: 0, count: SegmentLayout.validatedPrefix)
        let n: Int
        do throws(SystemCallError) {
            n = try retryingEINTR("pread", path) { bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) } }
        } catch {
            throw SegmentError(error)
        }
        // The size was checked above: a short read means the file shrank under us.
        if n != SegmentLayout.validatedPrefix { throw .system(call: "pread", path: path, errno: EIO) }
        let result = bytes.withUnsafeBytes { p -> Result<SegmentHeader, SegmentError> in
            do throws(SegmentError) {
                return .success(try validate(p, path: path, actualSize: UInt64(actual), expecting: schema))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Checks every header field, in the order a corrupt file is most likely to fail.
    static func validate(_ p: UnsafeRawBufferPointer, path: String, actualSize: UInt64, expecting expected: SchemaID?) throws(SegmentError) -> SegmentHeader {
        func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        let magic = u64(SegmentLayout.magicOffset)
        guard magic == SegmentLayout.magic else { throw .badMagic(path: path, found: magic) }
        let version = u32(SegmentLayout.versionOffset)
        guard version == SegmentLayout.version else { throw .unsupportedVersion(path: path, found: version, supported: SegmentLayout.version) }
        let slotSize = u32(SegmentLayout.slotSizeOffset)
        guard slotSize >= 64, slotSize % 64 == 0 else { throw .slotSizeNotMultipleOf64(path: path, found: slotSize) }
        let capacity = u64(SegmentLayout.capacityOffset)
        guard capacity >= 2, capacity & (capacity - 1) == 0, capacity <= 1 << 32 else { throw .capacityNotPowerOfTwo(path: path, found: capacity) }
        let rawSchema = u32(SegmentLayout.schemaOffset)
        guard let schema = SchemaID(rawValue: rawSchema) else { throw .unknownSchema(path: path, found: rawSchema) }
        if let expected, expected != schema { throw .schemaMismatch(path: path, found: rawSchema, expected: expected.rawValue) }
        let entries = u32(SegmentLayout.readerEntriesOffset)
        guard entries == UInt32(SegmentLayout.readerEntries) else { throw .badReaderTable(path: path, found: entries, expected: UInt32(SegmentLayout.readerEntries)) }
        let slotsOffset = u64(SegmentLayout.slotsOffsetOffset)
        guard slotsOffset == UInt64(SegmentLayout.slotsOffset) else { throw .badSlotsOffset(path: path, found: slotsOffset, expected: UInt64(SegmentLayout.slotsOffset)) }
        let fileSize = u64(SegmentLayout.fileSizeOffset)
        let computed = slotsOffset + capacity * UInt64(slotSize)
        guard fileSize == computed else { throw .fileSizeInconsistent(path: path, header: fileSize, computed: computed) }
        guard actualSize == fileSize else { throw .fileSizeMismatch(path: path, header: fileSize, actual: actualSize) }
        let nameBytes = UnsafeRawBufferPointer(rebasing: p[SegmentLayout.nameOffset..<(SegmentLayout.nameOffset + SegmentLayout.nameLength)])
        let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
        return SegmentHeader(
            version: version, slotSize: Int(slotSize), capacity: Int(capacity), slotsOffset: Int(slotsOffset),
            fileSize: Int(fileSize), schema: schema,
            producerPid: Int32(bitPattern: u32(SegmentLayout.producerPidOffset)),
            generation: u64(SegmentLayout.generationOffset), name: name,
            createdRealtimeNs: u64(SegmentLayout.createdOffset))
    }

    static func write(_ h: SegmentHeader, to raw: UnsafeMutableRawPointer) {
        raw.storeBytes(of: SegmentLayout.magic.littleEndian, toByteOffset: SegmentLayout.magicOffset, as: UInt64.self)
        raw.storeBytes(of: h.version.littleEndian, toByteOffset: SegmentLayout.versionOffset, as: UInt32.self)
        raw.storeBytes(of: UInt32(h.slotSize).littleEndian, toByteOffset: SegmentLayout.slotSizeOffset, as: UInt32.self)
        raw.storeBytes(of: UInt64(h.capacity).littleEndian, toByteOffset: SegmentLayout.capacityOffset, as: UInt64.self)
        raw.storeBytes(of: UInt64(h.slotsOffset).littleEndian, toByteOffset: SegmentLayout.slotsOffsetOffset, as: UInt64.self)
        raw.storeBytes(of: UInt64(h.fileSize).littleEndian, toByteOffset: SegmentLayout.fileSizeOffset, as: UInt64.self)
        raw.storeBytes(of: h.schema.rawValue.littleEndian, toByteOffset: SegmentLayout.schemaOffset, as: UInt32.self)
        raw.storeBytes(of: UInt32(SegmentLayout.readerEntries).littleEndian, toByteOffset: SegmentLayout.readerEntriesOffset, as: UInt32.self)
        raw.storeBytes(of: h.producerPid.littleEndian, toByteOffset: SegmentLayout.producerPidOffset, as: Int32.self)
        raw.storeBytes(of: h.generation.littleEndian, toByteOffset: SegmentLayout.generationOffset, as: UInt64.self)
        raw.storeBytes(of: h.createdRealtimeNs.littleEndian, toByteOffset: SegmentLayout.createdOffset, as: UInt64.self)
        var i = 0
        for byte in h.name.utf8.prefix(SegmentLayout.nameLength - 1) {
            raw.storeBytes(of: byte, toByteOffset: SegmentLayout.nameOffset + i, as: UInt8.self)
            i += 1
        }
    }

    static func openError(path: String, errno e: Int32) -> SegmentError {
        switch e {
        case EACCES, EPERM: return .permissionDenied(path: path)
        case ENOENT: return .notFound(path: path)
        default: return .system(call: "open", path: path, errno: e)
        }
    }

    static func makeDirectory(_ path: String, mode: mode_t) throws(SegmentError) {
        if mkdir(path, mode) == 0 {
            chmod(path, mode)  // umask may have cleared bits
            return
        }
        if errno != EEXIST { throw .system(call: "mkdir", path: path, errno: errno) }
    }

    /// Names of the rings on a bus (files that are not temporaries), sorted.
    public static func list(bus: String) throws(SegmentError) -> [String] {
        try BusPaths.validate(bus)
        let dir = BusPaths.busDirectory(bus)
        guard let d = opendir(dir) else { throw openError(path: dir, errno: errno) }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." || name.contains(".tmp.") { continue }
            if name.hasPrefix(StatsLayout.filePrefix) { continue }  // stats blocks, not rings
            names.append(name)
        }
        return names.sorted()
    }

    /// Removes a bus: every ring file and the directory. Mappings held by running processes stay
    /// valid until they unmap (POSIX unlink semantics).
    public static func removeBus(_ bus: String) throws(SegmentError) {
        try BusPaths.validate(bus)
        let dir = BusPaths.busDirectory(bus)
        guard let d = opendir(dir) else {
            if errno == ENOENT { return }
            throw openError(path: dir, errno: errno)
        }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(d)
        for name in names where unlink("\(dir)/\(name)") != 0 {
            let e = errno  // before the path below is built
            if e != ENOENT { throw .system(call: "unlink", path: "\(dir)/\(name)", errno: e) }
        }
        if rmdir(dir) != 0 && errno != ENOENT { throw .system(call: "rmdir", path: dir, errno: errno) }
    }
}
