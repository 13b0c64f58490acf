import Models

/// A CSV of feature rows, the input of `tickbus model predict`: a header of names, then numbers;
/// an empty field or `nan` is missing.
public struct FeatureCSV {
    public var names: [String]
    public var rows: [[Double]]

    /// Reads and parses the whole file (load time, not the hot path).
    /// - Throws: `FeatureCSVError` naming the file, the line and the column.
    public static func read(_ path: String) throws(FeatureCSVError) -> FeatureCSV {
        let bytes: [UInt8]
        do { bytes = try ModelFile.read(path) } catch { throw .unreadable(path: path, cause: error) }
        return try parse(String(decoding: bytes, as: UTF8.self), path: path)
    }

    /// Parses CSV text; `path` names the source in errors.
    public static func parse(_ text: String, path: String) throws(FeatureCSVError) -> FeatureCSV {
        // "\r\n" is one Character in Swift: split on every line break, so CRLF files read as LF ones.
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
        guard !lines.isEmpty else { throw .empty(path: path) }
        let names = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map { String(trimmed($0)) }
        var rows: [[Double]] = []
        rows.reserveCapacity(lines.count)
        for (i, line) in lines.enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == names.count else {
                throw .fieldCount(path: path, line: i + 2, found: fields.count, header: names.count)
            }
            var row: [Double] = []
            row.reserveCapacity(fields.count)
            for (k, f) in fields.enumerated() {
                let t = trimmed(f)
                if t.isEmpty || t.lowercased() == "nan" { row.append(.nan); continue }
                guard let v = Double(t) else { throw .notANumber(path: path, line: i + 2, column: names[k], text: String(t)) }
                row.append(v)
            }
            rows.append(row)
        }
        return FeatureCSV(names: names, rows: rows)
    }

    /// Column order that feeds the model: by name when the header holds every model feature name,
    /// else by position when the counts agree.
    public func columns(for model: Model) throws(FeatureCSVError) -> [Int] {
        let want = model.featureNames
        if want.allSatisfy({ names.contains($0) }) { return want.map { names.firstIndex(of: $0)! } }
        guard names.count == model.numFeatures else {
            throw .columns(found: names.count, expected: model.numFeatures, names: want)
        }
        return Array(0..<names.count)
    }

    /// The model's outputs for every row (`numOutputs` values each), columns matched by `columns(for:)`.
    /// - Parameter raw: raw scores (margins) instead of the library's default predict output.
    public func predictions(_ model: Model, raw: Bool) throws(FeatureCSVError) -> [[Double]] {
        let cols = try columns(for: model)
        var x = [Double](repeating: .nan, count: model.numFeatures)
        var out = [Double](repeating: 0, count: max(model.numOutputs, 1))
        var result: [[Double]] = []
        result.reserveCapacity(rows.count)
        for row in rows {
            for (k, c) in cols.enumerated() { x[k] = row[c] }
            x.withUnsafeBufferPointer { xb in
                // Safe: x holds numFeatures doubles and out at least numOutputs, what predict reads and writes.
                out.withUnsafeMutableBufferPointer { ob in model.predict(xb.baseAddress!, into: ob.baseAddress!, raw: raw) }
            }
            result.append(out)
        }
        return result
    }

    /// Spaces and tabs stripped from both ends (Foundation's `.whitespaces` on ASCII input).
    static func trimmed(_ s: Substring) -> Substring {
        var t = s
        while let c = t.first, c == " " || c == "\t" { t = t.dropFirst() }
        while let c = t.last, c == " " || c == "\t" { t = t.dropLast() }
        return t
    }
}

/// What is wrong with a feature CSV, and where.
public enum FeatureCSVError: Error, CustomStringConvertible {
    case unreadable(path: String, cause: ModelError)
    case empty(path: String)
    case fieldCount(path: String, line: Int, found: Int, header: Int)
    case notANumber(path: String, line: Int, column: String, text: String)
    /// Neither the names nor the count of the columns match the model's features.
    case columns(found: Int, expected: Int, names: [String])

    public var description: String {
        switch self {
        case .unreadable(let path, _): return "cannot read \(path)"
        case .empty(let path): return "\(path): empty file (expected a header row of feature names)"
        case .fieldCount(let path, let line, let found, let header): return "\(path) line \(line): \(found) fields, header has \(header)"
        case .notANumber(let path, let line, let column, let text): return "\(path) line \(line), column \(column): '\(text)' is not a number"
        case .columns(let found, let expected, let names):
            return "input has \(found) columns, the model expects \(expected) features (\(names.joined(separator: ",")))"
        }
    }
}
