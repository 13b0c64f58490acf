import TickBusCore

/// One publish and one poll as standalone symbols, so `Tools/hot-path-check` can read exactly
/// the code of the hot path in the release binary.
public enum HotPath {
    @inline(never)
    public static func publishMarket(_ producer: inout RingProducer, _ message: MarketMessage) -> UInt64 {
        producer.publish(message)
    }

    @inline(never)
    public static func poll(_ reader: inout RingReader) -> PollResult {
        reader.poll()
    }
}
