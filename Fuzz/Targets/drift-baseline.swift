// fuzz-modules: TickBusCore Book Features Drift
// A drift baseline file through `DriftBaseline(bytes:path:)` (what `tickbus drift` and the registry
// read). Properties: a refusal is a `.format` error naming a field and an offset inside the file;
// an accepted file re-encodes to exactly its bytes and reads back equal; then every column scores
// windows made from the input (its own sample, shifted, with NaN, ±inf, extremes and the input's
// bytes as doubles) through one reused `WindowScorer`, and every score is in its range.
import Drift

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDriftBaseline(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    let baseline: DriftBaseline
    do { baseline = try DriftBaseline(bytes: bytes, path: "input") } catch {
        guard case .format(_, let field, let offset, _) = error else {
            preconditionFailure("not a format error: \(error)")
        }
        precondition(!field.isEmpty && offset >= 0 && offset <= size, "\(field) at \(offset) of \(size) bytes")
        _ = error.description
        return 0
    }
    let again: [UInt8]
    do { again = try baseline.encoded() } catch {
        preconditionFailure("an accepted baseline does not encode: \(error)")
    }
    precondition(again == bytes, "an accepted baseline re-encodes to other bytes")
    precondition((try? DriftBaseline(bytes: again, path: "again")) == baseline, "re-read differs")

    var raw: [Double] = []
    var i = 0
    while i + 8 <= size {
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(bytes[i + k]) << (8 * k) }
        raw.append(Double(bitPattern: v))
        i += 8
    }
    let extremes: [Double] = [.nan, .infinity, -.infinity, 0, -0.0, 1e308, -1e308, .leastNonzeroMagnitude]
    var scorer = WindowScorer(capacity: 4)
    for column in baseline.columns {
        let windows: [[Double]] = [
            [], column.sortedSample, column.sortedSample.map { $0 + 1 }, extremes, Array(raw.prefix(64)),
            [.nan, .nan], column.categoryValues + [12345],
        ]
        for w in windows {
            check(scorer.score(w, against: column))
        }
    }
    return 0
}

func inUnit(_ x: Double?) -> Bool { x.map { $0 >= 0 && $0 <= 1 } ?? true }

func check(_ s: ColumnScores) {
    switch s {
    case .numeric(let n):
        precondition(inUnit(n.ks) && inUnit(n.ksPValue) && inUnit(n.nanShare) && inUnit(n.js), "\(n)")
        precondition(n.psi.map { $0 >= 0 } ?? true, "PSI below 0: \(n)")
        precondition(n.w1.map { !($0 < 0) } ?? true, "W1 below 0: \(n)")
    case .categorical(let c):
        precondition(inUnit(c.chi2PValue) && inUnit(c.newShare) && inUnit(c.nanShare), "\(c)")
        precondition(c.chi2.map { $0 >= 0 } ?? true, "chi2 below 0: \(c)")
    }
}
