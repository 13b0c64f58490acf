import ArgumentParser

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Run feed → ring → readers on the bundled sample and print a summary.")
    func run() throws { throw ValidationError("not yet") }
}
