/// The last `capacity` message blocks sent, by MoldUDP64 sequence, for retransmission.
///
/// Sizing: a block is at most 64 bytes (a tickbus slot; ITCH 5.0 messages are ≤ 50), so the
/// window costs `capacity × 74` bytes (block, length, tag); the default 2^18 is 19 MiB and holds
/// the last 262,144 messages — 2.6 s of a 100,000 msg/s feed, 0.26 s at 1 M msg/s. A receiver
/// must ask within that time; older sequences come from the journal (`--journal`), or are
/// answered as unavailable.
///
/// Invariant: `blocks` (`capacity` × 64 bytes), `lengths` and `tags` (`capacity` each) are
/// allocated here, owned by this value and freed in `deinit`; slot `s & mask` holds sequence
/// `tags[slot]` (0: never written) with `lengths[slot]` bytes.
struct RetransmitWindow: ~Copyable {
    static let blockBytes = 64
    let capacity: Int
    let mask: UInt64
    let blocks: UnsafeMutableRawPointer
    let lengths: UnsafeMutablePointer<UInt16>
    let tags: UnsafeMutablePointer<UInt64>

    init(capacity: Int) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "window capacity must be a power of two")
        self.capacity = capacity
        mask = UInt64(capacity - 1)
        blocks = .allocate(byteCount: capacity * Self.blockBytes, alignment: 64)
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
        tags = .allocate(capacity: capacity)
        tags.initialize(repeating: 0, count: capacity)
    }

    deinit {
        blocks.deallocate()
        lengths.deallocate()
        tags.deallocate()
    }

    /// Keeps the `length` bytes at `p` (≤ 64) as sequence `seq`, replacing `seq − capacity`.
    @inline(__always)
    func store(_ seq: UInt64, _ p: UnsafeRawPointer, length: Int) {
        let slot = Int(truncatingIfNeeded: seq & mask)
        // Safe: slot < capacity and length <= 64 (checked by the callers' encoders).
        (blocks + slot &* Self.blockBytes).copyMemory(from: p, byteCount: length)
        lengths[slot] = UInt16(truncatingIfNeeded: length)
        tags[slot] = seq
    }

    /// The block of `seq`, or nil when it was never kept or has been replaced.
    @inline(__always)
    func block(_ seq: UInt64) -> (UnsafeRawPointer, Int)? {
        let slot = Int(truncatingIfNeeded: seq & mask)
        guard tags[slot] == seq, seq != 0 else { return nil }
        return (UnsafeRawPointer(blocks + slot &* Self.blockBytes), Int(lengths[slot]))
    }
}
