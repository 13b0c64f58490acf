import ArgumentParser
import CTickBus
import Journal
import TickBusCore
#if canImport(Glibc)
import Glibc
#endif

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record rings into a journal directory (io_uring). Last line: recorded=N gaps=G lost=L.")

    @Option(help: "Bus name.") var bus: String
    @Option(help: "Comma-separated rings, e.g. market,decisions.S.") var rings: String = "market"
    @Option(help: "Journal directory (created if needed).") var dir: String
    @Option(help: "never | interval | block") var fsync: String = "never"
    @Flag(help: "Gating reader: the producer waits for the recorder (lossless; for replays).") var gating = false
    @Option(help: "start | now") var from: String = "start"
    @Option(name: .customLong("segment-mb"), help: "Rotate segment files at this size.") var segmentMB: Int = 1024
    @Option(name: .customLong("block-kb"), help: "Block buffer size in KiB (a multiple of 4).") var blockKB: Int = 1024
    @Option(help: "Block buffers (one filling, the rest in flight).") var buffers: Int = 8
    @Flag(help: "Open segment files with O_DIRECT.") var direct = false
    @Option(name: .customLong("flush-ms"), help: "Write a partly filled block once its first record is this old.") var flushMs: Double = 10
    @Option(name: .customLong("attach-timeout"), help: "Seconds to wait for each ring to exist.") var attachTimeout: Double = 30
    @Option(name: .customLong("delay-us"), help: "Sleep after each record (a slow recorder, for tests).") var delayUs: UInt32 = 0
    @Option(help: "Reader name in the reader table.") var name: String = "recorder"

    func run() throws {
        installStopSignalsUnblocked()
        guard let policy = FsyncPolicy(rawValue: fsync) else { throw ValidationError("--fsync must be never, interval or block") }
        var o = RecorderOptions()
        o.writer.fsync = policy
        o.writer.segmentBytes = UInt64(max(1, segmentMB)) << 20
        o.writer.blockBytes = blockKB * 1024
        o.writer.buffers = buffers
        o.writer.direct = direct
        o.writer.flushAfterNs = UInt64(max(0, flushMs) * 1e6)
        o.gating = gating
        o.attachTimeout = attachTimeout
        o.delayMicros = delayUs
        o.name = name
        o.start = try startPosition(from)
        let ringList = rings.split(separator: ",").map(String.init)
        guard !ringList.isEmpty else { throw ValidationError("--rings is empty") }
        let result: [RecordedRing]
        do {
            result = try Recorder.run(bus: bus, rings: ringList, directory: dir, options: o, stop: stopRequested,
                                      onAttached: { warn("record: recording \(ringList.joined(separator: ",")) of bus \(bus) into \(dir) (pid \(getpid()))") })
        } catch {
            warn("record: \(error)")
            throw ExitCode(2)
        }
        var total = JournalWriterStats()
        for r in result {
            let s = r.stats
            print("ring=\(r.ring) records=\(s.records) gaps=\(s.gapRecords) lost=\(s.lost) blocks=\(s.blocks) bytes=\(s.bytes) "
                  + "segments=\(s.segments) next_sequence=\(s.nextSequence) reason=\(r.reason) reader_lost=\(r.readerLost) registered_buffers=\(r.buffersRegistered)")
            total.records += s.records
            total.gapRecords += s.gapRecords
            total.lost += s.lost
        }
        print("recorded=\(total.records) gaps=\(total.gapRecords) lost=\(total.lost)")
        flushOut()
    }
}
