import CTickBus
import TickBusCore

/// Single-thread publish-then-poll loops over the TickBus ring and the C ring, for instruction
/// counts under callgrind (`Tools/callgrind-ring`): a figure that does not depend on what else
/// the machine is doing.
public enum RingInstructions {
    @inline(never)
    public static func loopSwift(_ producer: inout RingProducer, _ reader: inout RingReader, messages: UInt64) -> UInt64
    {
        var check: UInt64 = 0
        for s in 0..<messages {
            _ = producer.publish { slot in RingBench.fill(slot, s, stamp: s) }
            if case .message(let bytes) = reader.poll() {
                check &+= bytes.base.load(fromByteOffset: 24, as: UInt64.self)
            }
        }
        return check
    }

    @inline(never)
    public static func loopC(_ ring: _CRing, messages: UInt64) -> UInt64 {
        let h = ring.header
        let slots = ring.slots
        var producer = tb_c_producer_make(h)
        var reader = tb_c_reader_make(h)
        var check: UInt64 = 0
        var payload: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &payload) { raw in
            // Safe: the tuple is 7 contiguous UInt64 words, alive for the closure.
            let words = raw.baseAddress!.assumingMemoryBound(to: UInt64.self)
            for s in 0..<messages {
                tb_c_publish(h, slots, &producer, s)
                if tb_c_poll(h, slots, &reader, words) == 1 { check &+= words[2] }
            }
        }
        return check
    }
}
