import Feed

extension FeedBench {
    /// Parse only (the `bench feed` contender without books): walks the length prefixes, checks
    /// each length against its type and decodes the fields of the order messages (locate, time,
    /// reference, shares, price, side), folding them into a checksum so nothing is optimised away.
    /// Processes messages starting at byte `from` until `to` (exclusive) or `limit` messages;
    /// returns the offset reached, the messages parsed and the checksum.
    @inline(__always)
    public static func parseOnly(
        _ base: UnsafeRawPointer,
        from: Int,
        to end: Int,
        limit: Int
    ) -> (offset: Int, messages: Int, checksum: UInt64) {
        var offset = from
        var n = 0
        var sum: UInt64 = 0
        while n < limit, offset &+ 2 <= end {
            let length = Int(ITCH.u16(base, offset))
            guard length <= end &- offset &- 2 else { break }  // truncated tail: the framing ends here
            let p = base + offset + 2  // Safe: offset + 2 + length <= end (read only when length >= 1).
            offset &+= 2 &+ length
            guard length > 0 else { continue }  // zero-length frame: skipped, the next one follows
            let type = p.load(as: UInt8.self)
            guard ITCH._lengthOf(type) == length else { continue }
            n &+= 1
            let head = UInt64(ITCH.u16(p, 1)) &+ UInt64(bitPattern: ITCH.timestamp(p))
            switch type {
            case 0x41, 0x46:
                sum &+=
                    head &+ ITCH.u64(p, 11) &+ UInt64(p.load(fromByteOffset: 19, as: UInt8.self))
                    &+ UInt64(ITCH.u32(p, 20)) &+ UInt64(ITCH.u32(p, 32))
            case 0x45: sum &+= head &+ ITCH.u64(p, 11) &+ UInt64(ITCH.u32(p, 19)) &+ ITCH.u64(p, 23)
            case 0x43: sum &+= head &+ ITCH.u64(p, 11) &+ UInt64(ITCH.u32(p, 19)) &+ UInt64(ITCH.u32(p, 32))
            case 0x58: sum &+= head &+ ITCH.u64(p, 11) &+ UInt64(ITCH.u32(p, 19))
            case 0x44: sum &+= head &+ ITCH.u64(p, 11)
            case 0x55:
                sum &+= head &+ ITCH.u64(p, 11) &+ ITCH.u64(p, 19) &+ UInt64(ITCH.u32(p, 27)) &+ UInt64(ITCH.u32(p, 31))
            case 0x50: sum &+= head &+ ITCH.u64(p, 11) &+ UInt64(ITCH.u32(p, 20)) &+ UInt64(ITCH.u32(p, 32))
            default: sum &+= head
            }
        }
        return (offset, n, sum)
    }

}
