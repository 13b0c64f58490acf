/// The kinds of record in a strategy's ring `decisions.<name>` (u16 at byte 8 of every record),
/// defined once for every record a strategy writes (Docs/JOURNAL.md, "Records in a strategy's ring").
public enum RecordKind: UInt16, Sendable, CaseIterable {
    /// A decision: features, the live, shadow and canary predictions, the signal (`DecisionLayout`).
    case decision = 100
    /// A control command applied or rejected (`ControlRecordLayout`).
    case control = 101
    /// An own order or cancel sent (`OrderRecordLayout`).
    case order = 102
    /// The exchange's answer to an own action: acknowledged, rejected, cancelled, cancel rejected
    /// (`OrderEventRecordLayout`).
    case orderEvent = 103
    /// A fill of an own order, with the position and cash after it (`FillRecordLayout`).
    case fill = 104
    /// A risk check's event: an order refused, trading paused or resumed (`RiskRecordLayout`).
    case risk = 105
}

/// The header every record in `decisions.<name>` shares, whatever its kind, so that a journal's
/// block times, `journal cat` and the drift monitor can read any record's position in the market:
///
/// ```
/// 0  sequence (ring)   8 kind u16   10 flags u16 (per kind)   12 u16 (per kind)   14 u8 (per kind)
/// 15 layout version u8 (per kind)   16 market sequence u64   24 exchange time i64
/// 32 instrument u32    36 u32 (per kind)   40 market receive time i64 (monotonic)
/// 48 publish time i64 (monotonic)
/// ```
public enum RecordHeader {
    public static let kind = 8
    public static let flags = 10
    public static let layoutVersion = 15
    public static let marketSequence = 16
    public static let exchangeTime = 24
    public static let instrument = 32
    public static let receiveTime = 40
    public static let publishTime = 48
    /// The bytes every kind's own fields start after.
    public static let size = 56
}

/// Byte offsets of a decision record, layout version 2 (schema `decisions`, 256-byte slots by
/// default: up to 18 features; a larger slot holds more). Bytes 0..<56 are the `RecordHeader`.
///
/// ```
/// 0  sequence (ring)  8 kind u16 (100)  10 flags u16 (DecisionFlags)  12 feature count u16
/// 14 signal i8        15 layout version u8 (2)   16 market sequence u64   24 exchange time i64
/// 32 instrument u32   36 canary percent u8 (the routing in force), 37..<40 zero
/// 40 market receive time i64 (monotonic)    48 publish time i64 (monotonic)
/// 56 live prediction f64   64 shadow prediction f64   72 canary prediction f64
/// 80 live model id u64     88 shadow model id u64     96 canary model id u64
/// 104 zero u64             112.. feature values f64
/// ```
///
/// A prediction whose role is empty is NaN and its model id 0. The signal is the acting model's:
/// the canary's when the instrument is routed to it (`DecisionFlags.canaryActed`), else the live
/// model's; it is 0 while paused or while no model is live (after a demote).
public enum DecisionLayout {
    public static let kindValue: UInt16 = RecordKind.decision.rawValue
    public static let layoutVersionValue: UInt8 = 2
    public static let kind = RecordHeader.kind
    public static let flags = RecordHeader.flags
    public static let featureCount = 12
    public static let signal = 14
    public static let layoutVersion = RecordHeader.layoutVersion
    public static let marketSequence = RecordHeader.marketSequence
    public static let exchangeTime = RecordHeader.exchangeTime
    public static let instrument = RecordHeader.instrument
    public static let canaryPercent = 36
    public static let receiveTime = RecordHeader.receiveTime
    public static let publishTime = RecordHeader.publishTime
    public static let livePrediction = 56
    public static let shadowPrediction = 64
    public static let canaryPrediction = 72
    public static let modelId = 80
    public static let shadowModelId = 88
    public static let canaryModelId = 96
    public static let features = 112
    public static let defaultSlotSize = 256

    public static func maxFeatures(slotSize: Int) -> Int { (slotSize - features) / 8 }
}

/// The role bits of a decision record (`DecisionLayout.flags`).
public enum DecisionFlags {
    /// A shadow model was evaluated (its prediction and id are set).
    public static let shadow: UInt16 = 1 << 0
    /// A canary model was evaluated (its prediction and id are set).
    public static let canary: UInt16 = 1 << 1
    /// This instrument is routed to the canary: the signal is the canary's.
    public static let canaryActed: UInt16 = 1 << 2
    /// A live model was evaluated (clear after a demote until a live version is loaded again).
    public static let live: UInt16 = 1 << 3
    /// The strategy is paused: the signal is 0 whatever the models say.
    public static let paused: UInt16 = 1 << 4
}

/// A zero-copy view of a decision record. Invariant: `base` points at `slotSize` readable bytes.
public struct DecisionRecordView {
    public let base: UnsafeRawPointer
    @inlinable public init(_ base: UnsafeRawPointer) { self.base = base }

    @inlinable public var sequence: UInt64 { base.load(as: UInt64.self) }
    /// The record's kind (`RecordKind`): 100 for a decision.
    @inlinable public var kind: UInt16 { base.load(fromByteOffset: DecisionLayout.kind, as: UInt16.self) }
    @inlinable public var isDecision: Bool { kind == DecisionLayout.kindValue }
    @inlinable public var layoutVersion: UInt8 {
        base.load(fromByteOffset: DecisionLayout.layoutVersion, as: UInt8.self)
    }
    @inlinable public var flags: UInt16 { base.load(fromByteOffset: DecisionLayout.flags, as: UInt16.self) }
    @inlinable public var hasShadow: Bool { flags & DecisionFlags.shadow != 0 }
    @inlinable public var hasCanary: Bool { flags & DecisionFlags.canary != 0 }
    @inlinable public var canaryActed: Bool { flags & DecisionFlags.canaryActed != 0 }
    @inlinable public var featureCount: Int {
        Int(base.load(fromByteOffset: DecisionLayout.featureCount, as: UInt16.self))
    }
    @inlinable public var signal: Int8 { base.load(fromByteOffset: DecisionLayout.signal, as: Int8.self) }
    @inlinable public var marketSequence: UInt64 {
        base.load(fromByteOffset: DecisionLayout.marketSequence, as: UInt64.self)
    }
    @inlinable public var exchangeTime: Int64 { base.load(fromByteOffset: DecisionLayout.exchangeTime, as: Int64.self) }
    @inlinable public var instrument: UInt32 { base.load(fromByteOffset: DecisionLayout.instrument, as: UInt32.self) }
    @inlinable public var canaryPercent: UInt8 {
        base.load(fromByteOffset: DecisionLayout.canaryPercent, as: UInt8.self)
    }
    @inlinable public var receiveTime: Int64 { base.load(fromByteOffset: DecisionLayout.receiveTime, as: Int64.self) }
    @inlinable public var publishTime: Int64 { base.load(fromByteOffset: DecisionLayout.publishTime, as: Int64.self) }
    /// Receive-to-publish latency in ns (market message stamped at publish → decision published).
    @inlinable public var latencyNs: Int64 { publishTime &- receiveTime }
    @inlinable public var livePrediction: Double {
        base.load(fromByteOffset: DecisionLayout.livePrediction, as: Double.self)
    }
    @inlinable public var shadowPrediction: Double {
        base.load(fromByteOffset: DecisionLayout.shadowPrediction, as: Double.self)
    }
    @inlinable public var canaryPrediction: Double {
        base.load(fromByteOffset: DecisionLayout.canaryPrediction, as: Double.self)
    }
    @inlinable public var modelId: UInt64 { base.load(fromByteOffset: DecisionLayout.modelId, as: UInt64.self) }
    @inlinable public var shadowModelId: UInt64 {
        base.load(fromByteOffset: DecisionLayout.shadowModelId, as: UInt64.self)
    }
    @inlinable public var canaryModelId: UInt64 {
        base.load(fromByteOffset: DecisionLayout.canaryModelId, as: UInt64.self)
    }
    /// The id of the model whose prediction gave the signal: the canary's when routed to it.
    @inlinable public var actingModelId: UInt64 { canaryActed ? canaryModelId : modelId }
    @inlinable public func feature(_ i: Int) -> Double {
        base.load(fromByteOffset: DecisionLayout.features + 8 * i, as: Double.self)
    }
}

/// Canary routing (ARCHITECTURE.md, "Control ring and roles"): an instrument's decisions use the
/// canary model when `fnv1a64(instrument as 4 little-endian bytes) mod 100 < percent`.
public enum CanaryRouting {
    /// FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3), over the
    /// instrument's 4 bytes, least significant first.
    @inlinable @inline(__always)
    public static func fnv1a64(_ instrument: UInt32) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var v = instrument
        for _ in 0..<4 {
            h ^= UInt64(v & 0xff)
            h = h &* 0x0000_0100_0000_01b3
            v >>= 8
        }
        return h
    }

    /// The instrument's bucket, 0..<100.
    @inlinable @inline(__always)
    public static func bucket(_ instrument: UInt32) -> UInt8 { UInt8(truncatingIfNeeded: fnv1a64(instrument) % 100) }

    /// Whether `instrument` is routed to the canary at `percent` (0 routes none, 100 all).
    @inlinable @inline(__always)
    public static func routesToCanary(_ instrument: UInt32, percent: UInt8) -> Bool { bucket(instrument) < percent }
}
