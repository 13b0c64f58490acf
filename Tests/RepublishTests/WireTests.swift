import Feed
import Testing
import TickBusCore

/// Builds MoldUDP64 datagrams byte by byte, as the specification lays them out (not through the
/// encoder under test): 10 session bytes, u64 BE sequence, u16 BE count, then u16 BE length + block.
struct Datagram {
    var bytes: [UInt8] = []

    init(session: String = "TB00000001", sequence: UInt64, count: UInt16) {
        var s = Array(session.utf8.prefix(10))
        while s.count < 10 { s.append(0x20) }
        bytes = s
        for i in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: sequence >> UInt64(i))) }
        bytes.append(UInt8(count >> 8))
        bytes.append(UInt8(count & 0xFF))
    }

    /// Appends one block: its length, then the bytes.
    mutating func block(_ b: [UInt8]) {
        bytes.append(UInt8(b.count >> 8))
        bytes.append(UInt8(b.count & 0xFF))
        bytes += b
    }

    /// A 64-byte tickbus block for ring sequence `ring`: an add on instrument 1 at time `time`.
    static func tickbus(ring: UInt64, time: Int64, flags: UInt16 = 0, kind: MessageKind = .add) -> [UInt8] {
        var m = MarketMessage.orderEvent(
            kind,
            instrument: 1,
            exchangeTime: time,
            orderId: ring &+ 100,
            price: 1_000_000,
            quantity: 10,
            side: .buy
        )
        m.flags = flags
        var b = [UInt8](repeating: 0, count: 64)
        b.withUnsafeMutableBytes {
            m.store(to: $0.baseAddress!)
            $0.storeBytes(of: ring.littleEndian, as: UInt64.self)
        }
        return b
    }

    func validate() -> Result<MoldUDP64.Header, MoldUDP64.PacketError> {
        bytes.withUnsafeBytes { MoldUDP64.validatePacket($0.baseAddress!, length: $0.count) }
    }
    func request() -> Result<MoldUDP64.Request, MoldUDP64.RequestError> {
        bytes.withUnsafeBytes { MoldUDP64.decodeRequest($0.baseAddress!, length: $0.count) }
    }
}

@Suite struct WireTests {
    @Test func wellFormedPacketsValidate() throws {
        var d = Datagram(sequence: 5, count: 2)
        d.block(Datagram.tickbus(ring: 4, time: 1))
        d.block([1, 2, 3])
        let h = try d.validate().get()
        #expect(h.sequence == 5 && h.count == 2 && h.end == 7)
        #expect(try Datagram(sequence: 9, count: 0).validate().get().count == 0)
        #expect(try Datagram(sequence: 9, count: 0xFFFF).validate().get().count == 0xFFFF)
    }

    @Test func badPacketsAreRefusedWithTheReason() {
        #expect(
            Datagram(sequence: 1, count: 0).bytes.prefix(19).withUnsafeBytes {
                MoldUDP64.validatePacket($0.baseAddress!, length: 19)
            } == .failure(.short(length: 19))
        )
        // Truncated block: the length says 64, 10 bytes follow.
        var t = Datagram(sequence: 1, count: 1)
        t.block(Array(repeating: 0, count: 64))
        t.bytes.removeLast(54)
        #expect(t.validate() == .failure(.truncatedBlock(index: 0, offset: 20)))
        // Count overrunning the packet: 3 announced, 1 present.
        var o = Datagram(sequence: 1, count: 3)
        o.block([1])
        #expect(o.validate() == .failure(.countOverrunsPacket(count: 3, blocks: 1)))
        // Blocks beyond the count.
        var x = Datagram(sequence: 1, count: 1)
        x.block([1])
        x.block([2])
        #expect(x.validate() == .failure(.extraBytes(count: 1, bytes: 3)))
        // Sequence near 2^64: the last block's sequence would pass UInt64.max.
        var n = Datagram(sequence: UInt64.max - 1, count: 2)
        n.block([1])
        n.block([2])
        #expect(n.validate() == .failure(.sequenceOverflow(sequence: UInt64.max - 1, count: 2)))
        var ok = Datagram(sequence: UInt64.max - 2, count: 2)
        ok.block([1])
        ok.block([2])
        #expect((try? ok.validate().get())?.end == UInt64.max)
        var zero = Datagram(sequence: 0, count: 1)
        zero.block([1])
        #expect(zero.validate() == .failure(.sequenceZero))
        var hb = Datagram(sequence: 3, count: 0)
        hb.bytes.append(0)
        #expect(hb.validate() == .failure(.extraBytes(count: 0, bytes: 1)))
    }

    @Test func requestsDecodeOnlyWhenWellFormed() throws {
        let r = try Datagram(session: "ABC", sequence: 7, count: 3).request().get()
        #expect(r.sequence == 7 && r.count == 3 && r.end == 10)
        #expect(r.session == MoldUDP64.sessionBytes("ABC").0 && r.sessionTail == MoldUDP64.sessionBytes("ABC").1)
        var long = Datagram(sequence: 1, count: 1)
        long.bytes.append(0)
        #expect(long.request() == .failure(.wrongLength(21)))
        #expect(Datagram(sequence: 0, count: 1).request() == .failure(.badRange(sequence: 0, count: 1)))
        #expect(Datagram(sequence: 1, count: 0).request() == .failure(.badRange(sequence: 1, count: 0)))
        #expect(Datagram(sequence: 1, count: 0xFFFF).request() == .failure(.badRange(sequence: 1, count: 0xFFFF)))
        #expect(
            Datagram(sequence: UInt64.max, count: 2).request()
                == .failure(.sequenceOverflow(sequence: UInt64.max, count: 2))
        )
    }

    @Test func endpointSpecsParseAndRefuse() throws {
        let e = try TickBusMoldUDP64Endpoint(parsing: "239.1.1.1:31000,request=10.0.0.1:31001,interface=veth0,idle=3")
        #expect(e.group == "239.1.1.1:31000" && e.request == "10.0.0.1:31001" && e.interface == "veth0")
        #expect(e.idleSeconds == 3)
        #expect(e.text == "239.1.1.1:31000,request=10.0.0.1:31001,interface=veth0,idle=3.0")
        let spec = try SourceSpec(parsing: "tickbus+moldudp64:127.0.0.1:5000")
        #expect(spec == .tickbusMoldUDP64(TickBusMoldUDP64Endpoint(group: "127.0.0.1:5000")))
        #expect(spec.description == "tickbus+moldudp64:127.0.0.1:5000")
        for bad in ["x:1", "127.0.0.1:5000,request=nope", "127.0.0.1:5000,colour=red", "127.0.0.1:5000,idle=-1"] {
            #expect(throws: SourceSpecError.self) { try SourceSpec(parsing: "tickbus+moldudp64:\(bad)") }
        }
    }
}
