import ArgumentParser
import CTickBus
import Feed
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "synth", abstract: "Write synthetic data files.",
                                                    subcommands: [SynthITCHCommand.self])
}

struct SynthITCHCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "itch", abstract: "Write a valid ITCH 5.0 file (BinaryFILE framing) from the seeded synthetic flow.")
    @Option(help: "Seed of the synthetic flow.") var seed: UInt64 = 42
    @Option(help: "Number of ITCH messages to write.") var messages: UInt64
    @Option(help: "Output file.") var out: String

    func run() throws {
        do {
            let written = try ITCHWriter.writeSynthetic(seed: seed, messages: messages, path: out)
            print("wrote \(written) messages to \(out)")
        } catch { throw RuntimeFailure(error) }
    }
}
