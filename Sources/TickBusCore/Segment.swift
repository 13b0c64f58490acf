import CTickBus

#if canImport(Glibc)
import Glibc
#endif

/// Where segments live. A bus is a directory; tests use a unique bus each and remove it after.
public enum BusPaths {
    public static let root = "/dev/shm/tickbus"

    public static func busDirectory(_ bus: String) -> String { "\(root)/\(bus)" }
    public static func ring(bus: String, ring: String) -> String { "\(root)/\(bus)/\(ring)" }

    /// The longest bus or ring name (bytes).
    public static let maxNameLength = 63

    /// Bus and ring names are path components: a short, safe alphabet only (no `/`, no NUL, not
    /// `.` or `..`), so a name can never leave the bus directory.
    public static func validate(_ name: String) throws(SegmentError) {
        let ok =
            !name.isEmpty && name.utf8.count <= maxNameLength && name != "." && name != ".."
            && name.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                    || c == 0x2E || c == 0x5F || c == 0x2D
            }
        if !ok { throw .invalidName(name) }
    }

    /// Splits `/dev/shm/tickbus/<bus>/<name>` into its two names (both validated): the only paths
    /// the path-based entry points accept, so that every open goes through `BusDirectory`.
    public static func split(_ path: String) throws(SegmentError) -> (bus: String, name: String) {
        let prefix = root + "/"
        guard path.hasPrefix(prefix) else {
            throw .invalidParameter("\(path): not a file of a bus (expected \(root)/BUS/NAME)")
        }
        let parts = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw .invalidParameter("\(path): not a file of a bus (expected \(root)/BUS/NAME)")
        }
        let bus = String(parts[0])
        let name = String(parts[1])
        try validate(bus)
        try validate(name)
        return (bus, name)
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
        bus: String,
        ring: String,
        schema: SchemaID,
        slotSize: Int,
        capacity: Int,
        access: Access = .owner
    ) throws(SegmentError) -> _SegmentMapping {
        try BusPaths.validate(bus)
        try BusPaths.validate(ring)
        guard slotSize >= 64, slotSize % 64 == 0 else {
            throw .invalidParameter("slot size \(slotSize) is not a non-zero multiple of 64")
        }
        guard capacity >= 2, capacity & (capacity - 1) == 0 else {
            throw .invalidParameter("capacity \(capacity) is not a power of two >= 2")
        }

        let dir = try BusDirectory(bus: bus, creating: access)
        let path = dir.path(of: ring)

        var generation: UInt64 = 1
        if let previous = try previousHeader(dir, ring: ring) {
            if previous.producerPid != getpid(), tb_pid_alive(previous.producerPid) != 0,
                let old = try? attach(dir, ring: ring, expecting: nil), old.producerState == .running
            {
                throw .producerAlreadyRunning(path: path, pid: previous.producerPid)
            }
            generation = previous.generation &+ 1
        }

        let size = SegmentLayout.fileSize(slotSize: slotSize, capacity: capacity)
        let (tmp, raw) = try dir.createMappedTemporary(for: ring, mode: access.mode, size: size)

        let header = SegmentHeader(
            version: SegmentLayout.version,
            slotSize: slotSize,
            capacity: capacity,
            slotsOffset: SegmentLayout.slotsOffset,
            fileSize: size,
            schema: schema,
            producerPid: getpid(),
            generation: generation,
            name: ring,
            createdRealtimeNs: tb_realtime_ns()
        )
        let mapping = _SegmentMapping(base: raw, size: size, path: path, header: header)
        write(header, to: raw)
        // Every slot starts empty: no sequence can match it.
        for i in 0..<capacity {
            raw.storeBytes(
                of: SegmentLayout.emptyWord,
                toByteOffset: SegmentLayout.slotsOffset + i * slotSize,
                as: UInt64.self
            )
        }
        tb_store_release_u64(raw + SegmentLayout.heartbeatOffset, tb_monotonic_ns())
        tb_store_release_u32(raw + SegmentLayout.stateOffset, ProducerState.running.rawValue)
        do throws(SegmentError) { try dir.rename(tmp, to: ring) } catch {
            dir.unlink(tmp)
            throw error
        }
        return mapping
    }

    /// The header of the file a new producer replaces, if it is a valid segment. A file that is
    /// not a segment (or is corrupt) is replaced; a symbolic link or a file the caller does not
    /// trust is refused, since something is wrong with the bus.
    static func previousHeader(_ dir: borrowing BusDirectory, ring: String) throws(SegmentError) -> SegmentHeader? {
        let fd: Int32
        do throws(SegmentError) { fd = try dir.openFile(ring, flags: O_RDONLY) } catch {
            switch error {
            case .symbolicLink, .notTrusted, .notARegularFile: throw error
            default: return nil
            }
        }
        defer { close(fd) }
        return try? readHeader(fd: fd, path: dir.path(of: ring), expecting: nil)
    }

    /// Validates a segment's header, then maps it. Nothing is mapped until magic, version, slot
    /// size, capacity, schema, layout and file size have all been checked.
    public static func attach(
        bus: String,
        ring: String,
        expecting schema: SchemaID?
    ) throws(SegmentError) -> _SegmentMapping {
        try BusPaths.validate(ring)
        let dir = try openBus(bus, ring: ring)
        return try attach(dir, ring: ring, expecting: schema)
    }

    /// Validates and maps a ring of an open bus directory.
    public static func attach(
        _ dir: borrowing BusDirectory,
        ring: String,
        expecting schema: SchemaID?
    ) throws(SegmentError) -> _SegmentMapping {
        let path = dir.path(of: ring)
        let fd = try dir.openFile(ring, flags: O_RDWR)
        defer { close(fd) }
        let header = try readHeader(fd: fd, path: path, expecting: schema)
        guard let raw = mmap(nil, header.fileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), raw != MAP_FAILED else {
            throw .system(call: "mmap", path: path, errno: errno)
        }
        return _SegmentMapping(base: raw, size: header.fileSize, path: path, header: header)
    }

    /// Validates and maps a segment named by path. A path under `/dev/shm/tickbus` is opened
    /// through its bus directory (`BusDirectory`), never followed through a link.
    public static func attachMapping(path: String, expecting schema: SchemaID?) throws(SegmentError) -> _SegmentMapping
    {
        let (bus, ring) = try BusPaths.split(path)
        return try attach(bus: bus, ring: ring, expecting: schema)
    }

    /// Reads and validates the header of a segment file without mapping it (a path under
    /// `/dev/shm/tickbus`, opened through its bus directory).
    public static func readHeader(path: String, expecting schema: SchemaID?) throws(SegmentError) -> SegmentHeader {
        let (bus, ring) = try BusPaths.split(path)
        let dir = try openBus(bus, ring: ring)
        let fd = try dir.openFile(ring, flags: O_RDONLY)
        defer { close(fd) }
        return try readHeader(fd: fd, path: path, expecting: schema)
    }

    /// Opens an existing bus for a reader of `ring`: a missing bus reads as a missing ring.
    static func openBus(_ bus: String, ring: String) throws(SegmentError) -> BusDirectory {
        do throws(SegmentError) { return try BusDirectory(bus: bus) } catch {
            if case .notFound = error { throw .notFound(path: BusPaths.ring(bus: bus, ring: ring)) }
            throw error
        }
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
            n = try retryingEINTR("pread", path) {
                bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            }
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
    static func validate(
        _ p: UnsafeRawBufferPointer,
        path: String,
        actualSize: UInt64,
        expecting expected: SchemaID?
    ) throws(SegmentError) -> SegmentHeader {
        // Safe: the buffer holds the header's first bytes (the caller read at least its size).
        let base = p.baseAddress!
        func u32(_ o: Int) -> UInt32 { base.loadLittleEndian(fromByteOffset: o, as: UInt32.self) }
        func u64(_ o: Int) -> UInt64 { base.loadLittleEndian(fromByteOffset: o, as: UInt64.self) }
        let magic = u64(SegmentLayout.magicOffset)
        guard magic == SegmentLayout.magic else { throw .badMagic(path: path, found: magic) }
        let version = u32(SegmentLayout.versionOffset)
        guard version == SegmentLayout.version else {
            throw .unsupportedVersion(path: path, found: version, supported: SegmentLayout.version)
        }
        let slotSize = u32(SegmentLayout.slotSizeOffset)
        guard slotSize >= 64, slotSize % 64 == 0 else { throw .slotSizeNotMultipleOf64(path: path, found: slotSize) }
        let capacity = u64(SegmentLayout.capacityOffset)
        guard capacity >= 2, capacity & (capacity - 1) == 0, capacity <= 1 << 32 else {
            throw .capacityNotPowerOfTwo(path: path, found: capacity)
        }
        let rawSchema = u32(SegmentLayout.schemaOffset)
        guard let schema = SchemaID(rawValue: rawSchema) else { throw .unknownSchema(path: path, found: rawSchema) }
        if let expected, expected != schema {
            throw .schemaMismatch(path: path, found: rawSchema, expected: expected.rawValue)
        }
        let entries = u32(SegmentLayout.readerEntriesOffset)
        guard entries == UInt32(SegmentLayout.readerEntries) else {
            throw .badReaderTable(path: path, found: entries, expected: UInt32(SegmentLayout.readerEntries))
        }
        let slotsOffset = u64(SegmentLayout.slotsOffsetOffset)
        guard slotsOffset == UInt64(SegmentLayout.slotsOffset) else {
            throw .badSlotsOffset(path: path, found: slotsOffset, expected: UInt64(SegmentLayout.slotsOffset))
        }
        let fileSize = u64(SegmentLayout.fileSizeOffset)
        let computed = slotsOffset + capacity * UInt64(slotSize)
        guard fileSize == computed else {
            throw .fileSizeInconsistent(path: path, header: fileSize, computed: computed)
        }
        guard actualSize == fileSize else { throw .fileSizeMismatch(path: path, header: fileSize, actual: actualSize) }
        let nameBytes = UnsafeRawBufferPointer(
            rebasing: p[SegmentLayout.nameOffset..<(SegmentLayout.nameOffset + SegmentLayout.nameLength)]
        )
        let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
        return SegmentHeader(
            version: version,
            slotSize: Int(slotSize),
            capacity: Int(capacity),
            slotsOffset: Int(slotsOffset),
            fileSize: Int(fileSize),
            schema: schema,
            producerPid: Int32(bitPattern: u32(SegmentLayout.producerPidOffset)),
            generation: u64(SegmentLayout.generationOffset),
            name: name,
            createdRealtimeNs: u64(SegmentLayout.createdOffset)
        )
    }

    static func write(_ h: SegmentHeader, to raw: UnsafeMutableRawPointer) {
        raw.storeBytes(of: SegmentLayout.magic.littleEndian, toByteOffset: SegmentLayout.magicOffset, as: UInt64.self)
        raw.storeBytes(of: h.version.littleEndian, toByteOffset: SegmentLayout.versionOffset, as: UInt32.self)
        raw.storeBytes(of: UInt32(h.slotSize).littleEndian, toByteOffset: SegmentLayout.slotSizeOffset, as: UInt32.self)
        raw.storeBytes(of: UInt64(h.capacity).littleEndian, toByteOffset: SegmentLayout.capacityOffset, as: UInt64.self)
        raw.storeBytes(
            of: UInt64(h.slotsOffset).littleEndian,
            toByteOffset: SegmentLayout.slotsOffsetOffset,
            as: UInt64.self
        )
        raw.storeBytes(of: UInt64(h.fileSize).littleEndian, toByteOffset: SegmentLayout.fileSizeOffset, as: UInt64.self)
        raw.storeBytes(of: h.schema.rawValue.littleEndian, toByteOffset: SegmentLayout.schemaOffset, as: UInt32.self)
        raw.storeBytes(
            of: UInt32(SegmentLayout.readerEntries).littleEndian,
            toByteOffset: SegmentLayout.readerEntriesOffset,
            as: UInt32.self
        )
        raw.storeBytes(of: h.producerPid.littleEndian, toByteOffset: SegmentLayout.producerPidOffset, as: Int32.self)
        raw.storeBytes(of: h.generation.littleEndian, toByteOffset: SegmentLayout.generationOffset, as: UInt64.self)
        raw.storeBytes(of: h.createdRealtimeNs.littleEndian, toByteOffset: SegmentLayout.createdOffset, as: UInt64.self)
        var i = 0
        for byte in h.name.utf8.prefix(SegmentLayout.nameLength - 1) {
            raw.storeBytes(of: byte, toByteOffset: SegmentLayout.nameOffset + i, as: UInt8.self)
            i += 1
        }
    }

    /// Names of the rings on a bus (files that are not temporaries), sorted.
    public static func list(bus: String) throws(SegmentError) -> [String] {
        let dir = try BusDirectory(bus: bus)
        return try dir.entries().filter { name in
            // Temporaries, stats blocks and sockets (the control server's `control.sock`) are not rings.
            var st = stat()
            let socket = fstatat(dir.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mode & S_IFMT == S_IFSOCK
            return !name.contains(".tmp.") && !name.hasPrefix(StatsLayout.filePrefix) && !socket
        }.sorted()
    }

    /// Removes a bus: its segments and stats blocks (files the caller trusts that carry a TickBus
    /// magic), then the directory. Mappings held by running processes stay valid until they unmap
    /// (POSIX unlink semantics). A missing bus is not an error.
    /// - Throws: `.notRemoved` naming what was kept when other entries are present (the directory
    ///   stays); `.symbolicLink` or `.notTrusted` when the bus directory is not the caller's.
    @discardableResult
    public static func removeBus(_ bus: String) throws(SegmentError) -> BusDirectory.Removal {
        let dir: BusDirectory
        do throws(SegmentError) { dir = try BusDirectory(bus: bus) } catch {
            if case .notFound = error { return BusDirectory.Removal() }
            throw error
        }
        let path = dir.path
        let removal = try dir.removeAll()
        if !removal.kept.isEmpty { throw .notRemoved(path: path, kept: removal.kept) }
        return removal
    }
}
