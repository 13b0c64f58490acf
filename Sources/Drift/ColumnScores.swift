/// A numeric column's scores for one window against its baseline; nil where a statistic is
/// undefined (printed as JSON `null`): no value in the window (or none but NaN), an empty
/// baseline sample, a zero baseline standard deviation for `w1Norm`.
public struct NumericScores: Sendable, Equatable {
    /// Population stability index over the bins (NaN bin included), proportions floored at 1e-4.
    public var psi: Double?
    /// KL(window ‖ baseline) over the same floored proportions.
    public var kl: Double?
    /// Jensen–Shannon distance (base 2) of the raw bin proportions.
    public var js: Double?
    /// Two-sample Kolmogorov–Smirnov statistic over the non-NaN values.
    public var ks: Double?
    /// `kstwobign.sf(ks·√(m·n/(m+n)))`.
    public var ksPValue: Double?
    /// Wasserstein-1 over the non-NaN values.
    public var w1: Double?
    /// W1 divided by the baseline's standard deviation (ddof 0).
    public var w1Norm: Double?
    /// The window's share of NaN.
    public var nanShare: Double?

    public init(
        psi: Double? = nil,
        kl: Double? = nil,
        js: Double? = nil,
        ks: Double? = nil,
        ksPValue: Double? = nil,
        w1: Double? = nil,
        w1Norm: Double? = nil,
        nanShare: Double? = nil
    ) {
        self.psi = psi
        self.kl = kl
        self.js = js
        self.ks = ks
        self.ksPValue = ksPValue
        self.w1 = w1
        self.w1Norm = w1Norm
        self.nanShare = nanShare
    }
}

/// A categorical column's scores for one window; nil where undefined (no window value in the
/// baseline's categories, fewer than two categories for the p-value).
public struct CategoricalScores: Sendable, Equatable {
    /// Pearson's chi-squared over the baseline's categories, expected counts from the baseline's
    /// frequencies scaled to the window's count in those categories.
    public var chi2: Double?
    /// `chi2.sf(chi2, categories − 1)`.
    public var chi2PValue: Double?
    /// Share of the window's non-NaN values in categories the baseline never saw (not in chi2).
    public var newShare: Double?
    /// The window's share of NaN.
    public var nanShare: Double?

    public init(chi2: Double? = nil, chi2PValue: Double? = nil, newShare: Double? = nil, nanShare: Double? = nil) {
        self.chi2 = chi2
        self.chi2PValue = chi2PValue
        self.newShare = newShare
        self.nanShare = nanShare
    }
}

/// One column's scores for one window.
public enum ColumnScores: Sendable, Equatable {
    case numeric(NumericScores)
    case categorical(CategoricalScores)
}
