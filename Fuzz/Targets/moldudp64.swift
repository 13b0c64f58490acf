// fuzz-modules: TickBusCore Book Feed
// fuzz-support: MoldPackets
// MoldUDP64 packets through `MoldUDP64Source` (header, sequence and session checks, gap and
// retransmission logic, message blocks into the ITCH decoder and books), as
// `--source itch+moldudp64:` receives them: the packets really cross a loopback UDP socket.
//
// Input: packets, each a 2-byte big-endian length and that many bytes (a datagram).
import Book
import CTickBus
import TickBusCore

@testable import Feed

#if canImport(Glibc)
import Glibc
#endif

/// The sending socket, made once.
let sender: Int32 = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)

/// One receiver for the whole run, reset before each input. A new `MoldUDP64Source` per input
/// would build a full-size `OrderBooks` (65,536 instruments, 2^20 orders: ~30 ms under ASan);
/// instead its decoder gets small books and every field of its receive state is set back to what
/// `init` sets (keep `reset` in step with `MoldUDP64Source`'s stored properties).
nonisolated(unsafe) var receiver: MoldUDP64Source = {
    // Port 0: the kernel picks a free port; the request port (9, discard) has no listener.
    let s: MoldUDP64Source
    do { s = try MoldUDP64Source(group: "127.0.0.1:0", requestPort: 9, idleTimeout: 0) } catch {
        fatalError("fuzz: cannot open the receiver: \(error)")
    }
    // Non-blocking: once the queued datagrams are read, the idle timeout (0 s) ends the source
    // instead of a 20 ms receive timeout per input.
    _ = fcntl(s.fd, F_SETFL, fcntl(s.fd, F_GETFL) | O_NONBLOCK)
    return s
}()

extension MoldUDP64Source {
    /// Every stored `var` back to what `init` sets (the `let`s — socket, buffers, server,
    /// idle timeout, options — are the same for the whole run).
    mutating func reset() {
        while recv(fd, packet, 65_536, 0) >= 0 {}  // nothing should be left; never carry a datagram over
        itch = ITCHSource(
            unowned: UnsafeRawPointer(packet),
            count: 0,
            books: OrderBooks(maxInstruments: 256, orderCapacity: 4),
            reusing: itch.tables
        )
        expected = 1
        packetLength = 0
        packetOffset = 0
        packetSequence = 0
        packetRemaining = 0
        session = options.pinnedSession.map { MoldUDP64.sessionBytes($0) }
        endSequence = .max
        lastArrival = tb_monotonic_ns()
        lastRequest = 0
        requestedUpTo = 0
        finished = false
        announced = 0
        lastExchangeTime = 0
        pendingGap = nil
        gaps = 0
        requests = 0
        packets = 0
        otherSessionPackets = 0
        sessionChanges = 0
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMoldUDP64(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    receiver.reset()
    MoldPackets.send(data, size, from: sender, to: receiver.fd)
    var sink = 0
    var messages = 0
    while let m = receiver.next(), messages < 1 << 20 {
        sink &+= Int(m.instrument)
        messages += 1
    }
    sink &+=
        Int(
            receiver.gaps &+ receiver.requests &+ receiver.packets &+ receiver.otherSessionPackets
                &+ receiver.sessionChanges
        ) &+ Int(receiver.report.malformedTotal)
    return sink == Int.min ? 1 : 0
}
