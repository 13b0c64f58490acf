/// The drift monitor's layered policy (`P.toml`, Docs/DRIFT.md "Policy"): levels of increasing
/// severity, each with thresholds per statistic, the consecutive windows that must breach, the
/// actions it takes and how often they may repeat; and the canary analysis's settings.
///
/// The policy is pure data: `PolicyState` runs it over windows; the monitor carries out what it
/// returns. It lives in its own target (on `Features`' TOML subset only) so that the fuzz build
/// compiles its reader alone.
public struct DriftPolicy: Sendable, Equatable {
    /// The levels in file order: the later, the more severe. The window's reported level is the
    /// most severe one that is active.
    public var levels: [PolicyLevel]
    /// Where `alert` appends its JSON lines (none: stdout only).
    public var alertsFile: String?
    /// Where `retrain` writes its request files (none: the current directory).
    public var retrainDirectory: String?
    /// The issuer of the control commands the monitor submits (at most 32 bytes).
    public var issuer: String
    /// Automatic canary analysis; nil: canaries are not judged.
    public var canary: CanaryPolicy?

    public init(
        levels: [PolicyLevel] = [],
        alertsFile: String? = nil,
        retrainDirectory: String? = nil,
        issuer: String = "drift",
        canary: CanaryPolicy? = nil
    ) {
        self.levels = levels
        self.alertsFile = alertsFile
        self.retrainDirectory = retrainDirectory
        self.issuer = issuer
        self.canary = canary
    }
}

/// A statistic a threshold compares: a distance breaches above its threshold, a p-value below it.
public enum PolicyStatistic: String, Sendable, CaseIterable, Equatable {
    case psi, kl, js, ks, w1
    case w1Norm = "w1_norm"
    case nanShare = "nan_share"
    case chi2
    case newShare = "new_share"
    case ksPValue = "ks_pvalue"
    case chi2PValue = "chi2_pvalue"
    /// The window's one-sided binomial test of the hit rate against the expected one (concept drift).
    case hitPValue = "hit_pvalue"

    /// A p-value breaches below its threshold; every other statistic above it.
    public var isPValue: Bool { self == .ksPValue || self == .chi2PValue || self == .hitPValue }

    /// The statistic is one per window (not per column).
    public var isWindowWide: Bool { self == .hitPValue }

    /// The values a threshold may take so that it can both breach and not breach: a share, a
    /// Jensen–Shannon distance (base 2) and a KS statistic lie in 0...1, so a threshold at 1 or
    /// above never breaches; a p-value threshold must be in (0, 1].
    public var allowed: (range: ClosedRange<Double>, openLow: Bool, openHigh: Bool) {
        switch self {
        case .ksPValue, .chi2PValue, .hitPValue: return (0...1, true, false)
        case .js, .ks, .nanShare, .newShare: return (0...1, false, true)
        case .psi, .kl, .w1, .w1Norm, .chi2: return (0...Double.greatestFiniteMagnitude, false, false)
        }
    }
}

/// Which columns a level's per-column thresholds look at.
public enum PolicyScope: String, Sendable, Equatable {
    /// Features and the prediction.
    case all
    case features
    case prediction
}

/// What a level does when it becomes active (and again after each cool-down while it stays so).
public enum PolicyAction: String, Sendable, CaseIterable, Equatable {
    /// A JSON line on stdout and in the alerts file, the alerts metric, optionally a command.
    case alert
    /// A retrain request file naming the version, the window and the statistics.
    case retrain
    /// Demote live to shadow (control verb `demote`).
    case shadow
    /// Roll back to the `champion` alias's previous version (control verb `rollback`).
    case rollback
}

/// One threshold of a level.
public struct PolicyThreshold: Sendable, Equatable {
    public var statistic: PolicyStatistic
    public var value: Double

    public init(_ statistic: PolicyStatistic, _ value: Double) {
        self.statistic = statistic
        self.value = value
    }

    /// Whether `x` breaches it; an undefined statistic (nil) never does.
    @inlinable public func breached(by x: Double?) -> Bool {
        guard let x, !x.isNaN else { return false }
        return statistic.isPValue ? x < value : x > value
    }
}

/// One level of the policy (`[level.NAME]`).
public struct PolicyLevel: Sendable, Equatable {
    public var name: String
    public var thresholds: [PolicyThreshold]
    /// `any`: one breached threshold makes the window breach the level; `all`: every threshold
    /// must be breached (each by at least one column in scope).
    public var requireAll: Bool
    public var scope: PolicyScope
    /// Windows in a row that must breach before the level becomes active (≥ 1).
    public var consecutive: Int
    /// Windows in a row without a breach before an active level clears (hysteresis, ≥ 1).
    public var clearWindows: Int
    /// While the level stays active, its actions repeat every this many windows; 0: not until it
    /// has cleared and become active again.
    public var cooldownWindows: Int
    /// At most this many firings of the level per run (nil: no limit).
    public var maxFirings: Int?
    public var actions: [PolicyAction]
    /// `alert` also runs this command (`/bin/sh -c`, the alert line on its standard input).
    public var alertCommand: String?

    public init(
        name: String,
        thresholds: [PolicyThreshold] = [],
        requireAll: Bool = false,
        scope: PolicyScope = .all,
        consecutive: Int = 1,
        clearWindows: Int = 1,
        cooldownWindows: Int = 0,
        maxFirings: Int? = nil,
        actions: [PolicyAction] = [],
        alertCommand: String? = nil
    ) {
        self.name = name
        self.thresholds = thresholds
        self.requireAll = requireAll
        self.scope = scope
        self.consecutive = consecutive
        self.clearWindows = clearWindows
        self.cooldownWindows = cooldownWindows
        self.maxFirings = maxFirings
        self.actions = actions
        self.alertCommand = alertCommand
    }
}

/// The canary analysis (`[canary]`): paired tests of canary against live on the same decisions.
public struct CanaryPolicy: Sendable, Equatable {
    /// Paired outcomes (decisions where both models gave a signal and the move was known and
    /// non-zero) needed before the tests judge.
    public var minPairs: Int
    /// The tests' significance level: McNemar (canary hits less) or Wilcoxon (canary P&L worse)
    /// below it fails the canary.
    public var alpha: Double
    /// Windows in a row in which the canary passed (after `minPairs`) before it is promoted.
    public var promoteWindows: Int
    /// The canary-routed decisions' tick-to-decision p99 may exceed the live-routed ones' by at
    /// most this factor (nil: no latency gate).
    public var maxLatencyRatio: Double?
    /// A failed canary is stopped (`canary 0`: no instrument routed to it); with this, the live
    /// model is also rolled back to the `champion` alias's previous version.
    public var rollbackOnFail: Bool

    public init(
        minPairs: Int = 200,
        alpha: Double = 0.05,
        promoteWindows: Int = 3,
        maxLatencyRatio: Double? = nil,
        rollbackOnFail: Bool = false
    ) {
        self.rollbackOnFail = rollbackOnFail
        self.minPairs = minPairs
        self.alpha = alpha
        self.promoteWindows = promoteWindows
        self.maxLatencyRatio = maxLatencyRatio
    }
}
