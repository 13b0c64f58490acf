import ArgumentParser
import Bench
import DriftBench

/// `tickbus bench drift`: one window of every feature scored against its baseline, against scipy
/// on the same numbers (see `DriftBench`).
struct DriftBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Per-window time of all drift statistics for every feature, against scipy on the same numbers."
    )
    @Option(help: "Features.") var features: Int = 100
    @Option(help: "Baseline rows per feature.") var baselineRows: Int = 100_000
    @Option(help: "Window rows per feature.") var windowRows: Int = 10_000
    @Option(help: "Rounds; each runs both contenders, in alternating order.") var rounds: Int = 3
    @Option(help: "Windows timed per round by tickbus.") var windows: Int = 20
    @Option(help: "Windows timed per round by scipy.") var scipyWindows: Int = 2
    @Option(help: "CPU both contenders run on (--cpu=-1: not pinned).") var cpu: Int = 1
    @Option(help: "The scipy contender's script.") var script: String = "Tools/drift_bench_scipy.py"
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var o = DriftBench.Options()
        o.features = features
        o.baselineRows = baselineRows
        o.windowRows = windowRows
        o.rounds = rounds
        o.tickbusWindows = windows
        o.scipyWindows = scipyWindows
        o.cpu = cpu
        o.script = script
        let outcome = try runBenchmark { () throws(BenchError) in try DriftBench.run(o) }
        printBench(outcome.report, text: outcome.text, json: json)
    }
}
