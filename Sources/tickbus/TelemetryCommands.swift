import ArgumentParser

// STUB (issue 7): replace each command below with the real one.

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "metrics", abstract: "Not built yet (issue 7).", shouldDisplay: false)
    func run() throws { throw ValidationError("'metrics' is not built yet (issue 7)") }
}

struct StatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stat", abstract: "Not built yet (issue 7).", shouldDisplay: false)
    func run() throws { throw ValidationError("'stat' is not built yet (issue 7)") }
}
