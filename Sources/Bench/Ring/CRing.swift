import CTickBus
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// The C baseline ring of `bench ring` (`tb_c_*` in CTickBus.h): a shared file laid out as
/// `tb_c_ring_header`, a ready word (the reader child says it has mapped the file), and slots.
///
/// Invariant: `base` maps `size` bytes of the file shared read-write for the life of the object;
/// the header is at 0, the ready word at `readyOffset`, slot 0 at `slotsOffset` (page-aligned),
/// `RingBench.ringCapacity` slots of 64 bytes.
public final class _CRing {
    public let base: UnsafeMutableRawPointer
    let size: Int
    public let path: String
    static let slotsOffset = 4096
    static let readyOffset = 384

    /// Maps the ring at `path`, creating (and initialising) it when `create`.
    public init(path: String, create: Bool) throws(BenchError) {
        self.path = path
        size = Self.slotsOffset + RingBench.ringCapacity * 64
        // Never through a link: the file sits in a bus directory (see `BusDirectory`).
        let fd = open(path, (create ? (O_RDWR | O_CREAT | O_TRUNC) : O_RDWR) | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd < 0 { throw .system(call: "open", path: path, errno: errno) }
        defer { close(fd) }
        if create, ftruncate(fd, off_t(size)) != 0 { throw .system(call: "ftruncate", path: path, errno: errno) }
        guard let raw = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), raw != MAP_FAILED else {
            throw .system(call: "mmap", path: path, errno: errno)
        }
        base = raw
        if create {
            header.pointee.capacity = UInt64(RingBench.ringCapacity)
            // Touch every slot now, so page faults fall outside every timed phase.
            for i in 0..<RingBench.ringCapacity { slots[i].seq = .max }
        }
    }

    deinit { munmap(base, size) }

    /// Safe: the header is at offset 0 of the mapping, which is larger than the header.
    public var header: UnsafeMutablePointer<tb_c_ring_header> { base.assumingMemoryBound(to: tb_c_ring_header.self) }
    /// Safe: `ringCapacity` slots of 64 bytes follow `slotsOffset` inside the mapping.
    public var slots: UnsafeMutablePointer<tb_c_slot> {
        (base + Self.slotsOffset).assumingMemoryBound(to: tb_c_slot.self)
    }
    /// Safe: `readyOffset` lies in the header page, past the header's three line pairs.
    public var ready: UnsafeMutableRawPointer { base + Self.readyOffset }
}
