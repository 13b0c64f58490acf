import Foundation
import Models
import TestSupport
import Testing

enum Fixtures {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Rows of numbers; an empty field or `nan` is NaN. `header` skips the first line.
    static func csv(_ name: String, header: Bool) throws -> [[Double]] {
        let text = try String(contentsOfFile: path(name), encoding: .utf8)
        var lines = text.split(separator: "\n")
        if header { lines.removeFirst() }
        return lines.map { line in
            line.split(separator: ",", omittingEmptySubsequences: false).map { f in
                f.isEmpty || f == "nan" ? .nan : Double(f)!
            }
        }
    }

    static func predictAll(_ model: Model, _ rows: [[Double]], raw: Bool) -> [[Double]] {
        var out = [Double](repeating: 0, count: model.numOutputs)
        return rows.map { row in
            row.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { o in model.predict(x.baseAddress!, into: o.baseAddress!, raw: raw)
                }
            }
            return out
        }
    }

    /// Largest relative error; values below `floor` in magnitude are compared absolutely against `floor`.
    static func maxRelativeError(_ a: [[Double]], _ b: [[Double]], floor: Double = 1e-300) -> Double {
        var worst = 0.0
        for (ra, rb) in zip(a, b) {
            for (x, y) in zip(ra, rb) {
                if x == y { continue }
                if x.isNaN || y.isNaN { return .infinity }
                worst = max(worst, abs(x - y) / max(abs(y), floor))
            }
        }
        return worst
    }
}

@Suite("Model predictions equal the libraries' own")
struct ModelFixtureTests {
    static let cases: [(String, String, Double)] = [
        ("lgb_binary", "txt", 1e-12), ("lgb_regression", "txt", 1e-12), ("lgb_multiclass", "txt", 1e-12),
        ("lgb_rf", "txt", 1e-12), ("lgb_nansplit", "txt", 1e-12),
        ("xgb_regression", "json", 1e-6), ("xgb_binary", "json", 1e-6), ("xgb_multiclass", "json", 1e-6),
        ("linear", "json", 1e-12), ("mlp_binary", "onnx", 1e-6), ("mlp_multiclass", "onnx", 1e-6),
    ]

    @Test("predict and raw match the fixture predictions", arguments: cases)
    func matches(_ name: String, _ ext: String, _ tolerance: Double) throws {
        let loaded = try Model.load(path: Fixtures.path("\(name).\(ext)"))
        let input = try Fixtures.csv("\(name).input.csv", header: true)
        #expect(input.count == 200)
        #expect(loaded.model.numFeatures == 6)
        for raw in [false, true] {
            let want = try Fixtures.csv("\(name).\(raw ? "raw" : "pred").csv", header: false)
            let got = Fixtures.predictAll(loaded.model, input, raw: raw)
            #expect(got.count == want.count)
            #expect(got.first?.count == want.first?.count)
            let err = Fixtures.maxRelativeError(got, want)
            #expect(err <= tolerance, "\(name) raw=\(raw): max relative error \(err) > \(tolerance)")
        }
    }

    @Test(
        "every LightGBM evaluator configuration gives LightGBM's result bit for bit",
        arguments: [
            LightGBMOptions(), LightGBMOptions(width: 16), LightGBMOptions(fixedSteps: 0),
            LightGBMOptions(width: 16, fixedSteps: 3),
            LightGBMOptions(fixedSteps: 64), LightGBMOptions(quickScorer: true),
        ]
    )
    func evaluators(_ options: LightGBMOptions) throws {
        for name in ["lgb_regression", "lgb_multiclass", "lgb_rf", "lgb_nansplit"] {
            let model = try Model.load(path: Fixtures.path("\(name).txt"), lightgbm: options).model
            let input = try Fixtures.csv("\(name).input.csv", header: true)
            for raw in [false, true] {
                let want = try Fixtures.csv("\(name).\(raw ? "raw" : "pred").csv", header: false)
                let got = Fixtures.predictAll(model, input, raw: raw)
                #expect(got == want, "\(name) raw=\(raw) with \(options)")
            }
        }
    }

    @Test("LightGBM fixtures exercise missing values and categorical splits")
    func coverage() throws {
        let binary = try String(contentsOfFile: Fixtures.path("lgb_binary.txt"), encoding: .utf8)
        #expect(binary.contains("num_cat=1"))
        let input = try Fixtures.csv("lgb_binary.input.csv", header: true)
        #expect(input.contains { $0.contains { $0.isNaN } })
        let regression = try String(contentsOfFile: Fixtures.path("lgb_regression.txt"), encoding: .utf8)
        // decision_type with missing type Zero (bits 2-3 == 1) somewhere.
        let zeroTyped = regression.split(separator: "\n").filter { $0.hasPrefix("decision_type=") }
            .flatMap { $0.dropFirst(14).split(separator: " ") }.contains { (Int($0)! >> 2) & 3 == 1 }
        #expect(zeroTyped)
        // A "NaN versus everything" split: threshold inf with NaN going right.
        #expect(
            try String(contentsOfFile: Fixtures.path("lgb_nansplit.txt"), encoding: .utf8).contains("threshold=inf ")
        )
        if case .lightgbm(let m) = try Model.load(path: Fixtures.path("lgb_binary.txt")).model {
            #expect(m.hasCategorical)
        } else {
            Issue.record("not lightgbm")
        }
    }

    @Test("MLP agrees with onnxruntime's float32 output")
    func onnxruntime() throws {
        for name in ["mlp_binary", "mlp_multiclass"] {
            let ort = Fixtures.path("\(name).ort.csv")
            guard FileManager.default.fileExists(atPath: ort) else { continue }
            let model = try Model.load(path: Fixtures.path("\(name).onnx")).model
            let got = Fixtures.predictAll(model, try Fixtures.csv("\(name).input.csv", header: true), raw: false)
            let err = Fixtures.maxRelativeError(got, try Fixtures.csv("\(name).ort.csv", header: false), floor: 1e-6)
            #expect(err <= 1e-5, "\(name): \(err)")
        }
    }

    @Test("model id is the FNV-1a 64 of the file")
    func modelId() throws {
        let a = try Model.load(path: Fixtures.path("lgb_binary.txt"))
        #expect(
            a.id
                == ModelFile.contentHash(
                    Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("lgb_binary.txt"))))
                )
        )
        #expect(ModelFile.contentHash(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)  // FNV-1a 64 test vector
        let b = try Model.load(path: Fixtures.path("lgb_regression.txt"))
        #expect(a.id != b.id)
    }
}

/// Re-checks against the libraries live (fresh random rows) when the Python packages are importable.
@Suite("Live check against Python libraries")
struct LiveLibraryTests {
    @Test("LightGBM and XGBoost predict the same on fresh rows")
    func live() throws {
        let dir = TickBusTest.temporaryDirectory("models-live")
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = """
            import sys, numpy as np
            try:
                import lightgbm as lgb, xgboost as xgb
            except ImportError:
                print("skip"); sys.exit(0)
            fx, out = sys.argv[1], sys.argv[2]
            rng = np.random.default_rng(7)
            X = rng.normal(size=(300, 6)); X[rng.random(X.shape) < 0.15] = np.nan; X[rng.random(X.shape) < 0.1] = 0.0
            X[:, 5] = np.where(np.isnan(X[:, 5]), np.nan, rng.integers(-1, 14, 300))
            np.savetxt(out + "/x.csv", X, delimiter=",", fmt="%.17g", header="f0,f1,f2,f3,f4,f5", comments="")
            np.savetxt(out + "/lgb.csv", lgb.Booster(model_file=fx + "/lgb_binary.txt").predict(X), fmt="%.17g")
            b = xgb.Booster(); b.load_model(fx + "/xgb_multiclass.json")
            np.savetxt(out + "/xgb.csv", b.predict(xgb.DMatrix(X, missing=np.nan, feature_names=[f"f{i}" for i in range(6)])), delimiter=",", fmt="%.17g")
            print("ok")
            """
        let py = dir.appendingPathComponent("live.py")
        try script.write(to: py, atomically: true, encoding: .utf8)
        let result = try Child(["python3", py.path, Fixtures.dir.path, dir.path], executable: "/usr/bin/env").wait(
            timeout: 120
        )
        guard result.stdout.contains("ok") else {
            #expect(result.stdout.contains("skip"), "python failed: \(result.stderr)")
            return
        }
        let x = try String(contentsOfFile: dir.appendingPathComponent("x.csv").path, encoding: .utf8).split(
            separator: "\n"
        ).dropFirst()
            .map {
                $0.split(separator: ",", omittingEmptySubsequences: false).map {
                    $0 == "nan" ? Double.nan : Double($0)!
                }
            }
        func rows(_ f: String) throws -> [[Double]] {
            try String(contentsOfFile: dir.appendingPathComponent(f).path, encoding: .utf8).split(separator: "\n")
                .map { $0.split(separator: ",").map { Double($0)! } }
        }
        let lgbModel = try Model.load(path: Fixtures.path("lgb_binary.txt")).model
        #expect(Fixtures.maxRelativeError(Fixtures.predictAll(lgbModel, x, raw: false), try rows("lgb.csv")) <= 1e-12)
        let xgbModel = try Model.load(path: Fixtures.path("xgb_multiclass.json")).model
        #expect(Fixtures.maxRelativeError(Fixtures.predictAll(xgbModel, x, raw: false), try rows("xgb.csv")) <= 1e-6)
    }
}
