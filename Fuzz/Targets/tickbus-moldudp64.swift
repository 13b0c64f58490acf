// fuzz-modules: TickBusCore Book Feed
// fuzz-support: MoldPackets
// MoldUDP64 packets of `tickbus republish --format tickbus` through the packet decoder
// (`MoldUDP64.validatePacket`) and `TickBusMoldUDP64Source` (session, reorder window, duplicates,
// unavailable blocks, gap records), as `--source tickbus+moldudp64:` receives them: the packets
// really cross a loopback UDP socket.
//
// Input: packets, each a 2-byte big-endian length and that many bytes (a datagram).
import CTickBus
import TickBusCore

@testable import Feed

#if canImport(Glibc)
import Glibc
#endif

/// The sending socket, made once.
let sender: Int32 = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)

/// Checks the decoder's answer on one datagram against an independent walk: a packet it accepts
/// holds exactly `count` blocks that end at the datagram's end, and its sequences do not overflow.
func checkDecoder(_ p: UnsafeRawPointer, _ n: Int) {
    guard case .success(let h) = MoldUDP64.validatePacket(p, length: n) else { return }
    if h.count == 0 || h.count == MoldUDP64.endOfSession {
        precondition(n == MoldUDP64.headerSize, "a heartbeat or end of session with data was accepted")
        return
    }
    precondition(h.sequence != 0 && h.end != nil, "an overflowing or zero sequence was accepted")
    var at = MoldUDP64.headerSize
    for _ in 0..<Int(h.count) {
        precondition(at + 2 <= n, "a block header past the end was accepted")
        at +=
            2
            + (Int(p.load(fromByteOffset: at, as: UInt8.self)) << 8
                | Int(p.load(fromByteOffset: at + 1, as: UInt8.self)))
    }
    precondition(at == n, "blocks do not fill the accepted datagram")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTickBusMoldUDP64(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // A new receiver per input (1 MiB window): its state starts clean; the idle timeout is tiny and
    // the socket non-blocking, so it ends once the queued datagrams are read.
    var receiver: TickBusMoldUDP64Source
    do {
        var endpoint = TickBusMoldUDP64Endpoint(group: "127.0.0.1:0", request: "127.0.0.1:9", idleSeconds: 1e-6)
        endpoint.window = 1024  // small: its tags are cleared per input
        receiver = try TickBusMoldUDP64Source(
            endpoint,
            options: MoldUDP64Options(sessionTimeoutNs: 0)
        )
    } catch {
        fatalError("fuzz: cannot open the receiver: \(error)")
    }
    _ = fcntl(receiver.fd, F_SETFL, fcntl(receiver.fd, F_GETFL) | O_NONBLOCK)
    MoldPackets.send(data, size, from: sender, to: receiver.fd, each: checkDecoder)
    // Every yield is a delivered message (a sender's gap message included) or a gap record of the
    // receiver's own: the counts add up exactly, and nothing flagged unavailable reaches the ring.
    var yielded: UInt64 = 0
    while let m = receiver.next(), yielded < 1 << 20 {
        precondition(m.flags & MoldUDP64.unavailableFlag == 0, "an unavailable block reached the ring")
        yielded += 1
    }
    let c = receiver.counts
    precondition(c.messages &+ c.gapRecords == yielded, "the counts disagree with what was yielded")
    return 0
}
