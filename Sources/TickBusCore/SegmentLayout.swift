/// The fixed byte layout of a ring segment file (`/dev/shm/tickbus/<bus>/<ring>`).
/// All integers little-endian; offsets never move within a layout version.
///
/// ```
/// 0     header line: magic, version, slot_size, capacity, slots_offset, file_size,
///       schema, reader_entries, producer_pid, flags, generation
/// 64    ring name (64 bytes, NUL padded)
/// 128   created (realtime ns)
/// 256   producer line: cursor (next sequence), heartbeat (monotonic ns), state
/// 384   producer counters: gate waits, readers ungated, readers reclaimed
/// 512   reader table: 64 entries x 128 bytes (two cache lines each)
/// 12288 slots: capacity x slot_size, page aligned
/// ```
public enum SegmentLayout {
    /// "TKBUSSEG" read as a little-endian UInt64.
    public static let magic: UInt64 = 0x4745_5353_5542_4B54
    public static let version: UInt32 = 1

    public static let magicOffset = 0
    public static let versionOffset = 8
    public static let slotSizeOffset = 12
    public static let capacityOffset = 16
    public static let slotsOffsetOffset = 24
    public static let fileSizeOffset = 32
    public static let schemaOffset = 40
    public static let readerEntriesOffset = 44
    public static let producerPidOffset = 48
    public static let flagsOffset = 52
    public static let generationOffset = 56
    public static let nameOffset = 64
    public static let nameLength = 64
    public static let createdOffset = 128

    public static let cursorOffset = 256
    public static let heartbeatOffset = 264
    public static let stateOffset = 272

    public static let gateWaitsOffset = 384
    public static let ungatedOffset = 392
    public static let reclaimedOffset = 400

    public static let readerTableOffset = 512
    public static let readerEntries = 64
    public static let readerEntrySize = 128
    public static let slotsOffset = 12288

    /// Bytes read and validated before anything is mapped.
    public static let validatedPrefix = 512

    /// Sequence-word value of a slot never written in this generation.
    public static let emptyWord: UInt64 = .max
    /// Bit set in a slot's sequence word while the producer writes it.
    public static let busyBit: UInt64 = 1 << 63

    public static func fileSize(slotSize: Int, capacity: Int) -> Int { slotsOffset + slotSize * capacity }
}

/// Offsets inside one reader-table entry. Line 0 is written at claim time, line 1 by the reader
/// as it reads; the producer and telemetry only read them (the claim itself is a CAS on `state`).
public enum ReaderEntryLayout {
    public static let state = 0  // UInt32: free, claiming, active
    public static let pid = 4  // Int32
    public static let mode = 8  // UInt32: 0 live, 1 gating
    public static let idle = 12  // UInt32: IdleStrategy kind
    public static let name = 16  // 32 bytes, NUL padded
    public static let nameLength = 32
    public static let attached = 48  // monotonic ns
    public static let start = 56  // first sequence this reader asked for
    public static let position = 64  // next sequence to read
    public static let lost = 72  // messages lost to laps
    public static let gaps = 80  // number of laps (gap reports)
    public static let heartbeat = 88  // monotonic ns

    public static let free: UInt32 = 0
    public static let claiming: UInt32 = 1
    public static let active: UInt32 = 2
}

/// The message sets a segment can carry. A reader refuses a schema it does not know.
public enum SchemaID: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    /// Normalised market messages in 64-byte slots (`MarketMessage`).
    case market = 1
    /// Strategy decision records (`DecisionRecord`), 256-byte slots by default.
    case decisions = 2
    /// Control actions (drift monitor to strategies).
    case control = 3

    public var description: String {
        switch self {
        case .market: return "market"
        case .decisions: return "decisions"
        case .control: return "control"
        }
    }
}

/// Producer state word.
public enum ProducerState: UInt32, Sendable {
    case initializing = 0
    case running = 1
    case closed = 2
}
