// fuzz-modules: TickBusCore Book Features DriftPolicy
// A drift policy file (P.toml) through `DriftPolicy.parse` and, when accepted, the policy run
// over a few windows of statistics (breaches, levels, firings), as `tickbus drift --policy` uses
// it. Nothing may trap on any accepted value.
import DriftPolicy

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDriftPolicy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let policy: DriftPolicy
    do { policy = try DriftPolicy.parse(text) } catch {
        _ = error.description
        _ = error.line
        return 0
    }
    var state = PolicyState(policy: policy)
    var fired = 0
    let values: [Double] = [0, 1e-300, 1e-4, 0.01, 0.05, 0.2, 0.5, 0.99, 1, 7, .nan, .infinity]
    for w in 0..<40 {
        var stats: [PolicyStatistic: Double] = [:]
        for (i, s) in PolicyStatistic.allCases.enumerated() { stats[s] = values[(w * 7 + i * 3) % values.count] }
        let input = PolicyInput(
            columns: [(true, stats), (false, [.psi: values[w % values.count]])],
            hitPValue: w % 3 == 0 ? nil : values[(w * 5) % values.count]
        )
        let (breached, breaches) = policy.evaluate(input)
        let step = state.step(breached: breached)
        fired += step.fired.count + breaches.count
        if let l = step.level { _ = policy.levels[l].name }
    }
    return fired == -1 ? 1 : 0
}
