import ArgumentParser

struct RingBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ring", abstract: "Ring throughput and one-way latency across two processes, against a C ring.")
    func run() throws { throw ValidationError("not yet") }
}

struct RingBenchChild: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ring-child", shouldDisplay: false)
    func run() throws {}
}
