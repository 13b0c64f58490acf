import ArgumentParser
import Bench

/// `tickbus bench …`: every benchmark prints percentiles and a ratio against a baseline measured
/// in the same run; `--json` prints one object `{"bench", "result", "baseline", "ratio"}`. The
/// benchmarks themselves live in the `Bench` target; these commands only parse options.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks against a baseline measured in the same run.",
        subcommands: [
            RingBenchCommand.self, RingBenchChild.self, RingInstructionsCommand.self, FeedBenchCommand.self,
            ModelBenchCommand.self,
            StrategyBenchCommand.self, StrategyInstructionsCommand.self, RecordBenchCommand.self,
            ControlBenchCommand.self, SimBenchCommand.self,
            DriftActionBenchCommand.self, DriftBenchCommand.self,
            BacktestBenchCommand.self, ExportBenchCommand.self, RepublishBenchCommand.self,
        ]
    )
}

/// Runs a benchmark; a `BenchError` is a runtime failure: its message on stderr, exit status 1,
/// no usage banner (the arguments were fine).
func runBenchmark<T>(_ body: () throws(BenchError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        warn("error: \(error)")
        throw ExitCode(1)
    }
}

/// Prints a benchmark's outcome: its `--json` report or its text table.
func printBench<R: Encodable, B: Encodable, Q: Encodable, C: Encodable>(
    _ report: BenchReport<R, B, Q, C>,
    text: String,
    json: Bool
) {
    print(json ? report.json : text)
    flushOut()
}
