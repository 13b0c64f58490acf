extension ControlRecordView: CustomStringConvertible {
    /// One control record as `tap --print` and `journal cat` print it:
    /// `control cmd=<id> <verb> <applied|rejected[:code]> mseq=<first> live=<v> shadow=<v> canary=<v>
    /// pct=<percent> role=<role|-> paused=<bool>[ <message>]`. A role's `<v>` is its version id's first
    /// 12 hex digits, `model:<16 hex digits>` when the role holds a model without a registry version
    /// (started from model files), `-` when it is empty. The message (why it was rejected) is the rest
    /// of the line.
    public var description: String {
        let r = roles
        let verb = self.verb.map(\.description) ?? "command\(rawCommand)"
        let outcome =
            applied ? "applied" : "rejected:\(rejection.map(\.description) ?? "\(rawRejection)")"
        let rawRole = base.load(fromByteOffset: ControlRecordLayout.role, as: UInt8.self)
        let role = rawRole == 0 ? "-" : ModelRole(rawValue: rawRole).map(\.description) ?? "role\(rawRole)"
        let text = message
        return
            "control cmd=\(commandId) \(verb) \(outcome) mseq=\(firstMarketSequence) "
            + "live=\(Self.version(r.liveVersion, r.liveModelId)) shadow=\(Self.version(r.shadowVersion, r.shadowModelId)) "
            + "canary=\(Self.version(r.canaryVersion, r.canaryModelId)) pct=\(r.canaryPercent) role=\(role) "
            + "paused=\(r.paused)" + (text.isEmpty ? "" : " \(text)")
    }

    /// How a role prints: its version's 12-digit prefix, its model id, or `-`.
    static func version(_ v: VersionDigest, _ modelId: UInt64) -> String {
        if !v.isZero { return String(v.hex.prefix(12)) }
        return modelId == 0 ? "-" : "model:\(Hex.word(modelId))"
    }
}

extension ControlCommand: CustomStringConvertible {
    /// One command of ring `control` as `tap --print` and `journal cat` print it:
    /// `command cmd=<id> <verb> role=<role|-> pct=<percent> version=<12 hex|-> strategy=<name|*>
    /// issuer=<name> reason=<text>` (the reason is the rest of the line).
    public var description: String {
        "command cmd=\(commandId) \(verb) role=\(role.map(\.description) ?? "-") pct=\(percent) "
            + "version=\(version.isZero ? "-" : String(version.hex.prefix(12))) "
            + "strategy=\(strategy.isEmpty ? "*" : strategy) issuer=\(issuer) reason=\(reason)"
    }
}

/// The printed form of any ring slot, by the ring's schema (and, in a strategy's ring, by the
/// record's kind): what `tap --print` and `journal cat` print, one line per record.
public enum RecordText {
    /// The line for the slot at `p` of `slotSize` bytes in a ring of `schema`: a market message as
    /// `MarketMessageView` prints it; in `decisions.<name>` a decision (kind 100), a control
    /// record (101), an order (102), an order event (103), a fill (104), a risk event (105), or
    /// `record kind=K mseq=M inst=I t=T` for a kind this build does not know (or a slot too small
    /// for its kind); in `control` a command, or
    /// `command invalid: <why>` when it does not decode.
    public static func line(_ p: UnsafeRawPointer, slotSize: Int, schema: SchemaID) -> String {
        switch schema {
        case .market:
            return MarketMessageView(p).description
        case .decisions:
            let kind = p.load(fromByteOffset: RecordHeader.kind, as: UInt16.self)
            if kind == DecisionLayout.kindValue { return DecisionRecordView(p).description }
            if kind == ControlRecordLayout.kindValue, slotSize >= ControlRecordLayout.size {
                return ControlRecordView(p).description
            }
            if kind == OrderRecordLayout.kindValue, slotSize >= OrderRecordLayout.size {
                return OrderRecordView(p).description
            }
            if kind == OrderEventRecordLayout.kindValue, slotSize >= OrderEventRecordLayout.size {
                return OrderEventRecordView(p).description
            }
            if kind == FillRecordLayout.kindValue, slotSize >= FillRecordLayout.size {
                return FillRecordView(p).description
            }
            if kind == RiskRecordLayout.kindValue, slotSize >= RiskRecordLayout.size {
                return RiskRecordView(p).description
            }
            return
                "record kind=\(kind) mseq=\(p.load(fromByteOffset: RecordHeader.marketSequence, as: UInt64.self)) "
                + "inst=\(p.load(fromByteOffset: RecordHeader.instrument, as: UInt32.self)) "
                + "t=\(p.load(fromByteOffset: RecordHeader.exchangeTime, as: Int64.self))"
        case .control:
            do { return try ControlCommand.decode(p, size: slotSize).description } catch {
                return "command invalid: \(error)"
            }
        }
    }
}
