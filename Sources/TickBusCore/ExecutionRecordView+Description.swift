// The printed forms of the execution records (kinds 102–105), one line each, as `tap --print` and
// `journal cat` print them. Every line starts with the kind's name and `mseq=M inst=I t=T` (the
// header), then `key=value` fields; prices are in 1e-4 as in the market lines (`px=`), money in
// dollars. A layout version other than 1 ends the line in `layout=V`.

extension RecordHeaderView {
    /// `mseq=M inst=I t=T`.
    var headerText: String { "mseq=\(marketSequence) inst=\(instrument) t=\(exchangeTime)" }
    /// ` layout=V` when the record's layout version is not the one this build writes.
    func layoutSuffix(_ current: UInt8) -> String { layoutVersion == current ? "" : " layout=\(layoutVersion)" }
}

/// `B`, `S`, or `?` with the byte for anything else.
private func sideText(_ raw: UInt8) -> String {
    raw == Side.buy.rawValue ? "B" : raw == Side.sell.rawValue ? "S" : "?\(raw)"
}

/// The name at `raw` in `names`, else `<fallback><raw>`.
private func name(_ raw: UInt8, _ names: [String], _ fallback: String) -> String {
    Int(raw) < names.count ? names[Int(raw)] : "\(fallback)\(raw)"
}

extension OrderRecordView: CustomStringConvertible {
    /// `order mseq=M inst=I t=T id=ID action=<new|cancel> side=<B|S> px=P qty=Q tif=<DAY|IOC>
    /// reason=<policy reason|-> sent=S arrival=A model=<16 hex digits>`.
    public var description: String {
        let action = name(self.action, ["action0", "new", "cancel"], "action")
        let tif = name(self.tif, ["-", "DAY", "IOC"], "tif")
        let reason = policyReason?.description ?? "reason\(rawPolicyReason)"
        return
            "order \(headerText) id=\(orderId) action=\(action) side=\(sideText(rawSide)) px=\(price) qty=\(quantity) "
            + "tif=\(tif) reason=\(reason) sent=\(sentTime) arrival=\(arrivalTime) model=\(Hex.word(actingModelId))"
            + layoutSuffix(OrderRecordLayout.layoutVersionValue)
    }
}

extension OrderEventRecordView: CustomStringConvertible {
    /// `order_event mseq=M inst=I t=T id=ID event=<ack|reject|cancelled|cancel_rejected>
    /// reason=<reject reason|-> fee=F qty=Q event_t=E`.
    public var description: String {
        let event = name(self.event, OrderEventRecordLayout.eventNames, "event")
        let reason = name(self.reason, OrderEventRecordLayout.reasonNames, "reason")
        return
            "order_event \(headerText) id=\(orderId) event=\(event) reason=\(reason) fee=\(fee) qty=\(quantity) "
            + "event_t=\(eventTime)" + layoutSuffix(OrderEventRecordLayout.layoutVersionValue)
    }
}

extension FillRecordView: CustomStringConvertible {
    /// `fill mseq=M inst=I t=T id=ID side=<B|S> px=P qty=Q liquidity=<maker|taker> fee=F position=N
    /// cash=C remaining=R fill_t=E`.
    public var description: String {
        let liquidity = name(self.liquidity, ["liquidity0", "maker", "taker"], "liquidity")
        return
            "fill \(headerText) id=\(orderId) side=\(sideText(rawSide)) px=\(price) qty=\(quantity) "
            + "liquidity=\(liquidity) fee=\(fee) position=\(positionAfter) cash=\(cashAfter) remaining=\(remaining) "
            + "fill_t=\(fillTime)" + layoutSuffix(FillRecordLayout.layoutVersionValue)
    }
}

extension RiskRecordView: CustomStringConvertible {
    /// `risk mseq=M inst=I t=T code=<refused:max_position|refused:max_orders|refused:paused|
    /// paused:max_loss|resumed> value=V limit=L id=ID` (id 0: no order refused).
    public var description: String {
        let code = self.code?.description ?? "code\(rawCode)"
        return
            "risk \(headerText) code=\(code) value=\(value) limit=\(limit) id=\(orderId)"
            + layoutSuffix(RiskRecordLayout.layoutVersionValue)
    }
}
