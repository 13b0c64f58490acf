// fuzz-modules: TickBusCore Book Feed
// MoldUDP64 packets through `MoldUDP64Source` (header, sequence and session checks, gap and
// retransmission logic, message blocks into the ITCH decoder and books), as
// `--source itch+moldudp64:` receives them: the packets really cross a loopback UDP socket.
//
// Input: packets, each a 2-byte big-endian length and that many bytes (a datagram).
import Book
@testable import Feed
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

/// The sending socket, made once.
nonisolated(unsafe) let sender: Int32 = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMoldUDP64(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // Port 0: the kernel picks a free port; the request port is one nobody listens on.
    var source: MoldUDP64Source
    do { source = try MoldUDP64Source(group: "127.0.0.1:0", requestPort: 9, idleTimeout: 0) } catch {
        fatalError("fuzz: cannot open the receiver: \(error)")
    }
    defer { source.close() }
    // Non-blocking: once the queued datagrams are read, the idle timeout (0 s) ends the source
    // instead of a 20 ms receive timeout per input.
    let flags = fcntl(source.fd, F_GETFL)
    _ = fcntl(source.fd, F_SETFL, flags | O_NONBLOCK)
    var to = sockaddr_in()
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(source.fd, $0, &len) } }
    var at = 0
    var packets = 0
    while at + 2 <= size, packets < 64 {
        let n = Int(data[at]) << 8 | Int(data[at + 1])
        let start = at + 2
        let count = min(n, size - start)
        at = start + count
        packets += 1
        _ = withUnsafePointer(to: &to) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(sender, data + start, count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
    var sink = 0
    var messages = 0
    while let m = source.next(), messages < 1 << 20 {
        sink &+= Int(m.instrument)
        messages += 1
    }
    sink &+= Int(source.gaps &+ source.requests &+ source.packets) &+ Int(source.report.malformedTotal)
    return sink == Int.min ? 1 : 0
}
