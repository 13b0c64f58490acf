import Foundation
import TestSupport

/// Runs `Tests/ParquetTests/parquet_readers.py ARGS` (pyarrow, DuckDB, polars) with a deadline.
func pythonReaders(_ args: [String], timeout: TimeInterval = 120) throws -> Child.Result {
    let script = TickBusTest.repositoryRoot.appendingPathComponent("Tests/ParquetTests/parquet_readers.py").path
    return try Child(["python3", script] + args, executable: "/usr/bin/env").wait(timeout: timeout)
}

/// Runs a Python script of this folder with a deadline.
func pythonScript(_ name: String, _ args: [String], timeout: TimeInterval = 300) throws -> Child.Result {
    let script = TickBusTest.repositoryRoot.appendingPathComponent("Tests/ParquetTests/\(name)").path
    return try Child(["python3", script] + args, executable: "/usr/bin/env").wait(timeout: timeout)
}

/// A JSON literal for a test's expected column values (Python's json reads NaN and Infinity).
func jsonNumber(_ d: Double) -> String {
    if d.isNaN { return "NaN" }
    if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
    return "\(d)"
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

func removeDirectory(_ url: URL) { try? FileManager.default.removeItem(at: url) }
