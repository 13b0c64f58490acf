import ArgumentParser
import Bench
import CLightGBMBaseline
import CMallocCounter
import CTickBus
import Foundation
import Models

/// `tickbus bench model`: single-row evaluation of a 500-tree, 63-leaf LightGBM model, ours against
/// LightGBM's own `LGBM_BoosterPredictForMatSingleRowFast` (dlopen'ed from the wheel's lib_lightgbm.so),
/// interleaved round by round, every call on a different row.
struct ModelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Single-row LightGBM evaluation (500 trees, 63 leaves) against LightGBM's C API, same run.")

    @Option(help: "Directory of the bench model (trained there by Tools/make_bench_model.py when absent).") var dir: String = "/tmp/tickbus-bench"
    @Option(name: .customLong("train-script"), help: "Script that trains the bench model.") var trainScript: String = "Tools/make_bench_model.py"
    @Option(help: "lib_lightgbm.so (default: the lightgbm wheel's, found by the training script).") var lib: String?
    @Option(help: "Rounds (baseline and ours alternate every round).") var rounds: Int = 21
    @Option(help: "Calls per round, each on a different row.") var calls: Int = 4000
    @Flag(help: "Print one JSON object.") var json = false
    @Option(name: .customLong("evaluator"), help: "walk (16-wide binned walk) | quickscorer") var evaluator: String = "walk"
    @Option(help: "Trees walked together: 8 or 16.") var width: Int = 8
    @Option(name: .customLong("fixed-steps"), help: "Branch-free steps of the walk before per-tree finishing.") var fixedSteps: Int?

    func run() throws {
        let options = LightGBMOptions(width: width, fixedSteps: fixedSteps ?? LightGBMOptions.default.fixedSteps,
                                      quickScorer: evaluator == "quickscorer")
        let modelPath = dir + "/lgb500.txt", rowsPath = dir + "/rows.f64", libPath = dir + "/lightgbm.txt"
        if !FileManager.default.fileExists(atPath: modelPath) || !FileManager.default.fileExists(atPath: rowsPath) {
            warn("bench model: training the bench model into \(dir) (once; a few minutes)")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", trainScript, dir]
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw ValidationError("\(trainScript) failed (status \(p.terminationStatus))") }
        }
        let so = try lib ?? String(contentsOfFile: libPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let loaded: LoadedModel
        do { loaded = try Model.load(path: modelPath, lightgbm: options) } catch { throw ValidationError("\(error)") }
        guard case .lightgbm(let lgbm) = loaded.model else { throw ValidationError("\(modelPath) is not a LightGBM model") }
        let f = lgbm.numFeatures
        let data = try Data(contentsOf: URL(fileURLWithPath: rowsPath))
        let nRows = data.count / (8 * f)
        guard nRows >= 1024 else { throw ValidationError("\(rowsPath): \(nRows) rows") }
        var rows = [Double](repeating: 0, count: nRows * f)
        rows.withUnsafeMutableBytes { dst in data.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0..<dst.count])) } }

        var err = [CChar](repeating: 0, count: 512)
        guard tb_lgbm_open(so, modelPath, Int32(f), 0, &err, 512) == 0 else {
            throw ValidationError("baseline: " + String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { tb_lgbm_close() }

        // Equality first: ours, LightGBM's C API and the Python predictions on every row.
        let expected = try String(contentsOfFile: dir + "/expected.txt", encoding: .utf8).split(separator: "\n").map { Double($0)! }
        var worst = 0.0, worstPython = 0.0
        var a = 0.0, b = 0.0
        rows.withUnsafeBufferPointer { r in
            for i in 0..<nRows {
                let x = r.baseAddress! + i * f
                lgbm.predict(x, into: &a)
                _ = tb_lgbm_predict(x, &b)
                if a != b { worst = max(worst, abs(a - b) / abs(b)) }
                if i < expected.count, a != expected[i] { worstPython = max(worstPython, abs(a - expected[i]) / abs(expected[i])) }
            }
        }
        guard worst <= 1e-12, worstPython <= 1e-12 else {
            throw ValidationError("predictions differ from LightGBM: max relative error \(worst) (C API), \(worstPython) (Python)")
        }

        // A fixed pseudo-random order of rows, so consecutive calls never repeat a row.
        var order = Array(0..<nRows)
        var rng = SystemRandomNumberGenerator()
        order.shuffle(using: &rng)
        var oursRounds: [Percentiles] = [], baseRounds: [Percentiles] = []
        var samples = [UInt64](repeating: 0, count: calls)
        var mallocs: UInt64 = 0, evaluations: UInt64 = 0
        var sink = 0.0
        var cursor = 0
        for round in 0..<rounds {
            for subject in (round % 2 == 0 ? [0, 1] : [1, 0]) {
                rows.withUnsafeBufferPointer { r in
                    order.withUnsafeBufferPointer { o in
                        let m0 = tb_thread_malloc_count()
                        for c in 0..<calls {
                            let x = r.baseAddress! + o[(cursor + c) % nRows] * f
                            let t0 = tb_monotonic_ns()
                            if subject == 0 { lgbm.predict(x, into: &a) } else { _ = tb_lgbm_predict(x, &b) }
                            samples[c] = tb_monotonic_ns() &- t0
                        }
                        if subject == 0 {
                            mallocs &+= tb_thread_malloc_count() &- m0
                            evaluations &+= UInt64(calls)
                        }
                    }
                }
                sink += a + b
                if round > 0 {  // round 0 warms caches and the branch predictors of both
                    if subject == 0 { oursRounds.append(Percentiles(sorting: &samples)) } else { baseRounds.append(Percentiles(sorting: &samples)) }
                }
            }
            cursor = (cursor + calls) % nRows
        }
        let ours = Percentiles.median(oursRounds), base = Percentiles.median(baseRounds)
        let perEval = Double(mallocs) / Double(max(evaluations, 1))
        if sink == .infinity { print(sink) }
        func f1(_ v: Double) -> String { String(format: "%.1f", v) }
        func f3(_ v: Double) -> String { String(format: "%.3f", v) }
        if json {
            print("{\"bench\": \"model\", \"result\": {\"p50_ns\": \(f1(ours.p50)), \"p99_ns\": \(f1(ours.p99)), \"mallocs_per_eval\": \(f3(perEval)), "
                  + "\"max_relative_error\": \(worst), \"trees\": \(lgbm.numTrees), \"features\": \(f), \"rows\": \(nRows)}, "
                  + "\"baseline\": {\"name\": \"LGBM_BoosterPredictForMatSingleRowFast\", \"p50_ns\": \(f1(base.p50)), \"p99_ns\": \(f1(base.p99))}, "
                  + "\"ratio\": {\"speedup_p50\": \(f3(base.p50 / ours.p50)), \"speedup_p99\": \(f3(base.p99 / ours.p99))}}")
        } else {
            print("bench model: LightGBM binary, \(lgbm.numTrees) trees, 63 leaves, \(f) features; \(rounds - 1) rounds x \(calls) calls, a different row per call")
            print("  predictions equal LightGBM's on all \(nRows) rows (max relative error \(worst) vs C API, \(worstPython) vs Python)")
            print("  medians over rounds (ns)         p50        p90        p99      p99.9")
            func row(_ name: String, _ p: Percentiles) {
                print("  " + name.padding(toLength: 28, withPad: " ", startingAt: 0)
                      + [p.p50, p.p90, p.p99, p.p999].map { f1($0).leftPadded(11) }.joined())
            }
            row("tickbus (Models)", ours)
            row("LightGBM C API (fast single row)", base)
            print("  speedup: p50 \(f3(base.p50 / ours.p50))x, p99 \(f3(base.p99 / ours.p99))x; mallocs per evaluation \(f3(perEval))")
        }
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
