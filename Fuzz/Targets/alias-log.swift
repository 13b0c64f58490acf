// fuzz-modules: TickBusCore Book Features Models Registry
// An alias log (`aliases/NAME@ALIAS.log`, one canonical JSON entry per line) and its head file
// through the reader `history`, `show NAME@ALIAS`, `verify` and every alias move run
// (`AliasLog.check`, `AliasEntry(line:what:)`). The chain's hash is a parameter of the reader:
// the registry passes sha256 (swift-crypto, not built here); this harness passes a cheap
// 256-bit FNV-1a so that it can re-chain the input. Properties, beside "never traps":
// - an entry that is read re-encodes to exactly its line (the reader refuses anything the writer
//   would not have written: the next entry chains to the hash of those bytes);
// - a log that is accepted has one entry per line, `seq` 0, 1, 2…, and a head file naming the
//   count and the last line's hash; every refusal names the log line or the head file.
//
// Input: log, separator, head, separator, flags (Docs/FUZZING.md). Unless flags bit 0 is set,
// each line's `prev` is rewritten to the hash of the line before (64 zeros first); unless bit 1
// is set, the head file is the one the log's writer would have left (the given head is ignored;
// with bit 1 the given head is used, and no head part means no head file).
@testable import Registry

enum FuzzAliasLog {
    static let log = AliasLog(
        name: "alpha",
        alias: "champion",
        logPath: "aliases/alpha@champion.log",
        headPath: "aliases/alpha@champion.head"
    )
    static let prevKey = Array("\"prev\":\"".utf8)
    static let hexDigits = Array("0123456789abcdef".utf8)

    /// Four FNV-1a 64 lanes with different offsets: 64 lowercase hex digits.
    static func hash(_ b: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for lane in 0..<4 as Range<UInt64> {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (lane &* 0x9E37_79B9_7F4A_7C15)
            for c in b { h = (h ^ UInt64(c)) &* 0x0000_0100_0000_01B3 }
            for i in 0..<16 { out.append(hexDigits[Int(h >> (60 - 4 * UInt64(i)) & 15)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The line with the 64 bytes after its first `"prev":"` replaced by `prev`.
    static func rechain(_ line: [UInt8], prev: String) -> [UInt8] {
        let k = prevKey
        guard line.count >= k.count + 64 else { return line }
        for at in 0...(line.count - k.count - 64) where line[at] == k[0] && Array(line[at..<at + k.count]) == k {
            var out = line
            out.replaceSubrange((at + k.count)..<(at + k.count + 64), with: Array(prev.utf8))
            return out
        }
        return line
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAliasLog(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let parts = FuzzInput.parts(FuzzInput.bytes(data, size), limit: 3)
    let flags: UInt8 = parts.count > 2 ? parts[2].first ?? 0 : 0
    var logBytes = parts[0]
    var sink = 0
    let L = FuzzAliasLog.log

    // Each line on its own.
    let rawLines = logBytes.split(separator: 10, omittingEmptySubsequences: false).map(Array.init)
    var fixed: [[UInt8]] = []
    var prev = AliasEntry.genesis
    for (i, raw) in rawLines.enumerated() {
        let line = flags & 1 == 0 ? FuzzAliasLog.rechain(raw, prev: prev) : raw
        fixed.append(line)
        prev = FuzzAliasLog.hash(line)
        do {
            let e = try AliasEntry(line: line, what: "\(L.logPath):\(i + 1)")
            precondition(e.bytes == line, "an entry read does not re-encode to its line: \(e.json.text)")
            sink &+= e.seq &+ e.approvals.count
        } catch {
            precondition(error.description.hasPrefix("\(L.logPath):\(i + 1)"), "error without its line: \(error)")
            sink &+= error.description.utf8.count
        }
    }
    if flags & 1 == 0 { logBytes = Array(fixed.joined(separator: [10])) }

    // The whole log with its head.
    var head: [UInt8]?
    if flags & 2 != 0 {
        head = parts.count > 1 ? parts[1] : nil
    } else {
        let lines = (try? L.lines(of: logBytes)) ?? []
        head = AliasLog.head(count: lines.count, last: lines.last.map(FuzzAliasLog.hash) ?? AliasEntry.genesis)
    }
    do {
        let entries = try L.check(log: logBytes, head: head, hash: FuzzAliasLog.hash)
        let lines = try L.lines(of: logBytes)
        precondition(entries.count == lines.count, "\(entries.count) entries from \(lines.count) lines")
        var last = AliasEntry.genesis
        for (i, e) in entries.enumerated() {
            precondition(e.seq == i && e.prev == last && e.bytes == lines[i], "entry \(i) is not its line")
            last = FuzzAliasLog.hash(lines[i])
        }
        if !entries.isEmpty || head != nil {
            precondition(head == AliasLog.head(count: entries.count, last: last), "a head that does not match")
        }
        sink &+= entries.count
    } catch {
        let d = error.description
        precondition(d.hasPrefix(L.logPath) || d.hasPrefix(L.headPath), "error without its file: \(error)")
        sink &+= d.utf8.count
    }
    return sink == Int.min ? 1 : 0
}
