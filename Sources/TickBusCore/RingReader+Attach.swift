import CTickBus
#if canImport(Glibc)
import Glibc
#endif

extension RingReader {
    /// Attaches to a ring that may not exist yet (a strategy started beside its feed): retries every
    /// 5 ms until the ring is there, the timeout passes or `stop` says so.
    /// - Throws: the last `SegmentError` (no such ring, a bad header, permission) at the deadline.
    public static func attach(
        bus: String, ring: String, name: String, mode: ReaderMode = .live, from start: StartPosition = .start,
        idle: IdleStrategy = .backoff, expecting schema: SchemaID? = nil, timeout: Double, stop: () -> Bool
    ) throws(SegmentError) -> RingReader {
        let deadline = tb_monotonic_ns() + UInt64(max(0, timeout) * 1e9)
        while true {
            do {
                return try RingReader(bus: bus, ring: ring, name: name, mode: mode, from: start, idle: idle, expecting: schema)
            } catch {
                if tb_monotonic_ns() >= deadline || stop() { throw error }
                usleep(5000)
            }
        }
    }
}
