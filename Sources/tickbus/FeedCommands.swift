import ArgumentParser

// STUB (issue 4): replace each command below with the real one.

struct BookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "book", abstract: "Not built yet (issue 4).", shouldDisplay: false)
    func run() throws { throw ValidationError("'book' is not built yet (issue 4)") }
}

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "synth", abstract: "Not built yet (issue 4).", shouldDisplay: false)
    func run() throws { throw ValidationError("'synth' is not built yet (issue 4)") }
}

struct MoldUDP64Command: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "moldudp64", abstract: "Not built yet (issue 4).", shouldDisplay: false)
    func run() throws { throw ValidationError("'moldudp64' is not built yet (issue 4)") }
}

struct FeedBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "feed", abstract: "Not built yet (issue 4).", shouldDisplay: false)
    func run() throws { throw ValidationError("'feed' is not built yet (issue 4)") }
}
