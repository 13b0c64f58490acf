/// The policy run over windows: which levels breach, which are active, and when a level fires.
///
/// A level becomes active after `consecutive` breaching windows in a row and fires its actions
/// then; while it stays active it fires again every `cooldownWindows` windows (never, with 0);
/// it clears after `clearWindows` windows in a row without a breach (hysteresis), and only then
/// can become active, and fire, again. `maxFirings` caps its firings over the run.
public struct PolicyState: Sendable {
    public let policy: DriftPolicy
    struct Level: Sendable {
        var breaching = 0
        var clear = 0
        var active = false
        var sinceFiring = 0
        var firings = 0
    }
    var levels: [Level]

    public init(policy: DriftPolicy) {
        self.policy = policy
        levels = Array(repeating: Level(), count: policy.levels.count)
    }

    /// What one window did to the policy.
    public struct Step: Sendable, Equatable {
        /// Per level (policy order): did this window breach it.
        public var breached: [Bool]
        /// The most severe active level after this window, nil for none.
        public var level: Int?
        /// The levels that fire now (policy order), each with its actions.
        public var fired: [Int]
    }

    /// Feeds one window's breaches (per level, policy order) and returns what it changes.
    public mutating func step(breached: [Bool]) -> Step {
        var fired: [Int] = []
        for i in levels.indices {
            let rule = policy.levels[i]
            var s = levels[i]
            if breached[i] {
                s.breaching += 1
                s.clear = 0
            } else {
                s.clear += 1
                s.breaching = 0
            }
            if s.active { s.sinceFiring += 1 }
            let underCap = rule.maxFirings.map { s.firings < $0 } ?? true
            if !s.active {
                if s.breaching >= rule.consecutive {
                    s.active = true
                    if underCap { fire(&s, i, &fired) }
                }
            } else if s.clear >= rule.clearWindows {
                s.active = false
            } else if breached[i], rule.cooldownWindows > 0, s.sinceFiring >= rule.cooldownWindows, underCap {
                fire(&s, i, &fired)
            }
            levels[i] = s
        }
        let level = levels.lastIndex(where: { $0.active })
        return Step(breached: breached, level: level, fired: fired)
    }

    private func fire(_ s: inout Level, _ i: Int, _ fired: inout [Int]) {
        s.firings += 1
        s.sinceFiring = 0
        fired.append(i)
    }

    /// Whether level `i` is active now.
    public func isActive(_ i: Int) -> Bool { levels[i].active }

    /// Firings of level `i` so far.
    public func firings(_ i: Int) -> Int { levels[i].firings }
}

/// A window's statistics as the policy reads them: per column, a value per statistic.
public struct PolicyInput: Sendable {
    /// Per column: whether it is a feature (false: the prediction), and its statistics.
    public var columns: [(isFeature: Bool, values: [PolicyStatistic: Double])]
    /// The window's hit-rate p-value (nil when no outcome was known).
    public var hitPValue: Double?

    public init(columns: [(isFeature: Bool, values: [PolicyStatistic: Double])] = [], hitPValue: Double? = nil) {
        self.columns = columns
        self.hitPValue = hitPValue
    }
}

/// One breach of a threshold: which level, statistic, column (nil for the window's own) and value.
public struct PolicyBreach: Sendable, Equatable {
    public var level: Int
    public var statistic: PolicyStatistic
    public var column: Int?
    public var value: Double
    public var threshold: Double
}

extension DriftPolicy {
    /// Which levels the window breaches, and every breach behind them.
    public func evaluate(_ input: PolicyInput) -> (breached: [Bool], breaches: [PolicyBreach]) {
        var breached = [Bool](repeating: false, count: levels.count)
        var all: [PolicyBreach] = []
        for (li, level) in levels.enumerated() {
            var hitEach = [Bool](repeating: false, count: level.thresholds.count)
            for (ti, t) in level.thresholds.enumerated() {
                if t.statistic.isWindowWide {
                    if t.breached(by: input.hitPValue), let v = input.hitPValue {
                        hitEach[ti] = true
                        all.append(
                            PolicyBreach(level: li, statistic: t.statistic, column: nil, value: v, threshold: t.value)
                        )
                    }
                    continue
                }
                for (ci, c) in input.columns.enumerated() {
                    switch level.scope {
                    case .features where !c.isFeature: continue
                    case .prediction where c.isFeature: continue
                    default: break
                    }
                    if let v = c.values[t.statistic], t.breached(by: v) {
                        hitEach[ti] = true
                        all.append(
                            PolicyBreach(level: li, statistic: t.statistic, column: ci, value: v, threshold: t.value)
                        )
                    }
                }
            }
            breached[li] = level.requireAll ? hitEach.allSatisfy { $0 } : hitEach.contains(true)
        }
        return (breached, all)
    }
}
