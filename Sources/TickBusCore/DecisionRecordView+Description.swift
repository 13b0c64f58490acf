extension DecisionRecordView: CustomStringConvertible {
    /// `decision mseq=M inst=I t=T live=L shadow=S signal=G`: one decision as `tap --print` and
    /// `journal cat` print it.
    public var description: String {
        "decision mseq=\(marketSequence) inst=\(instrument) t=\(exchangeTime) live=\(livePrediction) shadow=\(shadowPrediction) signal=\(signal)"
    }
}
