import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// `tickbus`: the one executable. Each area's commands live in their own file.
@main
struct TickBusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tickbus",
        abstract: "A shared-memory market-data bus with embedded models.",
        subcommands: [
            FeedCommand.self, TapCommand.self, RingsCommand.self, RmCommand.self, DemoCommand.self, BenchCommand.self,
            BookCommand.self, SynthCommand.self, MoldUDP64Command.self, RepublishCommand.self,
            FeaturesCommand.self, StrategyCommand.self, ModelCommand.self,
            RecordCommand.self, JournalCommand.self, ExportCommand.self, ReplayCommand.self, SimCommand.self,
            BacktestCommand.self, MetricsCommand.self, StatCommand.self, RegistryCommand.self, ControlCLICommand.self,
            DriftCommand.self,
        ]
    )

    /// Parses and runs one command. Wrong arguments (parse and validation errors) print the usage
    /// banner through ArgumentParser; a `RuntimeFailure` prints only its message and exits with its
    /// status; any other error is ArgumentParser's `Error: …`, exit 1.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as RuntimeFailure {
            flushOut()
            warn("Error: \(failure.message)")
            Glibc.exit(failure.status)
        } catch {
            exit(withError: error)
        }
    }
}
