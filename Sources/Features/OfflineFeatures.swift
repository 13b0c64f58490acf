import TickBusCore

/// Runs a market source (`next` is its `MarketSource.next`) through a feature engine without a ring: each message is written into a
/// 64-byte slot image exactly as the ring would hold it (sequence = its position in the source,
/// as the ring numbers it), then handed to `update`.
public struct OfflineFeatures: ~Copyable {
    /// Invariant: 64 bytes, 64-byte aligned, owned here.
    @usableFromInline let slot: UnsafeMutableRawPointer
    public init() {
        slot = .allocate(byteCount: 64, alignment: 64)
        slot.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
    }
    deinit { slot.deallocate() }

    /// Calls `row(sequence, exchangeTime, instrument)` at every decision point; read the values from `engine.values`.
    @inlinable
    public func run(
        next: () -> MarketMessage?,
        engine: FeatureEngine,
        limit: UInt64 = .max,
        row: (UInt64, Int64, UInt32) -> Void
    ) {
        var sequence: UInt64 = 0
        while sequence < limit, let message = next() {
            message.store(to: slot)
            slot.storeBytes(of: sequence, as: UInt64.self)
            let view = MarketMessageView(UnsafeRawPointer(slot))
            if engine.update(view) { row(sequence, view.exchangeTime, view.instrument) }
            sequence &+= 1
        }
    }
}
