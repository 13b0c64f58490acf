import ArgumentParser
import Journal
import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

// `tickbus journal verify|cat|info`.

struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Verify, print and describe journals.",
        subcommands: [JournalVerifyCommand.self, JournalCatCommand.self, JournalInfoCommand.self]
    )
}

/// The rings of a journal directory (all, or the one asked for); exit 2 when there are none.
func journalRings(_ dir: String, only: String?) throws -> [String] {
    do { return try JournalInspection.rings(dir, only: only) } catch {
        warn("journal: \(error)")
        throw ExitCode(2)
    }
}

struct JournalVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Check every block of every file; list gaps; say where a file stops being valid and why. Exit 0 only when every ring is valid and sealed."
    )
    @Argument(help: "Journal directory.") var dir: String
    @Option(help: "Only this ring.") var ring: String?

    func run() throws {
        let ok = JournalInspection.verify(directory: dir, rings: try journalRings(dir, only: ring), line: { print($0) })
        flushOut()
        if !ok { throw ExitCode(1) }
    }
}

struct JournalCatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Print a ring's records (market: as `tap --print`, prefixed by seq=N)."
    )
    @Argument(help: "Journal directory.") var dir: String
    @Option(help: "Ring.") var ring: String = "market"
    @Option(help: "First sequence to print.") var from: UInt64?
    @Option(help: "Last sequence to print (inclusive).") var to: UInt64?

    func run() throws {
        _ = try journalRings(dir, only: ring)
        let reader: JournalReader
        do { reader = try JournalReader(directory: dir, ring: ring) } catch {
            warn("journal cat: \(error)")
            throw ExitCode(1)
        }
        if let from { reader.seek(sequence: from) }
        // Lines are gathered into ~64 KB writes: a large ring prints millions of them.
        var out = ""
        out.reserveCapacity(1 << 16)
        let stopped = JournalInspection.cat(reader, to: to) { line in
            out += line
            out += "\n"
            if out.utf8.count > 60_000 {
                print(out, terminator: "")
                out.removeAll(keepingCapacity: true)
            }
        }
        print(out, terminator: "")
        flushOut()
        if let stopped {
            warn("journal cat: stopped: \(stopped)")
            throw ExitCode(1)
        }
    }
}

struct JournalInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe each ring of a journal: header, counts, sequence and time ranges, seal."
    )
    @Argument(help: "Journal directory.") var dir: String

    func run() throws {
        for r in try journalRings(dir, only: nil) { print(JournalInspection.info(directory: dir, ring: r)) }
        flushOut()
    }
}
