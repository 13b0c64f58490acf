import CTickBus
import Feed
import Foundation
import Republish
import TickBusCore

extension RepublishBench {
    /// Results handed between a round's threads.
    final class Box<T>: @unchecked Sendable {
        var value: T
        let done = DispatchSemaphore(value: 0)
        init(_ value: T) { self.value = value }
    }

    /// One subject round: the latency phase (paced), then the throughput phase (flat out), each a
    /// fresh bus, republisher and receiver.
    static func subjectRound(_ o: Options, round: Int) throws(BenchError) -> Side {
        var side = Side()
        let paced = try pipeline(o, round: round, phase: 0, messages: o.latencyMessages, rate: o.rate)
        side.latency = paced.latency
        side.packetBytes = paced.packetBytes
        let flat = try pipeline(o, round: round, phase: 1, messages: o.messages, rate: 0)
        side.seconds = flat.seconds
        side.received = flat.received
        side.flatPacketBytes = flat.packetBytes
        side.retransmitted = paced.retransmitted + flat.retransmitted
        return side
    }

    /// Producer → ring A → republisher → UDP → receiver → ring B.
    static func pipeline(_ o: Options, round: Int, phase: Int, messages: Int, rate: Double) throws(BenchError) -> Side {
        let (group, request) = try ports(o, round: round, phase: phase)
        let bus = "bench-republish-\(getpid())-\(round)-\(phase)"
        defer { _ = try? Segment.removeBus(bus) }
        var producer: RingProducer
        do {
            producer = try RingProducer(bus: bus, ring: "market", schema: .market, slotSize: 64, capacity: 1 << 20)
        } catch { throw .segment(error) }
        var ro = RepublishOptions(bus: bus, group: group)
        ro.retransmitListen = request
        ro.interface = o.senderInterface
        ro.lingerSeconds = 0.5
        ro.heartbeatNs = 20_000_000
        ro.idle = .spinThenYield  // the latency of a republisher on a core of its own
        let options = ro
        let sent = Box(Republisher.Stats())
        let ready = DispatchSemaphore(value: 0)
        let sender = Thread {
            enter(o.senderNetns)
            do {
                var r = try Republisher(options, stop: { false })
                ready.signal()
                sent.value = r.run(log: { _ in }, stop: { false })
            } catch {
                fatalError("bench republish: \(error)")
            }
            sent.done.signal()
        }
        let got = Box(Side())
        let receiver = Thread {
            enter(o.receiverNetns)
            got.value = receive(o, bus: bus, group: group, request: request, messages: messages)
            got.done.signal()
        }
        receiver.start()
        sender.start()
        ready.wait()
        usleep(20_000)  // the receiver's socket is bound
        let start = tb_monotonic_ns()
        let interval = rate > 0 ? 1e9 / rate : 0
        for i in 0..<messages {
            if interval > 0 {
                let due = start &+ UInt64(Double(i) * interval)
                // Sleep, never spin: on two cores the republisher and the receiver need them.
                while tb_monotonic_ns() < due { usleep(10) }
            }
            let now = Int64(bitPattern: tb_monotonic_ns())
            var m = MarketMessage.orderEvent(
                .add,
                instrument: 1,
                exchangeTime: now,
                orderId: UInt64(i),
                price: 1_000_000,
                quantity: 100,
                side: .buy
            )
            m.receiveTime = now
            _ = producer.publish(m)
            if i & 4095 == 0 { producer.housekeeping() }
        }
        _ = producer.publish(.endOfSession(exchangeTime: 0, messages: UInt64(messages)))
        got.done.wait()
        producer.close()
        sent.done.wait()
        var side = got.value
        side.retransmitted = sent.value.retransmitted
        let packets = Int(max(1, sent.value.packets))
        let blockBytes = Int(sent.value.messages) * (2 + MoldUDP64.tickbusBlock)
        side.packetBytes = MoldUDP64.headerSize + (blockBytes + packets / 2) / packets
        return side
    }

    /// The receiving thread: the source into ring B; the clock after each publish.
    static func receive(_ o: Options, bus: String, group: String, request: String, messages: Int) -> Side {
        var side = Side()
        side.latency.reserveCapacity(messages)
        var endpoint = TickBusMoldUDP64Endpoint(group: group, request: request, idleSeconds: 10)
        endpoint.interface = o.receiverInterface
        var source: TickBusMoldUDP64Source
        var out: RingProducer
        do {
            source = try TickBusMoldUDP64Source(endpoint)
            out = try RingProducer(bus: bus, ring: "market.b", schema: .market, slotSize: 64, capacity: 1 << 20)
        } catch {
            fatalError("bench republish: receiver: \(error)")
        }
        var first: UInt64 = 0
        while let m = source.next() {
            var copy = m
            let now = tb_monotonic_ns()
            if first == 0 { first = now }
            copy.receiveTime = Int64(bitPattern: now)
            _ = out.publish(copy)
            let after = tb_monotonic_ns()
            if m.kind == .endOfSession { break }
            side.latency.append(after &- UInt64(bitPattern: m.exchangeTime))
            side.received += 1
        }
        side.seconds = Double(tb_monotonic_ns() &- first) / 1e9
        out.close()
        return side
    }
}
