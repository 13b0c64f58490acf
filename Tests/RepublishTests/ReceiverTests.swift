import Feed
import Testing
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// A loopback UDP socket of the test: sends datagrams to the receiver, and plays its request
/// server (reads the requests the receiver sends).
final class TestSocket {
    let fd: Int32
    let port: UInt16

    init() {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        _ = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = UInt16(bigEndian: a.sin_port)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(fd) }

    func send(_ d: Datagram, to port: UInt16) {
        var to = sockaddr_in()
        to.sin_family = sa_family_t(AF_INET)
        to.sin_port = port.bigEndian
        to.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let n = d.bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &to) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        #expect(n == d.bytes.count)
    }

    /// The requests received so far, decoded.
    func requests() -> [MoldUDP64.Request] {
        var out: [MoldUDP64.Request] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 2048, 0) }
            if n < 0 { return out }
            if case .success(let r) = buffer.withUnsafeBytes({ MoldUDP64.decodeRequest($0.baseAddress!, length: n) }) {
                out.append(r)
            }
        }
    }
}

/// What a receiver yielded: adds by ring sequence (order id − 100), gap records by range.
enum Got: Equatable, CustomStringConvertible {
    case message(UInt64)
    case gap(from: UInt64, count: UInt64)
    case eos
    var description: String {
        switch self {
        case .message(let s): return "m\(s)"
        case .gap(let f, let c): return "gap(\(f),\(c))"
        case .eos: return "eos"
        }
    }
}

func drain(_ source: inout TickBusMoldUDP64Source) -> [Got] {
    var out: [Got] = []
    while let m = source.next() {
        switch m.kind {
        case .gap: out.append(.gap(from: m.payload.0, count: m.payload.1))
        case .endOfSession: out.append(.eos)
        default: out.append(.message(m.payload.0 &- 100))
        }
    }
    return out
}

@Suite(.serialized) struct ReceiverTests {
    func receiver(server: TestSocket, idle: Double = 0.3) throws -> TickBusMoldUDP64Source {
        try TickBusMoldUDP64Source(
            TickBusMoldUDP64Endpoint(group: "127.0.0.1:0", request: "127.0.0.1:\(server.port)", idleSeconds: idle)
        )
    }

    func data(_ first: UInt64, _ count: Int, session: String = "TB00000001") -> Datagram {
        var d = Datagram(session: session, sequence: first, count: UInt16(count))
        for i in 0..<UInt64(count) { d.block(Datagram.tickbus(ring: first - 1 + i, time: Int64(first + i))) }
        return d
    }

    @Test func reorderedDuplicatedAndUnavailableBlocksGiveTheSendersSequence() throws {
        let server = TestSocket()
        var source = try receiver(server: server)
        let port = source.localPort
        server.send(data(1, 2), to: port)
        server.send(data(5, 2), to: port)  // 3 and 4 missing: asked for at once
        server.send(data(3, 1), to: port)  // reordered
        server.send(data(1, 2), to: port)  // duplicate
        server.send(data(5, 1), to: port)  // duplicate
        // The request server's answer for 4: gone from its window and journal.
        var gone = Datagram(sequence: 4, count: 1)
        gone.block(Datagram.tickbus(ring: 3, time: 0, flags: MoldUDP64.unavailableFlag, kind: .gap).withPayload(40, 1))
        server.send(gone, to: port)
        server.send(Datagram(sequence: 7, count: 0xFFFF), to: port)
        let got = drain(&source)
        #expect(got == [.message(0), .message(1), .message(2), .gap(from: 3, count: 1), .message(4), .message(5)])
        let c = source.counts
        #expect(c.messages == 5 && c.gapRecords == 1 && c.unrecovered == 1)
        #expect(c.duplicates == 3 && c.reordered >= 2 && c.endOfSessionPackets == 1)
        let asked = server.requests()
        #expect(asked.first?.sequence == 3 && asked.first?.count == 2, "\(asked)")
        #expect(c.requests == UInt64(asked.count))
    }

    @Test func badInputIsCountedAndNothingWrongIsPublished() throws {
        let server = TestSocket()
        var source = try receiver(server: server)
        let port = source.localPort
        server.send(data(1, 1), to: port)
        server.send(data(2, 3, session: "OTHER"), to: port)  // another session: dropped while this one lives
        var truncated = data(2, 2)
        truncated.bytes.removeLast(10)
        server.send(truncated, to: port)
        var overrun = data(2, 1)
        overrun.bytes[19] = 9  // count 9, one block
        server.send(overrun, to: port)
        var wrongSequence = Datagram(sequence: 2, count: 1)
        wrongSequence.block(Datagram.tickbus(ring: 7, time: 2))  // says ring 7 at sequence 2
        server.send(wrongSequence, to: port)
        var badKind = Datagram(sequence: 2, count: 1)
        var block = Datagram.tickbus(ring: 1, time: 2)
        block[8] = 0x77
        badKind.block(block)
        server.send(badKind, to: port)
        var short = Datagram(sequence: 2, count: 1)
        short.block([1, 2, 3])
        server.send(short, to: port)
        server.send(Datagram(sequence: UInt64.max - 1, count: 5), to: port)  // passes 2^64 - 1 (and no blocks)
        var extra = data(2, 1)
        extra.block([9])  // a block beyond the count
        server.send(extra, to: port)
        var near = Datagram(sequence: UInt64.max, count: 1)
        near.block(Datagram.tickbus(ring: UInt64.max - 1, time: 3))
        server.send(near, to: port)  // sequence + count passes 2^64 - 1
        server.send(data(2, 1), to: port)
        server.send(Datagram(sequence: 3, count: 0xFFFF), to: port)
        let got = drain(&source)
        #expect(got == [.message(0), .message(1)])
        let r = source.report
        #expect(source.counts.otherSession == 1)
        #expect(r.malformed["truncated block"] == 1, "\(r.malformed)")
        #expect(r.malformed["count overruns the packet"] == 1, "\(r.malformed)")
        #expect(r.malformed[MoldUDP64.Malformed.extraMessages] == 1, "\(r.malformed)")
        #expect(r.malformed["block disagrees with its sequence or kind"] == 2, "\(r.malformed)")
        #expect(r.malformed["block not 64 bytes"] == 1, "\(r.malformed)")
        #expect(r.malformed[MoldUDP64.Malformed.sequenceOverflow] == 2, "\(r.malformed)")
        #expect(r.malformedTotal == 8)
    }

    @Test func aSessionThatGoesSilentLeavesOneGapRecordForWhatItNeverDelivered() throws {
        let server = TestSocket()
        var source = try TickBusMoldUDP64Source(
            TickBusMoldUDP64Endpoint(group: "127.0.0.1:0", request: "127.0.0.1:\(server.port)", idleSeconds: 0.5),
            options: MoldUDP64Options(sessionTimeoutNs: 100_000_000)
        )
        let port = source.localPort
        // A heartbeat that announces 1...5, then only 1 and 2 (read before the pause below).
        server.send(Datagram(session: "OLD", sequence: 6, count: 0), to: port)
        server.send(data(1, 2, session: "OLD"), to: port)
        var got: [Got] = []
        for _ in 0..<2 { if let m = source.next() { got.append(.message(m.payload.0 - 100)) } }
        usleep(200_000)  // OLD is now silent for longer than the session timeout
        server.send(data(1, 1, session: "NEW"), to: port)
        server.send(Datagram(session: "NEW", sequence: 2, count: 0xFFFF), to: port)
        got += drain(&source)
        #expect(got == [.message(0), .message(1), .gap(from: 2, count: 3), .message(0)])
        #expect(source.counts.sessionChanges == 1 && source.counts.unrecovered == 3)
    }
}

extension Array where Element == UInt8 {
    /// The bytes with the little-endian word at `offset` set to `value`.
    func withPayload(_ offset: Int, _ value: UInt64) -> [UInt8] {
        var b = self
        for i in 0..<8 { b[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        return b
    }
}
