import ArgumentParser

// STUB (issue 6): replace each command below with the real one.

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "record", abstract: "Not built yet (issue 6).", shouldDisplay: false)
    func run() throws { throw ValidationError("'record' is not built yet (issue 6)") }
}

struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "journal", abstract: "Not built yet (issue 6).", shouldDisplay: false)
    func run() throws { throw ValidationError("'journal' is not built yet (issue 6)") }
}

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay", abstract: "Not built yet (issue 6).", shouldDisplay: false)
    func run() throws { throw ValidationError("'replay' is not built yet (issue 6)") }
}

struct RecordBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "record", abstract: "Not built yet (issue 6).", shouldDisplay: false)
    func run() throws { throw ValidationError("'record' is not built yet (issue 6)") }
}
