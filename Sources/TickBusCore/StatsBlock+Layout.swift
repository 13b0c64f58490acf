// Per-process statistics in shared memory: counters and a latency histogram that a strategy (or
// any process) writes with plain relaxed stores and that telemetry (`tickbus metrics`, `tickbus
// stat`) reads from another process. One file per process and name:
// `/dev/shm/tickbus/<bus>/stats.<name>`. `Segment.list` skips these names, so `stats.` is a
// reserved ring-name prefix.

/// The fixed byte layout of a stats block. All integers little-endian; single writer.
///
/// ```
/// 0     magic u64 "TKBSTATS"   8 version u32   12 kind u32   16 file size u64   24 pid i32
/// 28    state u32 (running 1, closed 2)   32 generation u64   40 created (realtime ns)
/// 48    model id u64   56 shadow model id u64   64 name (64 bytes, NUL padded)
/// 128   heartbeat (monotonic ns), own cache line
/// 192   counters: 16 x u64 (`StatsCounter`)
/// 320   latency: count u64, sum ns u64, min ns u64, max ns u64, overflow u64
/// 384   latency buckets: `LatencyHistogramLayout.bucketCount` x u64
/// 29056 roles (version 2), own cache lines, under the roles generation (a seqlock, below):
///       +0 roles generation u64 (odd while the writer changes the roles)
///       +8 live model id u64   +16 shadow model id u64   +24 canary model id u64
///       +32 canary percent u32   +36 flags u32 (bit 0 paused)   +40 last swap (realtime ns, i64; 0 never)
///       +64 live version id (32 bytes)   +96 shadow version id   +128 canary version id
/// 29248 swap latency: count u64, sum ns u64, min ns u64, max ns u64, overflow u64, last ns u64
/// 29312 swap latency buckets: `LatencyHistogramLayout.bucketCount` x u64
/// 57984 execution (version 3), own cache lines, each word on its own (no seqlock):
///       +0 orders sent u64   +8 acks u64   +16 rejects u64   +24 cancelled u64   +32 cancel rejects u64
///       +40 fills u64   +48 filled shares u64   +56 fill fees i64 (micro-dollars, the sum over fills)
///       +64 position i64 (shares)   +72 P&L i64 (micro-dollars, realised + marked to mid, after fees)
///       +80 fees i64 (micro-dollars, every fee charged)   +88 ordered shares u64 (new orders)   +96..<128 zero
///       +128 risk events by code: 8 x u64 (word i counts code i, 1...7; word 0 any other code)
/// ```
///
/// The roles are several words written together; a reader must never combine the live version
/// of one state with the canary of another. The writer therefore brackets every change with the
/// roles generation: it stores generation + 1 (odd), a release fence, the fields (relaxed
/// stores), then generation + 2 (even) with release. A reader loads the generation with acquire,
/// retries while it is odd, loads the fields (relaxed), an acquire fence, and loads the generation
/// again: equal means the fields are one state. It retries a bounded number of times
/// (`rolesReadAttempts`) and reports the roles as unavailable rather than spin on a writer that
/// died in the middle of a change.
public enum StatsLayout {
    /// "TKBSTATS" read as a little-endian UInt64.
    public static let magic: UInt64 = 0x5354_4154_5342_4B54
    /// 2: roles, control counters and the swap latency histogram appended after the buckets.
    /// 3: the execution lines (orders, order events, fills, position, P&L, fees, risk events).
    public static let version: UInt32 = 3
    public static let filePrefix = "stats."

    public static let magicOffset = 0
    public static let versionOffset = 8
    public static let kindOffset = 12
    public static let fileSizeOffset = 16
    public static let pidOffset = 24
    public static let stateOffset = 28
    public static let generationOffset = 32
    public static let createdOffset = 40
    public static let modelIdOffset = 48
    public static let shadowModelIdOffset = 56
    public static let nameOffset = 64
    public static let nameLength = 64
    public static let heartbeatOffset = 128
    public static let countersOffset = 192
    public static let counterSlots = 16
    public static let latencyCountOffset = 320
    public static let latencySumOffset = latencyCountOffset + latencySumField
    public static let latencyMinOffset = latencyCountOffset + latencyMinField
    public static let latencyMaxOffset = latencyCountOffset + latencyMaxField
    public static let latencyOverflowOffset = latencyCountOffset + latencyOverflowField
    public static let bucketsOffset = 384

    /// The roles line pair, after the tick-to-decision buckets (64-byte aligned).
    public static let rolesOffset = bucketsOffset + LatencyHistogramLayout.bucketCount * 8
    public static let rolesGenerationOffset = rolesOffset
    public static let liveModelIdOffset = rolesOffset + 8
    public static let shadowModelIdRoleOffset = rolesOffset + 16
    public static let canaryModelIdOffset = rolesOffset + 24
    public static let canaryPercentOffset = rolesOffset + 32
    public static let roleFlagsOffset = rolesOffset + 36
    public static let lastSwapOffset = rolesOffset + 40
    public static let liveVersionOffset = rolesOffset + 64
    public static let shadowVersionOffset = rolesOffset + 96
    public static let canaryVersionOffset = rolesOffset + 128
    /// `roleFlagsOffset` bit: signals are paused.
    public static let pausedFlag: UInt32 = 1
    /// How many times a reader retries the roles while the writer changes them.
    public static let rolesReadAttempts = 10_000

    /// The swap latency line: the same five words as the tick-to-decision latency, then the last value.
    public static let swapLatencyCountOffset = rolesOffset + 192
    public static let swapLatencySumOffset = swapLatencyCountOffset + latencySumField
    public static let swapLatencyMinOffset = swapLatencyCountOffset + latencyMinField
    public static let swapLatencyMaxOffset = swapLatencyCountOffset + latencyMaxField
    public static let swapLatencyOverflowOffset = swapLatencyCountOffset + latencyOverflowField
    public static let swapLatencyLastOffset = swapLatencyCountOffset + swapLatencyLastField
    public static let swapBucketsOffset = swapLatencyCountOffset + swapBucketsField

    /// The execution lines (version 3), after the swap latency buckets (64-byte aligned).
    public static let executionOffset = swapBucketsOffset + LatencyHistogramLayout.bucketCount * 8
    /// The execution words relative to `executionOffset`, where the writer keeps a pointer.
    @inlinable public static var ordersSentField: Int { 0 }
    @inlinable public static var acksField: Int { 8 }
    @inlinable public static var rejectsField: Int { 16 }
    @inlinable public static var cancelledField: Int { 24 }
    @inlinable public static var cancelRejectsField: Int { 32 }
    @inlinable public static var fillsField: Int { 40 }
    @inlinable public static var filledSharesField: Int { 48 }
    @inlinable public static var fillFeesField: Int { 56 }
    @inlinable public static var positionField: Int { 64 }
    @inlinable public static var pnlField: Int { 72 }
    @inlinable public static var feesField: Int { 80 }
    @inlinable public static var orderedSharesField: Int { 88 }
    @inlinable public static var riskEventsField: Int { 128 }
    /// Risk event words (`riskEventsField`): one per code 1...7, word 0 for any other code.
    @inlinable public static var riskEventSlots: Int { 8 }
    public static let executionSize = 192

    /// Every counter, latency field and bucket is one little-endian u64.
    @inlinable public static var wordSize: Int { 8 }
    // The latency fields relative to `latencyCountOffset`, where the writer keeps a pointer.
    // Computed and inlinable so that the writer's hot path folds them into its instructions.
    @inlinable public static var latencySumField: Int { 8 }
    @inlinable public static var latencyMinField: Int { 16 }
    @inlinable public static var latencyMaxField: Int { 24 }
    @inlinable public static var latencyOverflowField: Int { 32 }
    @inlinable public static var swapLatencyLastField: Int { 40 }
    /// The swap latency buckets relative to `swapLatencyCountOffset`.
    @inlinable public static var swapBucketsField: Int { 64 }

    /// The header bytes `StatsBlock.attach` reads before mapping: magic, version and kind.
    public static let validatedPrefix = fileSizeOffset
    /// The longest stats name: the file name `stats.<name>` must stay a valid bus entry name.
    public static let maxNameLength = BusPaths.maxNameLength - filePrefix.utf8.count

    public static var fileSize: Int { executionOffset + executionSize }

    /// The file name of a stats block inside its bus directory.
    public static func fileName(_ name: String) -> String { filePrefix + name }

    public static func path(bus: String, name: String) -> String { "\(BusPaths.busDirectory(bus))/\(fileName(name))" }
}
