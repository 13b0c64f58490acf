import TickBusCore

#if canImport(Glibc)
import Glibc
#endif

/// `tickbus journal verify|cat|info`: what each prints about a journal directory, line by line
/// (the lines are contracts: tools outside the repository parse them).
public enum JournalInspection {
    /// The rings of `directory`: all of them, or only `only`.
    /// - Throws: `JournalError` when the directory cannot be read, holds no journal, or lacks `only`.
    public static func rings(_ directory: String, only: String?) throws(JournalError) -> [String] {
        let all = try JournalDirectory.rings(directory).map(\.ring)
        if all.isEmpty { throw .noJournal(directory: directory) }
        if let only {
            guard all.contains(only) else { throw .ringNotFound(directory: directory, ring: only) }
            return [only]
        }
        return all
    }

    /// Reads every block of every ring given, printing its gaps, its counts and where and why it
    /// stops being valid, then `verified rings=… ok=BOOL`.
    /// - Returns: true only when every ring is valid and sealed, its seal agreeing with its records.
    public static func verify(directory: String, rings: [String], line: (String) -> Void) -> Bool {
        var ok = true
        var records: UInt64 = 0
        var gaps: UInt64 = 0
        var lost: UInt64 = 0
        for r in rings {
            let reader: JournalReader
            do { reader = try JournalReader(directory: directory, ring: r) } catch {
                ok = false
                line(
                    "ring=\(r) status=stopped reason=\(error.reasonCode) file=\(error.location?.file ?? directory) offset=\(error.location?.offset ?? 0) records=0"
                )
                line("  why: \(error)")
                continue
            }
            reader.readToEnd { e in
                if case .gap(let from, let count) = e { line("gap ring=\(r) from=\(from) count=\(count)") }
            }
            records += reader.records
            gaps += reader.gapRecords
            lost += reader.lost
            var text =
                "ring=\(r) schema=\(reader.schema) segments=\(reader.segments.count) blocks=\(reader.blocks) records=\(reader.records) "
                + "gaps=\(reader.gapRecords) lost=\(reader.lost) first=\(reader.header.firstSequence) next=\(reader.nextSequence)"
            if let e = reader.stopError {
                ok = false
                let loc = e.location
                text +=
                    " status=stopped reason=\(e.reasonCode) file=\(loc?.file ?? reader.location.file) offset=\(loc?.offset ?? reader.location.offset)"
                line(text)
                line("  why: \(e)")
            } else if let s = reader.seal {
                text += " status=sealed reason=\(s.reason)"
                if s.nextSequence != reader.nextSequence {
                    ok = false
                    text += " seal_mismatch=true"
                }
                line(text)
            }
        }
        line("verified rings=\(rings.count) records=\(records) gaps=\(gaps) lost=\(lost) ok=\(ok)")
        return ok
    }

    /// Prints the records of `reader` from its position up to sequence `to` (inclusive; nil: the
    /// end) as `tap --print` does (`RecordText`: market messages, decisions, control records,
    /// commands), each prefixed by `seq=N`; gaps as `gap from=F count=C`.
    /// - Returns: why the journal stopped early, nil when it ended cleanly or reached `to`.
    public static func cat(_ reader: JournalReader, to: UInt64?, line: (String) -> Void) -> JournalError? {
        loop: while let e = reader.next() {
            switch e {
            case .record(let p):
                let seq = p.load(as: UInt64.self)
                if let to, seq > to { break loop }
                line("seq=\(seq) \(RecordText.line(p, slotSize: reader.slotSize, schema: reader.schema))")
            case .gap(let f, let c):
                if let to, f > to { break loop }
                line("gap from=\(f) count=\(c)")
            }
        }
        if let to, reader.nextSequence > to { return nil }
        return reader.stopError
    }

    /// One line describing `ring`: header, file bytes, blocks, index entries, sequence and
    /// exchange-time ranges, seal (or why it stopped); `ring=R invalid: …` when it cannot be opened.
    public static func info(directory: String, ring r: String) -> String {
        let reader: JournalReader
        do { reader = try JournalReader(directory: directory, ring: r) } catch { return "ring=\(r) invalid: \(error)" }
        let h = reader.header
        var firstTime: Int64?
        var lastTime: Int64 = 0
        let timeOffset = JournalFormat.exchangeTimeOffset(h.schema)
        reader.readToEnd { e in
            if case .record(let p) = e, let o = timeOffset {
                let t = p.load(fromByteOffset: o, as: Int64.self)
                if firstTime == nil { firstTime = t }
                lastTime = t
            }
        }
        var bytes: UInt64 = 0
        for s in reader.segments {
            var st = stat()
            if stat(directory + "/" + JournalFormat.segmentFileName(ring: r, segment: s), &st) == 0 {
                bytes += UInt64(st.st_size)
            }
        }
        let index = (try? JournalIndexFile.load(directory: directory, ring: r)).map { "\($0.count)" } ?? "none"
        return
            "ring=\(r) bus=\(h.bus) schema=\(h.schema) slot_size=\(h.slotSize) version=\(h.version) generation=\(h.generation) "
            + "created_ns=\(h.createdRealtimeNs) segments=\(reader.segments.count) bytes=\(bytes) blocks=\(reader.blocks) index_entries=\(index) "
            + "first_sequence=\(h.firstSequence) next_sequence=\(reader.nextSequence) records=\(reader.records) gaps=\(reader.gapRecords) "
            + "lost=\(reader.lost) first_time=\(firstTime ?? 0) last_time=\(lastTime) "
            + (reader.seal.map { "sealed=true reason=\($0.reason)" }
                ?? "sealed=false stopped=\(reader.stopError?.reasonCode ?? "?")")
    }
}
