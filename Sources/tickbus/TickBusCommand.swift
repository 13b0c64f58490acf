import ArgumentParser

/// `tickbus`: the one executable. Each area's commands live in their own file.
@main
struct TickBusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tickbus",
        abstract: "A shared-memory market-data bus with embedded models.",
        subcommands: [
            FeedCommand.self, TapCommand.self, RingsCommand.self, RmCommand.self, DemoCommand.self, BenchCommand.self,
            BookCommand.self, SynthCommand.self, MoldUDP64Command.self,
            FeaturesCommand.self, StrategyCommand.self, ModelCommand.self,
            RecordCommand.self, JournalCommand.self, ReplayCommand.self,
            MetricsCommand.self, StatCommand.self,
        ]
    )
}
