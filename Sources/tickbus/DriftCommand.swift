import ArgumentParser

/// `tickbus drift`: the drift monitor and its baselines (Docs/DRIFT.md). The monitor itself (live
/// and journal) is its own part; this parent lists the subcommands.
struct DriftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Drift statistics against frozen baselines, and the drift monitor.",
        subcommands: [DriftBaselineCommand.self]
    )
}
