import Foundation
import Parquet
import TestSupport
import Testing

/// Bad input to the reader: a file cut short, a corrupt footer, a page header that points beyond its
/// chunk, a page whose decompressed size differs from its header. Each is a clear, typed error that
/// names the file and what is wrong, never a trap.
@Suite struct ParquetReaderErrorTests {
    /// A small ZSTD file of 300 rows in 2 row groups, and its bytes.
    static func sample(compress: Bool = true) throws -> [UInt8] {
        let dir = TickBusTest.temporaryDirectory("parquet-bad")
        defer { removeDirectory(dir) }
        let path = dir.appendingPathComponent("s.parquet").path
        try ParquetWriterTests.Sample(rows: 300, seed: 3).write(path, rowGroupRows: 200, compress: compress)
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func refuses(_ bytes: [UInt8], _ check: (ParquetError) -> Bool, _ comment: Comment) {
        do {
            let f = try ParquetFile(bytes: bytes, path: "bad.parquet")
            for c in 0..<f.columns.count { _ = try f.read(column: c) }
            Issue.record("accepted: \(comment) (\(bytes.count) bytes)")
        } catch {
            #expect(check(error), "\(comment): \(error)")
            #expect("\(error)".hasPrefix("bad.parquet: "), "the error names the file: \(error)")
        }
    }

    @Test("a file cut short anywhere is refused; cut before 12 bytes it says how long it had to be")
    func cutShort() throws {
        let good = try Self.sample()
        _ = try ParquetFile(bytes: good, path: "good.parquet")
        for n in [0, 4, 11] {
            refuses(Array(good.prefix(n)), { if case .cutShort(_, n, 12) = $0 { true } else { false } }, "cut at \(n)")
        }
        for n in stride(from: 12, to: good.count, by: max(1, good.count / 97)) {
            refuses(Array(good.prefix(n)), { if case .missingEndMagic = $0 { true } else { false } }, "cut at \(n)")
        }
        let e = ParquetError.missingEndMagic(path: "f.parquet", size: 100)
        #expect("\(e)" == "f.parquet: cut short or corrupt: no PAR1 magic at the end (offset 96 of 100 bytes)")
    }

    @Test("a corrupt footer: its length beyond the file, garbage in its Thrift bytes, a bad magic")
    func corruptFooter() throws {
        let good = try Self.sample()
        let n = good.count
        var long = good
        let len = UInt32(n)  // longer than the file can hold
        for k in 0..<4 { long[n - 8 + k] = UInt8(truncatingIfNeeded: len >> (8 * UInt32(k))) }
        refuses(long, { if case .badFooterLength(_, len, n) = $0 { true } else { false } }, "footer length \(len)")

        var magic = good
        magic[1] = 0x5A  // "PZR1"
        refuses(magic, { if case .badMagic(_, 0) = $0 { true } else { false } }, "bad leading magic")

        // Every byte of the footer overwritten in turn: each is refused or reads consistently, never a trap.
        let footerLength = Int(good[n - 8]) | Int(good[n - 7]) << 8 | Int(good[n - 6]) << 16 | Int(good[n - 5]) << 24
        var refused = 0
        for at in (n - 8 - footerLength)..<(n - 8) {
            var b = good
            b[at] ^= 0xFF
            do {
                let f = try ParquetFile(bytes: b, path: "bad.parquet")
                for c in 0..<f.columns.count { _ = try f.read(column: c) }
            } catch { refused += 1 }
        }
        #expect(refused > footerLength / 2, "most corrupt footers are refused (\(refused) of \(footerLength))")
        // A footer cut to its first half: the Thrift decoder says where it ended.
        var half = Array(good[..<(n - 8 - footerLength / 2)])
        let l = UInt32(footerLength / 2)
        half += [UInt8(truncatingIfNeeded: l), UInt8(truncatingIfNeeded: l >> 8), 0, 0] + Array("PAR1".utf8)
        refuses(half, { if case .corruptMetadata(_, "footer", _, _) = $0 { true } else { false } }, "half a footer")
    }

    /// The file with the first data page header of column 0 re-encoded by `change` (same length).
    static func withPageHeader(_ good: [UInt8], _ change: (inout PageHeader) -> Void) throws -> [UInt8] {
        let f = try ParquetFile(bytes: good, path: "good.parquet")
        let at = Int(f.metadata.rowGroups[0].columns[0].meta!.dataPageOffset)
        var header: PageHeader = try good.withUnsafeBytes { all in
            var r = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: all[at...]))
            return try PageHeader.decode(&r)
        }
        let before = header.encode()
        change(&header)
        let after = header.encode()
        #expect(after.count == before.count, "the test keeps the header's length")
        var b = good
        b.replaceSubrange(at..<(at + before.count), with: after)
        return b
    }

    @Test("a page header pointing beyond its chunk, a page decompressing to another size")
    func badPages() throws {
        let good = try Self.sample()
        let beyond = try Self.withPageHeader(good) { $0.compressedPageSize = 8_000 }
        refuses(beyond, { if case .pageBeyondFile(_, "i64", _, 8_000, _) = $0 { true } else { false } }, "page beyond")
        let mismatch = try Self.withPageHeader(good) { $0.uncompressedPageSize += 1 }
        refuses(
            mismatch,
            { if case .decompressedSizeMismatch(_, "i64", _, _, _) = $0 { true } else { false } },
            "decompressed size"
        )
        let plain = try Self.sample(compress: false)
        let shortPlain = try Self.withPageHeader(plain) { $0.uncompressedPageSize -= 1 }
        refuses(shortPlain, { if case .decompressedSizeMismatch = $0 { true } else { false } }, "uncompressed sizes")
    }
}
