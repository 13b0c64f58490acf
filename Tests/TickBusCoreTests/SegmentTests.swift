import CTickBus
import Foundation
import Testing

@testable import TickBusCore

/// Creates a valid segment, then lets `corrupt` change its file before a reader attaches.
func corrupted(
    _ tag: String,
    slotSize: Int = 64,
    capacity: Int = 16,
    _ corrupt: (Int32) -> Void
) throws -> (bus: String, error: SegmentError?) {
    let bus = testBus(tag)
    do {
        let producer = try RingProducer(bus: bus, ring: "r", schema: .market, slotSize: slotSize, capacity: capacity)
        producer.close()
    }
    let fd = open(BusPaths.ring(bus: bus, ring: "r"), O_RDWR)
    #expect(fd >= 0)
    corrupt(fd)
    close(fd)
    do {
        _ = try RingReader(bus: bus, ring: "r", name: "x", expecting: .market)
        return (bus, nil)
    } catch {
        return (bus, error)
    }
}

func pwrite32(_ fd: Int32, _ v: UInt32, at o: Int) {
    var x = v.littleEndian
    _ = pwrite(fd, &x, 4, off_t(o))
}
func pwrite64(_ fd: Int32, _ v: UInt64, at o: Int) {
    var x = v.littleEndian
    _ = pwrite(fd, &x, 8, off_t(o))
}

@Suite("Segment")
struct SegmentTests {
    @Test("a valid segment attaches and its header round-trips")
    func valid() throws {
        let bus = testBus("ok")
        defer { removeBus(bus) }
        let producer = try RingProducer(bus: bus, ring: "market", schema: .market, slotSize: 64, capacity: 1024)
        let h = try Segment.readHeader(path: BusPaths.ring(bus: bus, ring: "market"), expecting: .market)
        #expect(h == producer.header)
        #expect(h.slotSize == 64 && h.capacity == 1024 && h.schema == .market && h.name == "market")
        #expect(h.producerPid == getpid())
        #expect(h.fileSize == SegmentLayout.slotsOffset + 64 * 1024)
        #expect(try Segment.list(bus: bus) == ["market"])
    }

    @Test("wrong magic is refused, naming the field")
    func badMagic() throws {
        let (bus, error) = try corrupted("magic") { pwrite64($0, 0x1234, at: SegmentLayout.magicOffset) }
        defer { removeBus(bus) }
        guard case .badMagic(_, let found)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(found == 0x1234)
        #expect("\(error!)".contains("'magic'"))
    }

    @Test("unknown layout version is refused")
    func badVersion() throws {
        let (bus, error) = try corrupted("version") { pwrite32($0, 99, at: SegmentLayout.versionOffset) }
        defer { removeBus(bus) }
        guard case .unsupportedVersion(_, 99, SegmentLayout.version)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect("\(error!)".contains("'version' is 99"))
    }

    @Test("slot size not a multiple of 64 is refused")
    func badSlotSize() throws {
        let (bus, error) = try corrupted("slot") { pwrite32($0, 96, at: SegmentLayout.slotSizeOffset) }
        defer { removeBus(bus) }
        guard case .slotSizeNotMultipleOf64(_, 96)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect("\(error!)".contains("'slot_size' is 96"))
    }

    @Test("capacity not a power of two is refused")
    func badCapacity() throws {
        let (bus, error) = try corrupted("cap") { pwrite64($0, 12, at: SegmentLayout.capacityOffset) }
        defer { removeBus(bus) }
        guard case .capacityNotPowerOfTwo(_, 12)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect("\(error!)".contains("'capacity' is 12"))
    }

    @Test("a file shorter than its header says is refused before mapping")
    func truncated() throws {
        let (bus, error) = try corrupted("short") { fd in
            _ = ftruncate(fd, off_t(SegmentLayout.slotsOffset + 64 * 10))
        }
        defer { removeBus(bus) }
        guard case .fileSizeMismatch(_, let header, let actual)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(header == UInt64(SegmentLayout.slotsOffset + 64 * 16))
        #expect(actual == UInt64(SegmentLayout.slotsOffset + 64 * 10))
        // Shorter than the header itself.
        let (bus2, error2) = try corrupted("tiny") { _ = ftruncate($0, 100) }
        defer { removeBus(bus2) }
        guard case .fileTooSmall(_, 100, _)? = error2 else {
            Issue.record("got \(String(describing: error2))")
            return
        }
    }

    @Test("a schema the reader does not know is refused; so is one it did not ask for")
    func badSchema() throws {
        let (bus, error) = try corrupted("schema") { pwrite32($0, 77, at: SegmentLayout.schemaOffset) }
        defer { removeBus(bus) }
        guard case .unknownSchema(_, 77)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect("\(error!)".contains("'schema' is 77"))
        let (bus2, error2) = try corrupted("schema2") {
            pwrite32($0, SchemaID.decisions.rawValue, at: SegmentLayout.schemaOffset)
        }
        defer { removeBus(bus2) }
        guard case .schemaMismatch(_, 2, 1)? = error2 else {
            Issue.record("got \(String(describing: error2))")
            return
        }
    }

    @Test("segment files are 0600 by default and 0660 with a group")
    func permissions() throws {
        let bus = testBus("perm")
        defer { removeBus(bus) }
        let old = umask(0o077)  // a strict umask must not change the mode we ask for
        defer { umask(old) }
        _ = try RingProducer(bus: bus, ring: "owner", schema: .market, capacity: 16)
        _ = try RingProducer(bus: bus, ring: "grouped", schema: .market, capacity: 16, access: .group(getgid()))
        var st = stat()
        #expect(stat(BusPaths.ring(bus: bus, ring: "owner"), &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect(stat(BusPaths.ring(bus: bus, ring: "grouped"), &st) == 0)
        #expect(st.st_mode & 0o777 == 0o660)
        #expect(st.st_gid == getgid())
    }

    @Test("a second producer is refused while the first runs; a restart gets a new generation")
    func generations() throws {
        let bus = testBus("gen")
        defer { removeBus(bus) }
        let first = try RingProducer(bus: bus, ring: "r", schema: .market, capacity: 16)
        #expect(first.header.generation == 1)
        // Same pid, so the liveness check does not refuse; close then restart.
        first.close()
        let second = try RingProducer(bus: bus, ring: "r", schema: .market, capacity: 16)
        #expect(second.header.generation == 2)
        #expect(throws: SegmentError.self) { _ = try RingProducer(bus: "bad/name", ring: "r", schema: .market) }
    }

    @Test("rm removes a bus")
    func remove() throws {
        let bus = testBus("rm")
        _ = try RingProducer(bus: bus, ring: "a", schema: .market, capacity: 16)
        _ = try RingProducer(bus: bus, ring: "b", schema: .market, capacity: 16)
        try Segment.removeBus(bus)
        #expect(access(BusPaths.busDirectory(bus), F_OK) != 0)
    }
}
