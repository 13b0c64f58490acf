import ArgumentParser
import Demo

/// `tickbus demo`: the whole session in separate processes, replayed and checked (`DemoSession`).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run feed → strategy → recorder (and taps) in separate processes, replay, print a summary."
    )

    @Option(help: "Seed of the generated ITCH data.") var seed: UInt64 = 42
    @Option(help: "ITCH messages to generate.") var messages: Int = 200_000
    // Slow enough (about 4 s) that the canary, promotion and rollback land mid-session.
    @Option(help: "Feed rate in messages per second.") var rate: Double = 60_000
    @Option(help: "Feature definition.") var features: String = "Recordings/synthetic-5/features.toml"
    @Option(help: "Model file.") var model: String = "Recordings/synthetic-5/model.json"
    @Option(help: "Directory for the session's journal.") var record: String?
    @Option(help: "Seconds before every child is killed.") var timeout: Double = 180

    func run() throws {
        var o = DemoSession.Options()
        o.seed = seed
        o.messages = messages
        o.rate = rate
        o.features = features
        o.model = model
        o.record = record
        o.timeout = timeout
        let ok: Bool
        do { ok = try DemoSession.run(o, say: { print($0) }) } catch {
            // A child or directory the system refused was ArgumentParser's plain `Error:` (exit 1); the rest exit 64.
            switch error {
            case .spawn, .setup: throw RuntimeFailure(error, status: ExitStatus.error)
            case .missingFile, .synthFailed, .ringMissing, .step: throw RuntimeFailure(error)
            }
        }
        if !ok { throw ExitCode(1) }
    }
}

/// The bench commands still in this target (`bench ring`'s child) find the executable through
/// `DemoChild.executable`; they move to `Bench`, and this alias goes with them.
typealias DemoChild = Demo.DemoChild
