// fuzz-modules: TickBusCore
// A ring segment file through the header validation every reader runs before it maps anything
// (`Segment.readHeader`, `attachMapping`), then, when accepted, a reader claims an entry and polls
// the slots, as `tickbus tap`, `rings`, `record` and `stat` attach to a ring someone else wrote.
//
// Input: the file's first bytes. When the header validates except for the file size, and the
// size it declares is small, the file is extended to it (zeros), so the mapping and polling run.
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// Readers open a segment only through its bus directory (`/dev/shm/tickbus/BUS/NAME`, checked
/// for owner and links), so the file is written into a bus of this process, made once and
/// removed at exit.
let bus: String = {
    let name = "fuzz-segment-\(getpid())"
    do { _ = try BusDirectory(bus: name, creating: .owner) } catch {
        fatalError("fuzz: cannot make bus \(name): \(error)")
    }
    atexit {
        unlink(BusPaths.root + "/" + bus + "/ring")
        rmdir(BusPaths.root + "/" + bus)
    }
    return name
}()

/// Writes the segment file into the bus (a plain file, mode 0600, as a producer makes it).
func writeRing(_ bytes: [UInt8]) -> String {
    let path = BusPaths.root + "/" + bus + "/ring"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600)
    precondition(fd >= 0, "fuzz: cannot create \(path): errno \(errno)")
    bytes.withUnsafeBytes { b in
        var off = 0
        while off < b.count {
            let n = write(fd, b.baseAddress! + off, b.count - off)
            precondition(n > 0, "fuzz: cannot write \(path): errno \(errno)")
            off += n
        }
    }
    close(fd)
    return path
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSegment(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzInput.reset()
    var bytes = FuzzInput.bytes(data, size)
    if bytes.count >= 40 {
        let declared = bytes.withUnsafeBytes {
            UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: SegmentLayout.fileSizeOffset, as: UInt64.self))
        }
        if declared > UInt64(bytes.count) && declared <= 1 << 20 {
            bytes += [UInt8](repeating: 0, count: Int(declared) - bytes.count)
        }
    }
    if FuzzInput.materialize != nil {
        FuzzInput.write("ring", bytes)
        return 0
    }
    let path = writeRing(bytes)
    var sink = 0
    do {
        let h = try Segment.readHeader(path: path, expecting: nil)
        sink &+= h.name.utf8.count &+ h.capacity
        let mapping = try Segment.attachMapping(path: path, expecting: nil)
        sink &+= Int(truncatingIfNeeded: mapping.cursor) &+ Int(mapping.producerState.rawValue)
        var reader = try RingReader(mapping: mapping, name: "fuzz", mode: .live, from: .start, idle: .backoff)
        for _ in 0..<256 {
            switch reader.poll() {
            case .message(let s): sink &+= Int(truncatingIfNeeded: s.sequence) &+ Int(s.market.rawKind)
            case .gap(let from, let count): sink &+= Int(truncatingIfNeeded: from &+ count)
            case .empty: break
            }
        }
        _ = reader.producerStatus()
        sink &+= Int(truncatingIfNeeded: reader.lost)  // a planted cursor can make any loss
    } catch {
        sink &+= error.description.utf8.count
    }
    return sink == Int.min ? 1 : 0
}
