/// Byte offsets of a decision record of layout version 1 (byte 15 zero), the layout before the
/// canary role: flags bit 0 meant "shadow present", model ids at 72 and 80, features at 96.
/// Readers tell the versions apart by byte 15 and print both (Docs/JOURNAL.md).
public enum DecisionLayoutV1 {
    public static let livePrediction = 56
    public static let shadowPrediction = 64
    public static let modelId = 72
    public static let shadowModelId = 80
    public static let features = 96
}

extension DecisionRecordView: CustomStringConvertible {
    /// One decision as `tap --print` and `journal cat` print it. The prefix
    /// `decision mseq=M inst=I t=T live=L shadow=S signal=G` is what tools parse; the role fields
    /// follow it: `canary=C model=<acting model id> live_model= shadow_model= canary_model=` (16 hex
    /// digits each) `pct=P roles=R`, R the role bits joined by `+` (`live`, `shadow`, `canary`,
    /// `acted`: routed to the canary, `paused`) or `-`. A layout-1 record ends in `layout=1`.
    public var description: String {
        if layoutVersion == 0 { return v1Description }
        let head =
            "decision mseq=\(marketSequence) inst=\(instrument) t=\(exchangeTime) live=\(livePrediction) "
            + "shadow=\(shadowPrediction) signal=\(signal)"
        let models =
            "canary=\(canaryPrediction) model=\(Hex.word(actingModelId)) live_model=\(Hex.word(modelId)) "
            + "shadow_model=\(Hex.word(shadowModelId)) canary_model=\(Hex.word(canaryModelId))"
        let version = layoutVersion == DecisionLayout.layoutVersionValue ? "" : " layout=\(layoutVersion)"
        return "\(head) \(models) pct=\(canaryPercent) roles=\(Self.roleNames(flags))\(version)"
    }

    /// The role bits as `live+shadow+canary+acted+paused` (those set), `-` when none is.
    public static func roleNames(_ flags: UInt16) -> String {
        var names: [String] = []
        if flags & DecisionFlags.live != 0 { names.append("live") }
        if flags & DecisionFlags.shadow != 0 { names.append("shadow") }
        if flags & DecisionFlags.canary != 0 { names.append("canary") }
        if flags & DecisionFlags.canaryActed != 0 { names.append("acted") }
        if flags & DecisionFlags.paused != 0 { names.append("paused") }
        return names.isEmpty ? "-" : names.joined(separator: "+")
    }

    /// A layout-1 record: a live model always, a shadow when bit 0 is set, no canary.
    var v1Description: String {
        let live = base.load(fromByteOffset: DecisionLayoutV1.livePrediction, as: Double.self)
        let shadow = base.load(fromByteOffset: DecisionLayoutV1.shadowPrediction, as: Double.self)
        let liveId = base.load(fromByteOffset: DecisionLayoutV1.modelId, as: UInt64.self)
        let shadowId = base.load(fromByteOffset: DecisionLayoutV1.shadowModelId, as: UInt64.self)
        let hasShadow = flags & 1 != 0
        return
            "decision mseq=\(marketSequence) inst=\(instrument) t=\(exchangeTime) live=\(live) shadow=\(shadow) "
            + "signal=\(signal) canary=nan model=\(Hex.word(liveId)) live_model=\(Hex.word(liveId)) "
            + "shadow_model=\(Hex.word(shadowId)) canary_model=\(Hex.word(0)) pct=0 "
            + "roles=\(hasShadow ? "live+shadow" : "live") layout=1"
    }
}

/// Lowercase hex for the printed forms of records.
enum Hex {
    /// 16 hex digits, most significant first (a 64-bit model id as `%016llx` prints it).
    static func word(_ v: UInt64) -> String {
        var s = ""
        s.reserveCapacity(16)
        for i in stride(from: 60, through: 0, by: -4) { s.append(VersionDigest.digits[Int((v >> UInt64(i)) & 15)]) }
        return s
    }
}
