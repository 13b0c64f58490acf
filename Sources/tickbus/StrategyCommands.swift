import ArgumentParser

// STUB (issue 5): replace each command below with the real one.

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "features", abstract: "Not built yet (issue 5).", shouldDisplay: false)
    func run() throws { throw ValidationError("'features' is not built yet (issue 5)") }
}

struct StrategyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "strategy", abstract: "Not built yet (issue 5).", shouldDisplay: false)
    func run() throws { throw ValidationError("'strategy' is not built yet (issue 5)") }
}

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Not built yet (issue 5).", shouldDisplay: false)
    func run() throws { throw ValidationError("'model' is not built yet (issue 5)") }
}

struct ModelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Not built yet (issue 5).", shouldDisplay: false)
    func run() throws { throw ValidationError("'model' is not built yet (issue 5)") }
}

struct StrategyBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "strategy", abstract: "Not built yet (issue 5).", shouldDisplay: false)
    func run() throws { throw ValidationError("'strategy' is not built yet (issue 5)") }
}
