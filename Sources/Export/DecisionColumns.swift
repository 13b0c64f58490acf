import Parquet
import TickBusCore

/// The column indices of the decision table and how a decision record (kind 100, layouts 1 and 2)
/// fills them: `journal cat`'s fields (`DecisionRecordView.description`), then the times, the feature
/// count `n` and the features `f0…` (null past the record's count).
struct DecisionColumns {
    let seq, mseq, inst, t, live, shadow, signal, canary, model, liveModel, shadowModel, canaryModel, pct: Int
    let roles, layout, eventTime, receive, publish, n, firstFeature, features, gap: Int
    let midnight: Int64
    /// `roles=` of each value of the five role bits.
    let roleNames: [String]

    init(_ table: ExportTable, features: Int, midnight: Int64) {
        let c = table.index
        seq = c("seq")
        mseq = c("mseq")
        inst = c("inst")
        t = c("t")
        live = c("live")
        shadow = c("shadow")
        signal = c("signal")
        canary = c("canary")
        model = c("model")
        liveModel = c("live_model")
        shadowModel = c("shadow_model")
        canaryModel = c("canary_model")
        pct = c("pct")
        roles = c("roles")
        layout = c("layout")
        eventTime = c("event_time")
        receive = c("receive_t")
        publish = c("publish_t")
        n = c("n")
        firstFeature = features > 0 ? c("f0") : 0
        self.features = features
        gap = c("gap")
        self.midnight = midnight
        roleNames = (0..<32).map { DecisionRecordView.roleNames(UInt16($0)) }
    }

    /// Where the features of a record of this layout start.
    static func featureOffset(_ p: UnsafeRawPointer) -> Int {
        DecisionRecordView(p).layoutVersion == 0 ? DecisionLayoutV1.features : DecisionLayout.features
    }

    /// The features a record holds: its count, cut to what its slot can hold.
    static func featureCount(_ p: UnsafeRawPointer, slotSize: Int) -> Int {
        let room = max(0, (slotSize - featureOffset(p)) / 8)
        return min(DecisionRecordView(p).featureCount, room)
    }

    func fill(_ w: ParquetWriter, _ p: UnsafeRawPointer, slotSize: Int) {
        let d = DecisionRecordView(p)
        w.uint64(seq, d.sequence)
        w.uint64(mseq, d.marketSequence)
        w.uint32(inst, d.instrument)
        let time = d.exchangeTime
        w.int64(t, time)
        let (at, overflow) = midnight.addingReportingOverflow(time)
        if !overflow { w.int64(eventTime, at) }
        w.int64(receive, d.receiveTime)
        w.int64(publish, d.publishTime)
        w.int32(signal, Int32(d.signal))
        if d.layoutVersion == 0 {
            // Layout 1 as `journal cat` prints it: a live model always, a shadow when bit 0 is set.
            let liveId = p.load(fromByteOffset: DecisionLayoutV1.modelId, as: UInt64.self)
            w.double(live, p.load(fromByteOffset: DecisionLayoutV1.livePrediction, as: Double.self))
            w.double(shadow, p.load(fromByteOffset: DecisionLayoutV1.shadowPrediction, as: Double.self))
            w.double(canary, .nan)
            hex(w, model, liveId)
            hex(w, liveModel, liveId)
            hex(w, shadowModel, p.load(fromByteOffset: DecisionLayoutV1.shadowModelId, as: UInt64.self))
            hex(w, canaryModel, 0)
            w.int32(pct, 0)
            w.string(roles, d.flags & 1 != 0 ? "live+shadow" : "live")
            w.int32(layout, 1)
        } else {
            w.double(live, d.livePrediction)
            w.double(shadow, d.shadowPrediction)
            w.double(canary, d.canaryPrediction)
            hex(w, model, d.actingModelId)
            hex(w, liveModel, d.modelId)
            hex(w, shadowModel, d.shadowModelId)
            hex(w, canaryModel, d.canaryModelId)
            w.int32(pct, Int32(d.canaryPercent))
            w.string(roles, roleNames[Int(d.flags & 31)])
            w.int32(layout, Int32(d.layoutVersion))
        }
        let count = Self.featureCount(p, slotSize: slotSize)
        w.int32(n, Int32(d.featureCount))
        let base = Self.featureOffset(p)
        for k in 0..<min(count, features) {
            w.double(firstFeature + k, p.loadUnaligned(fromByteOffset: base + 8 * k, as: Double.self))
        }
    }

    /// A 64-bit id as 16 lowercase hex digits (`journal cat`'s form), without building a String.
    func hex(_ w: ParquetWriter, _ c: Int, _ v: UInt64) {
        var digits: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &digits) { b in
            for i in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: v >> UInt64(60 - 4 * i)) & 15
                b[i] = nibble < 10 ? 48 + nibble : 87 + nibble
            }
            w.bytes(c, UnsafeRawBufferPointer(b))
        }
    }
}
