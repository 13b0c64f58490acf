import CTickBus
import Feed
import Foundation
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

extension RepublishBench {
    /// The baseline: plain UDP between the same two threads (and namespaces) — the paced phase
    /// sends one `paced`-byte datagram per message stamped with the clock at send; the flat-out
    /// phase sends the messages in `flat`-byte datagrams (as many 66-byte blocks as fit) and
    /// counts what arrives. No rings, no framing checks, no recovery.
    static func baselineRound(_ o: Options, round: Int, paced: Int, flat: Int) throws(BenchError) -> Side {
        var side = Side()
        side.latency = try udpLoop(o, round: round, phase: 2, datagrams: o.latencyMessages, bytes: paced, rate: o.rate)
            .latency
        let perPacket = max(1, (flat - MoldUDP64.headerSize) / 66)
        let r = try udpLoop(
            o,
            round: round,
            phase: 3,
            datagrams: (o.messages + perPacket - 1) / perPacket,
            bytes: flat,
            rate: 0
        )
        side.seconds = r.seconds
        side.received = min(o.messages, r.received * perPacket)
        return side
    }

    static func udpLoop(
        _ o: Options,
        round: Int,
        phase: Int,
        datagrams: Int,
        bytes: Int,
        rate: Double
    ) throws(BenchError)
        -> Side
    {
        let (group, _) = try ports(o, round: round, phase: phase)
        let to = try address(group)
        let got = Box(Side())
        let bound = DispatchSemaphore(value: 0)
        let receiver = Thread {
            enter(o.receiverNetns)
            got.value = udpReceive(o, group: to, datagrams: datagrams, bound: bound)
            got.done.signal()
        }
        receiver.start()
        bound.wait()
        let sender = Thread {
            enter(o.senderNetns)
            udpSend(o, to: to, datagrams: datagrams, bytes: bytes, rate: rate)
        }
        sender.start()
        got.done.wait()
        return got.value
    }

    static func udpSend(_ o: Options, to: sockaddr_in, datagrams: Int, bytes: Int, rate: Double) {
        let index = o.senderInterface.flatMap { try? MoldUDP64.interfaceIndex($0) } ?? 0
        guard let fd = try? MoldUDP64.senderSocket(to: to, interface: index, ttl: 1, loopback: true) else {
            fatalError("bench republish: baseline socket")
        }
        defer { close(fd) }
        let packet = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 32), alignment: 16)
        defer { packet.deallocate() }
        memset(packet, 0x41, max(bytes, 32))
        let start = tb_monotonic_ns()
        let interval = rate > 0 ? 1e9 / rate : 0
        for i in 0...datagrams {
            if interval > 0 {
                let due = start &+ UInt64(Double(i) * interval)
                while tb_monotonic_ns() < due { usleep(10) }
            }
            // Safe: the buffer holds at least 32 bytes; the last datagram (i == datagrams) says "end".
            packet.storeBytes(of: i == datagrams ? UInt64.max : tb_monotonic_ns(), toByteOffset: 24, as: UInt64.self)
            var tries = 0
            while !MoldUDP64.send(fd, packet, bytes, to: to), tries < 200 {
                tries += 1
                usleep(50)
            }
        }
        // The end marker may be lost: repeat it.
        for _ in 0..<20 {
            usleep(5_000)
            _ = MoldUDP64.send(fd, packet, bytes, to: to)
        }
    }

    static func udpReceive(_ o: Options, group: sockaddr_in, datagrams: Int, bound: DispatchSemaphore) -> Side {
        var side = Side()
        side.latency.reserveCapacity(datagrams)
        guard let fd = try? MoldUDP64.udpSocket() else { fatalError("bench republish: baseline socket") }
        defer { close(fd) }
        var local = group
        if MoldUDP64.isMulticast(group) { local.sin_addr.s_addr = INADDR_ANY }
        do {
            try MoldUDP64.bind(fd, local)
            if MoldUDP64.isMulticast(group) {
                let index = o.receiverInterface.flatMap { try? MoldUDP64.interfaceIndex($0) } ?? 0
                var m = ip_mreqn(
                    imr_multiaddr: group.sin_addr,
                    imr_address: in_addr(s_addr: INADDR_ANY),
                    imr_ifindex: index
                )
                setsockopt(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &m, socklen_t(MemoryLayout<ip_mreqn>.size))
            }
        } catch {
            fatalError("bench republish: baseline bind: \(error)")
        }
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        bound.signal()
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 65_536, alignment: 16)
        defer { buffer.deallocate() }
        var first: UInt64 = 0
        var last: UInt64 = 0
        while true {
            let n = recv(fd, buffer, 65_536, 0)
            if n < 32 { break }  // timed out: the end marker was lost
            let now = tb_monotonic_ns()
            let stamp = buffer.load(fromByteOffset: 24, as: UInt64.self)
            if stamp == UInt64.max { break }
            if first == 0 { first = now }
            last = now
            side.latency.append(now &- stamp)
            side.received += 1
        }
        side.seconds = Double(last &- first) / 1e9
        return side
    }
}
