import CLightGBMBaseline
import CMallocCounter
import CTickBus
import Foundation
import Models

/// `tickbus bench model`: single-row evaluation of a LightGBM text model, ours against LightGBM's
/// own `LGBM_BoosterPredictForMatSingleRowFast` (dlopen'ed from the wheel's lib_lightgbm.so),
/// interleaved round by round, every call on a different row. By default the bench model
/// (500 trees × 63 leaves, 32 features), trained once by `Tools/make_bench_model.py` — found
/// through the executable's or the source's checkout, so the command runs from any directory;
/// with `modelPath`/`rowsPath`, any LightGBM text model and float64 rows (row-major, the feature
/// count taken from the model).
public enum ModelBench {
    public struct Options: Sendable {
        /// Directory of the bench model (trained there when absent).
        public var dir = "/tmp/tickbus-bench"
        public var trainScript = "Tools/make_bench_model.py"
        /// A user's model and rows instead of the bench model.
        public var modelPath: String?
        public var rowsPath: String?
        /// lib_lightgbm.so (default: the one recorded by the training script, else the installed wheel's).
        public var lib: String?
        public var rounds = 21
        public var calls = 4000
        public var lightgbm = LightGBMOptions.default
        public init() {}
    }

    /// Medians over rounds (the first round warms both and is dropped).
    public struct Outcome: Sendable {
        public var ours: Percentiles
        public var baseline: Percentiles
        public var mallocsPerEval: Double
        public var maxRelativeError: Double
        public var maxRelativeErrorPython: Double?
        public var trees: Int
        public var features: Int
        public var rows: Int
        public var modelPath: String
        public var options: Options
    }

    public static func run(_ o: Options) throws(BenchError) -> Outcome {
        guard o.rounds >= 2, o.calls >= 1 else { throw .invalid("--rounds must be at least 2 and --calls at least 1") }
        let modelPath: String
        let rowsPath: String
        let expectedPath: String?
        switch (o.modelPath, o.rowsPath) {
        case (let m?, let r?): (modelPath, rowsPath, expectedPath) = (m, r, nil)
        case (nil, nil):
            (modelPath, rowsPath, expectedPath) = (o.dir + "/lgb500.txt", o.dir + "/rows.f64", o.dir + "/expected.txt")
            try trainIfMissing(o, modelPath, rowsPath)
        default: throw .invalid("--model and --rows go together")
        }
        let so = try lightGBMLibrary(o)
        let loaded: LoadedModel
        do { loaded = try Model.load(path: modelPath, lightgbm: o.lightgbm) } catch {
            throw .model(path: modelPath, error)
        }
        guard case .lightgbm(let lgbm) = loaded.model else {
            throw .invalid("\(modelPath) is not a LightGBM text model")
        }
        let f = lgbm.numFeatures
        let k = lgbm.numOutputs
        let rows = try readRows(rowsPath, features: f, minimum: o.modelPath == nil ? 1024 : 1)
        let nRows = rows.count / f

        var err = [CChar](repeating: 0, count: 512)
        guard tb_lgbm_open(so, modelPath, Int32(f), 0, &err, 512) == 0 else {
            throw .child(
                "baseline: " + String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            )
        }
        defer { tb_lgbm_close() }
        guard Int(tb_lgbm_num_outputs()) == k else {
            throw .check("LightGBM reports \(tb_lgbm_num_outputs()) outputs, we load \(k)")
        }
        let a = UnsafeMutablePointer<Double>.allocate(capacity: k)
        let b = UnsafeMutablePointer<Double>.allocate(capacity: k)
        defer {
            a.deallocate()
            b.deallocate()
        }

        // Equality first: ours, LightGBM's C API (and the Python predictions of the bench model) on every row.
        let expected = expectedPath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }?.split(separator: "\n")
            .compactMap { Double($0) }
        func relative(_ x: Double, _ y: Double) -> Double {
            x == y ? 0 : abs(x - y) / max(abs(y), .leastNormalMagnitude)
        }
        var worst = 0.0
        var worstPython = 0.0
        rows.withUnsafeBufferPointer { r in
            for i in 0..<nRows {
                // Safe: i < nRows and rows holds nRows * f values.
                let x = r.baseAddress! + i * f
                lgbm.predict(x, into: a)
                _ = tb_lgbm_predict(x, b)
                for j in 0..<k { worst = max(worst, relative(a[j], b[j])) }
                if let expected, i < expected.count, k == 1 {
                    worstPython = max(worstPython, relative(a[0], expected[i]))
                }
            }
        }
        guard worst <= 1e-12, worstPython <= 1e-12 else {
            throw .check(
                "predictions differ from LightGBM: max relative error \(worst) (C API), \(worstPython) (Python)"
            )
        }

        // A fixed pseudo-random order of rows, so consecutive calls never repeat a row.
        var order = Array(0..<nRows)
        var rng = SystemRandomNumberGenerator()
        order.shuffle(using: &rng)
        var oursRounds: [Percentiles] = []
        var baseRounds: [Percentiles] = []
        var samples = [UInt64](repeating: 0, count: o.calls)
        var mallocs: UInt64 = 0
        var evaluations: UInt64 = 0
        var sink = 0.0
        var cursor = 0
        InterleavedRounds.run(rounds: o.rounds, [true, false]) { (round, ours) in
            rows.withUnsafeBufferPointer { r in
                order.withUnsafeBufferPointer { ord in
                    samples.withUnsafeMutableBufferPointer { out in
                        let m0 = tb_thread_malloc_count()
                        for c in 0..<o.calls {
                            // Safe: every index of `order` is a row below nRows.
                            let x = r.baseAddress! + ord[(cursor + c) % nRows] * f
                            let t0 = tb_monotonic_ns()
                            if ours { lgbm.predict(x, into: a) } else { _ = tb_lgbm_predict(x, b) }
                            out[c] = tb_monotonic_ns() &- t0
                        }
                        if ours {
                            mallocs &+= tb_thread_malloc_count() &- m0
                            evaluations &+= UInt64(o.calls)
                        }
                    }
                }
            }
            sink += a[0] + b[0]
            if round > 0 {  // round 0 warms caches and the branch predictors of both
                if ours {
                    oursRounds.append(Percentiles(sorting: &samples))
                } else {
                    baseRounds.append(Percentiles(sorting: &samples))
                }
            }
            if ours == (round % 2 == 1) { cursor = (cursor + o.calls) % nRows }
        }
        if sink == .infinity { print(sink) }
        return Outcome(
            ours: .median(oursRounds),
            baseline: .median(baseRounds),
            mallocsPerEval: Double(mallocs) / Double(max(evaluations, 1)),
            maxRelativeError: worst,
            maxRelativeErrorPython: expected == nil ? nil : worstPython,
            trees: lgbm.numTrees,
            features: f,
            rows: nRows,
            modelPath: modelPath,
            options: o
        )
    }

    /// Trains the bench model into `o.dir` with the repository's script, once.
    static func trainIfMissing(_ o: Options, _ model: String, _ rows: String) throws(BenchError) {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: model) || !fm.fileExists(atPath: rows) else { return }
        let script = BenchProcess.resolve(o.trainScript)
        guard fm.fileExists(atPath: script) else {
            throw .invalid(
                "bench model: no model in \(o.dir) and no training script at \(o.trainScript) (pass --train-script, or --model and --rows)"
            )
        }
        FileHandle.standardError.write(
            Data("bench model: training the bench model into \(o.dir) with \(script) (once; a few minutes)\n".utf8)
        )
        let status = try python([script, o.dir]).status
        guard status == 0 else { throw .child("\(script) failed (status \(status))") }
    }

    /// lib_lightgbm.so: the option, else the path the training script recorded, else the installed wheel's.
    static func lightGBMLibrary(_ o: Options) throws(BenchError) -> String {
        if let lib = o.lib { return lib }
        if let recorded = try? String(contentsOfFile: o.dir + "/lightgbm.txt", encoding: .utf8) {
            let path = recorded.trimmingCharacters(in: .whitespacesAndNewlines)
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        let found = try python([
            "-c",
            "import lightgbm, os; print(os.path.join(os.path.dirname(lightgbm.__file__), 'lib', 'lib_lightgbm.so'))",
        ])
        let path = found.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard found.status == 0, !path.isEmpty else {
            throw .invalid("bench model: no lib_lightgbm.so (pass --lib, or pip install lightgbm)")
        }
        return path
    }

    static func python(_ args: [String]) throws(BenchError) -> (status: Int32, output: String) {
        let r = try BenchProcess.capture("/usr/bin/env", ["python3"] + args)
        return (r.status, String(decoding: r.output, as: UTF8.self))
    }

    /// Float64 rows, little-endian, row-major, `features` per row.
    static func readRows(_ path: String, features f: Int, minimum: Int) throws(BenchError) -> [Double] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .invalid("\(path): cannot read the rows: \(error)")
        }
        guard data.count % (8 * f) == 0 else {
            throw .invalid(
                "\(path): \(data.count) bytes is not a whole number of rows of \(f) float64 features (\(8 * f) bytes each)"
            )
        }
        let n = data.count / (8 * f)
        guard n >= minimum else { throw .invalid("\(path): \(n) rows, at least \(minimum) needed") }
        var rows = [Double](repeating: 0, count: n * f)
        rows.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0..<dst.count])) }
        }
        return rows
    }
}
