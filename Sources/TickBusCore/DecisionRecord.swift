/// Byte offsets of a decision record (schema `decisions`, 256-byte slots by default: up to 20
/// features; a larger slot holds more). Bytes 0..<8 are the ring's sequence word.
///
/// ```
/// 0  sequence (ring)  8 kind u16 (100)  10 flags u16 (bit 0: shadow present)  12 feature count u16
/// 14 signal i8        16 market sequence u64   24 exchange time i64   32 instrument u32
/// 40 market receive time i64 (monotonic)       48 publish time i64 (monotonic)
/// 56 live prediction f64   64 shadow prediction f64   72 model id u64   80 shadow model id u64
/// 96.. feature values f64
/// ```
public enum DecisionLayout {
    public static let kindValue: UInt16 = 100
    public static let kind = 8
    public static let flags = 10
    public static let featureCount = 12
    public static let signal = 14
    public static let marketSequence = 16
    public static let exchangeTime = 24
    public static let instrument = 32
    public static let receiveTime = 40
    public static let publishTime = 48
    public static let livePrediction = 56
    public static let shadowPrediction = 64
    public static let modelId = 72
    public static let shadowModelId = 80
    public static let features = 96
    public static let defaultSlotSize = 256

    public static func maxFeatures(slotSize: Int) -> Int { (slotSize - features) / 8 }
}

/// A zero-copy view of a decision record. Invariant: `base` points at `slotSize` readable bytes.
public struct DecisionRecordView {
    public let base: UnsafeRawPointer
    @inlinable public init(_ base: UnsafeRawPointer) { self.base = base }

    @inlinable public var sequence: UInt64 { base.load(as: UInt64.self) }
    @inlinable public var flags: UInt16 { base.load(fromByteOffset: DecisionLayout.flags, as: UInt16.self) }
    @inlinable public var hasShadow: Bool { flags & 1 != 0 }
    @inlinable public var featureCount: Int {
        Int(base.load(fromByteOffset: DecisionLayout.featureCount, as: UInt16.self))
    }
    @inlinable public var signal: Int8 { base.load(fromByteOffset: DecisionLayout.signal, as: Int8.self) }
    @inlinable public var marketSequence: UInt64 {
        base.load(fromByteOffset: DecisionLayout.marketSequence, as: UInt64.self)
    }
    @inlinable public var exchangeTime: Int64 { base.load(fromByteOffset: DecisionLayout.exchangeTime, as: Int64.self) }
    @inlinable public var instrument: UInt32 { base.load(fromByteOffset: DecisionLayout.instrument, as: UInt32.self) }
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
    @inlinable public var modelId: UInt64 { base.load(fromByteOffset: DecisionLayout.modelId, as: UInt64.self) }
    @inlinable public var shadowModelId: UInt64 {
        base.load(fromByteOffset: DecisionLayout.shadowModelId, as: UInt64.self)
    }
    @inlinable public func feature(_ i: Int) -> Double {
        base.load(fromByteOffset: DecisionLayout.features + 8 * i, as: Double.self)
    }
}
