import Foundation

extension ExportBench {
    public struct StatsJSON: Encodable, Sendable {
        var recordsPerS: Int, mbPerS: Double, secondsMedian: Double, secondsMax: Double, bytes: Int
        init(_ s: Stats, records: Int, recordBytes: Int) {
            let t = s.medianSeconds
            recordsPerS = t > 0 ? Int(Double(records) / t) : 0
            mbPerS = t > 0 ? rounded(Double(recordBytes) / 1e6 / t, 1) : 0
            secondsMedian = rounded(t, 4)
            secondsMax = rounded(s.maxSeconds, 4)
            bytes = s.bytes
        }
        enum CodingKeys: String, CodingKey {
            case recordsPerS = "records_per_s"
            case mbPerS = "mb_per_s"
            case secondsMedian = "seconds_median"
            case secondsMax = "seconds_max"
            case bytes = "file_bytes"
        }
    }
    public struct ResultJSON: Encodable, Sendable { var export: StatsJSON }
    public struct BaselineJSON: Encodable, Sendable { var pyarrow: StatsJSON }
    public struct RatioJSON: Encodable, Sendable {
        var throughput: Double, size: Double
        enum CodingKeys: String, CodingKey {
            case throughput = "export_vs_pyarrow_records_per_s"
            case size = "export_vs_pyarrow_file_bytes"
        }
    }
    public struct ConfigJSON: Encodable, Sendable {
        var source: String, records: Int, rounds: Int, rowGroupRows: Int, zstdLevel: Int
        enum CodingKeys: String, CodingKey {
            case source, records, rounds
            case rowGroupRows = "row_group_rows"
            case zstdLevel = "zstd_level"
        }
    }
}

extension ExportBench.Outcome {
    public var report:
        BenchReport<ExportBench.ResultJSON, ExportBench.BaselineJSON, ExportBench.RatioJSON, ExportBench.ConfigJSON>
    {
        let e = ExportBench.StatsJSON(export, records: records, recordBytes: recordBytes)
        let p = ExportBench.StatsJSON(pyarrow, records: records, recordBytes: recordBytes)
        return BenchReport(
            bench: "export",
            result: .init(export: e),
            baseline: .init(pyarrow: p),
            ratio: .init(
                throughput: rounded(pyarrow.medianSeconds / export.medianSeconds, 3),
                size: rounded(Double(export.bytes) / Double(max(pyarrow.bytes, 1)), 3)
            ),
            config: .init(
                source: source,
                records: records,
                rounds: rounds,
                rowGroupRows: rowGroupRows,
                zstdLevel: Int(zstdLevel)
            )
        )
    }

    public var text: String {
        func f(_ x: Double, _ d: Int = 3) -> String { TextTable.fixed(x, d) }
        func row(_ name: String, _ s: ExportBench.Stats) -> String {
            let t = s.medianSeconds
            return "  " + TextTable.rightPad(name, 44) + TextTable.leftPad(String(Int(Double(records) / t)), 12)
                + TextTable.leftPad(f(Double(recordBytes) / 1e6 / t, 1), 9) + TextTable.leftPad(f(t), 9)
                + TextTable.leftPad(f(s.maxSeconds), 9) + TextTable.leftPad(String(s.bytes), 12)
        }
        return [
            "bench export: \(records) market records of \(source), \(rounds) rounds interleaved, "
                + "ZSTD level \(zstdLevel), \(rowGroupRows) rows per row group",
            "  contender                                      records/s     MB/s    s p50    s max  file bytes",
            row("tickbus export (journal → Parquet, whole)", export),
            row("pyarrow write_table (columns prebuilt)", pyarrow),
            "  ratio export / pyarrow records/s: \(f(pyarrow.medianSeconds / export.medianSeconds))  "
                + "(MB/s of 64-byte journal records; medians of the rounds)",
        ].joined(separator: "\n")
    }
}
