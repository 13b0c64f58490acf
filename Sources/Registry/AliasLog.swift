/// The append-only log of one NAME@ALIAS: `aliases/NAME@ALIAS.log` (one entry per line) and
/// `aliases/NAME@ALIAS.head` (`{"count":N,"last":"<hash>"}`), which catches a cut tail.
///
/// This file holds only the reading of the two files' bytes (`check`); reading the files, the
/// hash and appending are in `AliasLog+File.swift`, so that the reader compiles without
/// Foundation and swift-crypto (the `alias-log` fuzz harness builds it alone).
public struct AliasLog: Sendable {
    public let name: String
    public let alias: String
    let logPath: String
    let headPath: String

    /// The head file's content for a log of `count` entries ending in `last`.
    static func head(count: Int, last: String) -> [UInt8] {
        CanonicalJSON.object(["count": .integer(count), "last": .string(last)]).bytes
    }

    /// The log's lines without their newlines (none for an empty log).
    /// - Throws: `RegistryError.malformed` when the last line has no newline (a cut or partial write).
    func lines(of bytes: [UInt8]) throws(RegistryError) -> [[UInt8]] {
        guard !bytes.isEmpty else { return [] }
        guard bytes.last == 10 else {
            throw .malformed(what: logPath, reason: "last line has no newline (a cut or partial write)")
        }
        return bytes.dropLast().split(separator: 10, omittingEmptySubsequences: false).map(Array.init)
    }

    /// Every entry of a log whose file holds `log` (empty when absent) and whose head file holds
    /// `head` (nil when absent), checked: each line parses, `seq` counts from 0, each `prev` is
    /// the hash of the line before (`AliasEntry.genesis` first), every entry is for this
    /// NAME@ALIAS, and the head names the count and the last line's hash.
    /// - Parameter hash: the hash of a line, as 64 lowercase hex digits (the registry's sha256).
    /// - Throws: `RegistryError.malformed` naming the line (`log:N`) or the head file and what is wrong.
    func check(log: [UInt8], head: [UInt8]?, hash: ([UInt8]) -> String) throws(RegistryError) -> [AliasEntry] {
        var out: [AliasEntry] = []
        var prev = AliasEntry.genesis
        for (i, line) in try lines(of: log).enumerated() {
            let what = "\(logPath):\(i + 1)"
            let e = try AliasEntry(line: line, what: what)
            guard e.seq == i else {
                throw .malformed(
                    what: what,
                    reason: "seq is \(e.seq), expected \(i) (an entry was removed or inserted)"
                )
            }
            guard e.prev == prev else {
                throw .malformed(
                    what: what,
                    reason: "prev is \(e.prev), but the entry before hashes to \(prev) (edited or removed entry)"
                )
            }
            guard e.name == name, e.alias == alias else {
                throw .malformed(what: what, reason: "entry is for \(e.name)@\(e.alias), not \(name)@\(alias)")
            }
            prev = hash(line)
            out.append(e)
        }
        let want = Self.head(count: out.count, last: prev)
        if !out.isEmpty || head != nil {
            let found = head ?? []
            guard found == want else {
                throw .malformed(
                    what: headPath,
                    reason:
                        "head says \(String(decoding: found, as: UTF8.self)), the log has \(String(decoding: want, as: UTF8.self)) (entries cut or added)"
                )
            }
        }
        return out
    }
}
