/// `add --examples X.csv`: input rows and the library's own outputs, written after training by
/// `Tools/export_examples.py`. A header line names the columns: the model's inputs, then the
/// outputs as `prediction` (one) or `prediction_0`, `prediction_1`, … ; an empty field or `nan`
/// is NaN; numbers as `%.17g`.
public struct ExampleRows: Sendable {
    public var inputNames: [String]
    public var inputs: [[Double]]
    public var outputs: [[Double]]

    public init(bytes: [UInt8], what: String) throws(RegistryError) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        guard let header = lines.first else { throw .malformed(what: what, reason: "empty examples file") }
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
        guard let firstOutput = names.firstIndex(where: { $0.hasPrefix("prediction") }) else {
            throw .malformed(
                what: what,
                reason: "header has no 'prediction' column (written by Tools/export_examples.py?)"
            )
        }
        guard names[firstOutput...].allSatisfy({ $0.hasPrefix("prediction") }) else {
            throw .malformed(what: what, reason: "prediction columns must come after every input column")
        }
        var inputs: [[Double]] = []
        var outputs: [[Double]] = []
        for (n, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == names.count else {
                throw .malformed(
                    what: "\(what):\(n + 2)",
                    reason: "\(fields.count) fields, the header has \(names.count)"
                )
            }
            var row: [Double] = []
            for (c, f) in fields.enumerated() {
                let t = f.trimmingSpaces
                if t.isEmpty || t.lowercased() == "nan" {
                    row.append(.nan)
                    continue
                }
                guard let v = Double(t) else {
                    throw .malformed(what: "\(what):\(n + 2)", reason: "column \(names[c]): '\(t)' is not a number")
                }
                row.append(v)
            }
            inputs.append(Array(row[..<firstOutput]))
            outputs.append(Array(row[firstOutput...]))
        }
        guard !inputs.isEmpty else { throw .malformed(what: what, reason: "no example rows after the header") }
        self.inputNames = Array(names[..<firstOutput])
        self.inputs = inputs
        self.outputs = outputs
    }
}
