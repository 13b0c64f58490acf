import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// Encodes normalised messages as ITCH 5.0 (BinaryFILE framing: 2-byte big-endian length, body).
/// Used for `tickbus synth itch`, for MoldUDP64 tests, and for benchmark inputs.
public struct ITCHWriter {
    public private(set) var bytes: [UInt8] = []
    public init() {}

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }
    mutating func u32(_ v: UInt32) {
        for s in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) }
    }
    mutating func u64(_ v: UInt64) {
        for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
    }
    mutating func word(_ w: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: w >> (8 * UInt64(i)))) } }
    mutating func header(_ type: Character, _ length: Int, _ locate: UInt32, _ time: Int64) {
        u16(UInt16(length))
        u8(type.asciiValue!)
        u16(UInt16(truncatingIfNeeded: locate))
        u16(0)  // tracking number
        u16(UInt16(truncatingIfNeeded: time >> 32))
        u32(UInt32(truncatingIfNeeded: time))
    }

    /// Symbol words of the instruments seen in directory messages (stock field of A, P).
    var symbols: [UInt32: UInt64] = [:]

    /// Appends a system event (S) with an event code ('O' start of messages, 'C' end of messages, ...).
    public mutating func systemEvent(_ code: UInt8, time: Int64) {
        header("S", 12, 0, time)
        u8(code)
    }

    /// Appends the ITCH encoding of one normalised message; returns false for kinds ITCH has no
    /// message for (top of book, gap, end of session).
    @discardableResult
    public mutating func append(_ m: MarketMessage) -> Bool {
        let (p0, p1, p2, p3) = m.payload
        let side = UInt8(truncatingIfNeeded: p2 >> 32)
        let stock = symbols[m.instrument] ?? 0x2020_2020_2020_2020
        switch m.kind {
        case .directory:
            symbols[m.instrument] = p0
            header("R", 39, m.instrument, m.exchangeTime)
            word(p0)
            u8(UInt8(truncatingIfNeeded: p1 >> 32))  // market category
            u8(UInt8(truncatingIfNeeded: p1 >> 40))  // financial status
            u32(UInt32(truncatingIfNeeded: p1))  // round lot
            u8(0x4E)  // round lots only
            u8(0x43)  // issue classification
            u8(0x20)
            u8(0x20)  // issue sub-type
            u8(0x50)  // authenticity: production
            u8(0x4E)  // short sale threshold
            u8(0x4E)  // IPO flag
            u8(0x31)  // LULD reference price tier
            u8(0x4E)  // ETP flag
            u32(0)  // ETP leverage factor
            u8(0x4E)  // inverse indicator
        case .status:
            header("H", 25, m.instrument, m.exchangeTime)
            word(stock)
            u8(UInt8(truncatingIfNeeded: p0))
            u8(0x20)
            u32(0x2020_2020)
        case .add:
            header("A", 36, m.instrument, m.exchangeTime)
            u64(p0)
            u8(side)
            u32(UInt32(truncatingIfNeeded: p2))
            word(stock)
            u32(UInt32(truncatingIfNeeded: p1))
        case .execute:
            header("E", 31, m.instrument, m.exchangeTime)
            u64(p0)
            u32(UInt32(truncatingIfNeeded: p2))
            u64(p3)
        case .cancel:
            header("X", 23, m.instrument, m.exchangeTime)
            u64(p0)
            u32(UInt32(truncatingIfNeeded: p2))
        case .delete:
            header("D", 19, m.instrument, m.exchangeTime)
            u64(p0)
        case .replace:
            header("U", 35, m.instrument, m.exchangeTime)
            u64(p0)
            u64(p1)
            u32(UInt32(truncatingIfNeeded: p3))
            u32(UInt32(truncatingIfNeeded: p2))
        case .trade:
            header("P", 44, m.instrument, m.exchangeTime)
            u64(p0)
            u8(side)
            u32(UInt32(truncatingIfNeeded: p2))
            word(stock)
            u32(UInt32(truncatingIfNeeded: p1))
            u64(p3)
        default:
            return false
        }
        return true
    }

    /// Forgets the encoded bytes, keeping the buffer (no allocation once it has grown).
    public mutating func clear() { bytes.removeAll(keepingCapacity: true) }

    /// Reserves room for `n` bytes.
    public mutating func reserve(_ n: Int) { bytes.reserveCapacity(n) }

    /// Calls `body` with the encoded bytes (each message framed by its 2-byte length).
    public func withBytes<R>(_ body: (UnsafeRawPointer, Int) -> R) -> R {
        // An empty buffer has no base address: hand over a valid pointer with a count of 0.
        bytes.withUnsafeBytes { b in
            b.baseAddress.map { body($0, b.count) } ?? [UInt8(0)].withUnsafeBytes { body($0.baseAddress!, 0) }
        }
    }

    /// Removes and returns the encoded bytes so far.
    public mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    /// Writes `messages` ITCH messages of the synthetic flow for `seed` to `path`: S 'O', the
    /// directory (R) and trading state (H) of each instrument, the order flow, and S 'C' last.
    public static func writeSynthetic(seed: UInt64, messages: UInt64, path: String) throws(FeedError) -> UInt64 {
        guard messages >= 2 else { throw .badArgument("--messages must be at least 2 (start and end of messages)") }
        guard let f = fopen(path, "wb") else { throw .cannotOpen(path: path, errno: errno) }
        defer { fclose(f) }
        var w = ITCHWriter()
        w.bytes.reserveCapacity(1 << 20)
        var source = SyntheticSource(seed: seed)
        var written: UInt64 = 0
        var time: Int64 = 34_200_000_000_000
        w.systemEvent(0x4F, time: time - 1)
        written += 1
        while written < messages - 1, let m = source.next() {
            time = m.exchangeTime
            if w.append(m) { written += 1 }
            if w.bytes.count >= 1 << 20 {
                let n = w.bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
                guard n == w.bytes.count else { throw .cannotRead(path: path, reason: "short write") }
                w.bytes.removeAll(keepingCapacity: true)
            }
        }
        w.systemEvent(0x43, time: time)
        written += 1
        let n = w.bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        guard n == w.bytes.count else { throw .cannotRead(path: path, reason: "short write") }
        return written
    }
}
