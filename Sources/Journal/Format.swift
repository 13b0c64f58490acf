import CTickBus
import TickBusCore

/// The on-disk layout of a journal (Docs/JOURNAL.md is the reference; a reader can be written
/// from it). All integers little-endian.
///
/// A session is a directory; each recorded ring has segment files `<ring>.<NNNNNN>.tbj`
/// (rotated by size) and, once sealed, an index `<ring>.index`.
///
/// ```
/// segment file:  file header (4096 bytes) | block | block | ... | seal block
/// block:         block header (64 bytes) | payload | zero padding to a multiple of 4096
/// records:       payload = record count x slot size; a record is the slot bytes as read from
///                the ring (bytes 0..<8: ring sequence); a gap record has bit 63 of word 0 set:
///                word 0 = 1<<63 | first missing sequence, word 1 = count, the rest zero.
/// ```
public enum JournalFormat {
    /// "TBJOURNL" read as a little-endian UInt64.
    public static let fileMagic: UInt64 = 0x4C4E_5255_4F4A_4254
    /// "TBJB" read as a little-endian UInt32.
    public static let blockMagic: UInt32 = 0x424A_4254
    /// "TBJINDEX" read as a little-endian UInt64.
    public static let indexMagic: UInt64 = 0x5845_444E_494A_4254
    public static let version: UInt32 = 1

    /// File header size and block alignment: every block starts on a 4096-byte boundary so that
    /// writes can use O_DIRECT.
    public static let headerSize = 4096
    public static let alignment = 4096
    public static let blockHeaderSize = 64
    public static let sealPayloadSize = 64

    // File header offsets.
    public enum Header {
        public static let magic = 0
        public static let version = 8
        public static let headerSize = 12
        public static let schema = 16
        public static let slotSize = 20
        public static let segment = 24
        public static let alignment = 28
        public static let firstSequence = 32
        public static let createdRealtimeNs = 40
        public static let generation = 48
        public static let maxBlockBytes = 56
        public static let flags = 60
        public static let ringName = 64
        public static let busName = 128
        public static let nameLength = 64
        /// CRC32C of bytes 0..<252.
        public static let crc = 252
        public static let checkedBytes = 256
    }

    // Block header offsets.
    public enum Block {
        public static let magic = 0
        public static let type = 4
        public static let headerSize = 6
        public static let number = 8
        public static let payloadBytes = 16
        public static let recordCount = 20
        public static let firstSequence = 24
        public static let nextSequence = 32
        public static let firstExchangeTime = 40
        public static let lastExchangeTime = 48
        public static let reserved = 56
        /// CRC32C of header bytes 0..<60 followed by the payload.
        public static let crc = 60

        public static let typeRecords: UInt16 = 1
        public static let typeSeal: UInt16 = 2
    }

    // Seal payload offsets.
    public enum Seal {
        public static let records = 0
        public static let gapRecords = 8
        public static let lost = 16
        public static let nextSequence = 24
        public static let reason = 32
    }

    // Index: a 64-byte header, then 40-byte entries, then a CRC32C of everything before it.
    public enum Index {
        public static let headerSize = 64
        public static let entrySize = 40
        /// Size of the CRC32C that ends the file.
        public static let crcSize = 4

        // Header offsets: magic u64, version u32, entry count u32, slot size u32, schema u32.
        public static let magic = 0
        public static let version = 8
        public static let entryCount = 12
        public static let slotSize = 16
        public static let schema = 20

        /// Entry field offsets (from the entry's start).
        public enum Entry {
            public static let segment = 0  // u32
            public static let reserved = 4  // u32
            public static let fileOffset = 8  // u64
            public static let block = 16  // u64
            public static let firstSequence = 24  // u64
            public static let firstExchangeTime = 32  // i64
        }

        /// Byte offset of entry `k`.
        @inlinable public static func entry(_ k: Int) -> Int { headerSize + k * entrySize }
    }

    // Gap record offsets (a record whose word 0 has `gapBit` set).
    public enum Gap {
        /// `gapBit | first missing sequence`.
        public static let first = 0
        /// Messages missing.
        public static let count = 8
    }

    /// Bit 63 of a record's first word marks a gap record.
    public static let gapBit: UInt64 = 1 << 63

    /// Byte offset of the exchange time in a record of this schema (market 16, decisions 24).
    public static func exchangeTimeOffset(_ schema: SchemaID) -> Int? {
        switch schema {
        case .market: return MarketLayout.exchangeTime
        case .decisions: return DecisionLayout.exchangeTime
        case .control: return nil
        }
    }

    public static func segmentFileName(ring: String, segment: UInt32) -> String {
        var digits = String(segment)
        while digits.utf8.count < 6 { digits = "0" + digits }
        return "\(ring).\(digits).tbj"
    }

    public static func indexFileName(ring: String) -> String { "\(ring).index" }

    /// Parses `<ring>.<NNNNNN>.tbj` into its ring and segment number.
    public static func parseSegmentFileName(_ name: String) -> (ring: String, segment: UInt32)? {
        guard name.hasSuffix(".tbj") else { return nil }
        let stem = name.dropLast(4)
        guard let dot = stem.lastIndex(of: ".") else { return nil }
        let digits = stem[stem.index(after: dot)...]
        guard digits.count == 6, let n = UInt32(digits) else { return nil }
        let ring = String(stem[..<dot])
        guard !ring.isEmpty else { return nil }
        return (ring, n)
    }

    @inlinable public static func roundUp(_ n: Int, _ a: Int) -> Int { (n + a - 1) / a * a }
}

/// Why a ring's journal ended: the seal's reason code.
public enum SealReason: UInt32, Sendable, CustomStringConvertible {
    case endOfSession = 1
    case producerClosed = 2
    case stopSignal = 3
    /// This segment is full; the ring continues in the next segment.
    case rotated = 4
    case closed = 5

    public var description: String {
        switch self {
        case .endOfSession: return "end-of-session"
        case .producerClosed: return "producer-closed"
        case .stopSignal: return "stop-signal"
        case .rotated: return "rotated"
        case .closed: return "closed"
        }
    }
}

/// CRC32C (Castagnoli), hardware-accelerated where the CPU has SSE4.2.
public enum CRC32C {
    @inlinable public static func checksum(_ p: UnsafeRawPointer, _ count: Int, continuing crc: UInt32 = 0) -> UInt32 {
        tb_crc32c_update(crc, p, count)
    }
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { tb_crc32c_update(0, $0.baseAddress, $0.count) }
    }
    /// The table-driven path only (tests compare it with the hardware path).
    public static func softwareChecksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { tb_crc32c_software(0, $0.baseAddress, $0.count) }
    }
}
