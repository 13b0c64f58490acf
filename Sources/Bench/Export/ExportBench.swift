import CTickBus
import Export
import Feed
import Foundation
import Journal
import TickBusCore

/// `tickbus bench export`: the Parquet export rate of ring `market` (records/s and MB/s of journal
/// records) against pyarrow writing the same columns from numpy (`Tools/bench_export_pyarrow.py`, a
/// Python child serving rounds on stdin), in the same run, rounds interleaved, same ZSTD level and
/// row group size.
///
/// The TickBus side is the whole export (`JournalExport.run`: journal read and verified, columns
/// filled, encoded, compressed, written); the pyarrow side only `pq.write_table` of a table built
/// beforehand (untimed), so the ratio is conservative.
public enum ExportBench {
    public struct Options: Sendable {
        public var source = SourceSpec.synthetic(seed: 7)
        /// Messages of a synthetic source (ignored for files).
        public var messages = 2_000_000
        /// An existing journal to export instead of one recorded from `source`.
        public var journal: String?
        public var rounds = 5
        public var rowGroupRows = 131_072
        public var zstdLevel: Int32 = 1
        public init() {}
    }

    public struct Stats: Sendable {
        public var seconds: [Double] = []
        public var bytes = 0
        public var medianSeconds: Double { Rank.median(seconds) }
        public var maxSeconds: Double { seconds.max() ?? 0 }
    }

    public struct Outcome: Sendable {
        public var export = Stats(), pyarrow = Stats()
        public var records = 0
        public var recordBytes = 0
        public var rounds = 0
        public var rowGroupRows = 0
        public var zstdLevel: Int32 = 1
        public var source = ""
    }

    /// Writes the decoded messages of `spec` as a sealed journal of ring `market` in `dir`.
    static func record(_ spec: SourceSpec, limit: Int, into dir: String) throws(BenchError) -> Int {
        let decoded = try SimBench.decode(spec, limit: limit)
        defer { decoded.release() }
        do {
            var w = try JournalWriter.create(
                directory: dir,
                ring: "market",
                bus: "bench-export",
                schema: .market,
                slotSize: 64,
                generation: 1,
                firstSequence: 0
            )
            for i in 0..<decoded.count { try w.append(decoded.view(i).base) }
            try w.seal(reason: .endOfSession)
        } catch { throw .invalid("recording the bench journal in \(dir): \(error)") }
        return decoded.count
    }

    public static func run(_ o: Options, progress: (String) -> Void = { _ in }) throws(BenchError) -> Outcome {
        guard o.rounds >= 1 else { throw .invalid("--rounds must be at least 1") }
        guard let root = BenchProcess.repositoryRoot(containing: "bench_export_pyarrow.py") else {
            throw .invalid("cannot find Tools/bench_export_pyarrow.py (run from the repository)")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tickbus-bench-export-\(getpid())")
            .path
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var out = Outcome()
        out.rounds = o.rounds
        out.rowGroupRows = o.rowGroupRows
        out.zstdLevel = o.zstdLevel
        let journal: String
        if let j = o.journal {
            journal = j
            out.source = "journal:\(j)"
        } else {
            journal = scratch + "/journal"
            progress("bench export: recording \(o.source.kind):\(o.source.argument) into a journal")
            _ = try record(o.source, limit: o.messages, into: journal)
            out.source = "\(o.source.kind):\(o.source.argument)"
        }
        let python = try PythonServer(
            script: root + "/Tools/bench_export_pyarrow.py",
            arguments: [journal, scratch + "/pyarrow.parquet", "\(o.rowGroupRows)", "\(o.zstdLevel)"]
        )
        let ready = try python.line()
        guard ready.hasPrefix("ready records="), let n = Int(ready.dropFirst("ready records=".count)) else {
            throw .child("the pyarrow baseline did not start: \(ready)")
        }
        out.records = n
        out.recordBytes = n * 64
        enum Contender: CaseIterable { case export, pyarrow }
        try InterleavedRounds.run(rounds: o.rounds, Contender.allCases) { (round, c) throws(BenchError) in
            switch c {
            case .export:
                var eo = JournalExport.Options(journal: journal, ring: "market", out: scratch + "/tickbus")
                eo.rowGroupRows = o.rowGroupRows
                eo.zstdLevel = o.zstdLevel
                let t0 = tb_monotonic_ns()
                let s: JournalExport.Summary
                do { s = try JournalExport.run(eo) } catch { throw .invalid("export: \(error)") }
                out.export.seconds.append(Double(tb_monotonic_ns() - t0) / 1e9)
                out.export.bytes = Int(s.bytes)
                guard Int(s.records) == n else {
                    throw .invalid("export wrote \(s.records) records, the journal has \(n)")
                }
            case .pyarrow:
                try python.send("run")
                let line = try python.line()
                let kv = keyValues(line)
                guard let sec = kv["seconds"].flatMap(Double.init), let b = kv["bytes"].flatMap(Int.init) else {
                    throw .child("pyarrow baseline: \(line)")
                }
                out.pyarrow.seconds.append(sec)
                out.pyarrow.bytes = b
            }
            progress("bench export: round \(round + 1)/\(o.rounds) \(c) done")
        }
        try? python.send("quit")
        python.finish()
        return out
    }

    static func keyValues(_ line: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in line.split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
        }
        return out
    }
}

/// A Python child serving a benchmark's rounds: lines in on stdin, lines out on stdout. Killed by
/// the benchmark that started it (deinit), never by name.
final class PythonServer {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    var buffer: [UInt8] = []

    init(script: String, arguments: [String]) throws(BenchError) {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        process.standardInput = input
        process.standardOutput = output
        do { try process.run() } catch { throw .child("cannot start python3 \(script): \(error)") }
    }

    func send(_ line: String) throws(BenchError) {
        do { try input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8)) } catch {
            throw .child("the python baseline exited: \(error)")
        }
    }

    /// The next line of its stdout; fails when it exits first.
    func line() throws(BenchError) -> String {
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let l = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return l
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw .child("the python baseline exited (status \(status))") }
            buffer.append(contentsOf: chunk)
        }
    }

    var status: String {
        if process.isRunning { return "running" }
        return "\(process.terminationStatus)"
    }

    func finish() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
