import ArgumentParser
import Bench
import CMallocCounter
import CTickBus
import Features
import Feed
import Foundation
import Models
import Strategy
import TickBusCore

// Issue 5: features, strategy, model, bench model, bench strategy.

/// `%.17g`: 17 significant digits, enough to round-trip a double.
func g17(_ v: Double) -> String { String(format: "%.17g", v) }

/// A CSV of feature rows: a header of names, then numbers; an empty field or `nan` is missing.
struct FeatureCSV {
    var names: [String]
    var rows: [[Double]]

    static func read(_ path: String) throws -> FeatureCSV {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        guard !lines.isEmpty else { throw ValidationError("\(path): empty file (expected a header row of feature names)") }
        let names = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
        var rows: [[Double]] = []
        rows.reserveCapacity(lines.count)
        for (i, line) in lines.enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == names.count else {
                throw ValidationError("\(path) line \(i + 2): \(fields.count) fields, header has \(names.count)")
            }
            var row: [Double] = []
            row.reserveCapacity(fields.count)
            for (k, f) in fields.enumerated() {
                let t = f.trimmingCharacters(in: .whitespaces)
                if t.isEmpty || t.lowercased() == "nan" { row.append(.nan); continue }
                guard let v = Double(t) else { throw ValidationError("\(path) line \(i + 2), column \(names[k]): '\(t)' is not a number") }
                row.append(v)
            }
            rows.append(row)
        }
        return FeatureCSV(names: names, rows: rows)
    }

    /// Column order that feeds the model: by name when the header holds every model feature name,
    /// else by position when the counts agree.
    func columns(for model: Model) throws -> [Int] {
        let want = model.featureNames
        if want.allSatisfy({ names.contains($0) }) { return want.map { names.firstIndex(of: $0)! } }
        guard names.count == model.numFeatures else {
            throw ValidationError("input has \(names.count) columns, the model expects \(model.numFeatures) features (\(want.joined(separator: ",")))")
        }
        return Array(0..<names.count)
    }
}

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Inspect and evaluate model files.", subcommands: [ModelPredictCommand.self, ModelInfoCommand.self])
}

struct ModelPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict every row of a CSV: one line per row, 17 significant digits, classes comma-separated.")

    @Option(help: "LightGBM text, XGBoost JSON, linear JSON or ONNX model (detected from the content).") var model: String
    @Flag(help: "Raw scores (margins) instead of the library's default predict output.") var raw = false
    @Option(help: "CSV with a header row of feature names; an empty field or 'nan' is missing.") var input: String

    func run() throws {
        let loaded: LoadedModel
        do { loaded = try Model.load(path: model) } catch { throw ValidationError("\(error)") }
        let csv = try FeatureCSV.read(input)
        let cols = try csv.columns(for: loaded.model)
        var x = [Double](repeating: .nan, count: loaded.model.numFeatures)
        var out = [Double](repeating: 0, count: max(loaded.model.numOutputs, 1))
        var text = ""
        text.reserveCapacity(csv.rows.count * 24 * out.count)
        for row in csv.rows {
            for (k, c) in cols.enumerated() { x[k] = row[c] }
            x.withUnsafeBufferPointer { xb in
                out.withUnsafeMutableBufferPointer { ob in loaded.model.predict(xb.baseAddress!, into: ob.baseAddress!, raw: raw) }
            }
            text += out.map(g17).joined(separator: ",")
            text += "\n"
        }
        FileHandle.standardOutput.write(text.data(using: .utf8)!)
    }
}

struct ModelInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Print a model's kind, features, outputs and id.")
    @Argument(help: "Model file.") var path: String
    func run() throws {
        let loaded: LoadedModel
        do { loaded = try Model.load(path: path) } catch { throw ValidationError("\(error)") }
        print("kind=\(loaded.model.kindName) features=\(loaded.model.numFeatures) outputs=\(loaded.model.numOutputs) id=\(String(loaded.id, radix: 16))")
        print("feature_names=\(loaded.model.featureNames.joined(separator: ","))")
    }
}

/// Runs any feed source (no ring) through a feature engine: the offline table.
enum OfflineTable {
    static func run(spec: String, engine: FeatureEngine, limit: UInt64, row: (UInt64, Int64, UInt32) -> Void) throws {
        guard let colon = spec.firstIndex(of: ":") else { throw ValidationError("--source '\(spec)': expected KIND:ARGUMENT, e.g. synthetic:42") }
        let kind = String(spec[..<colon]), arg = String(spec[spec.index(after: colon)...])
        let offline = OfflineFeatures()
        switch kind {
        case "synthetic":
            guard let seed = UInt64(arg) else { throw ValidationError("--source synthetic:SEED needs an integer seed, got '\(arg)'") }
            var source = SyntheticSource(seed: seed)
            offline.run(next: { source.next() }, engine: engine, limit: limit, row: row)
        case "lobster":
            let parts = arg.split(separator: ",", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--source lobster:MESSAGES.csv,ORDERBOOK.csv, got '\(arg)'") }
            var source: LOBSTERSource
            do { source = try LOBSTERSource(messages: parts[0], orderbook: parts[1], levels: try LOBSTERSource.levels(orderbook: parts[1])) } catch {
                throw ValidationError("--source lobster:\(arg): \(error)")
            }
            offline.run(next: { source.next() }, engine: engine, limit: limit, row: row)
        case "itch":
            var source: ITCHSource
            do { source = try ITCHSource(path: arg) } catch { throw ValidationError("--source itch:\(arg): \(error)") }
            offline.run(next: { source.next() }, engine: engine, limit: limit, row: row)
        case "journal":
            var source = try JournalSource(directory: arg)
            offline.run(next: { source.next() }, engine: engine, limit: limit, row: row)
        default:
            throw ValidationError("--source '\(spec)': unknown kind '\(kind)' (synthetic, lobster, itch, journal)")
        }
    }
}

func loadDefinition(_ path: String) throws -> FeatureDefinition {
    do { return try FeatureDefinition.load(path: path) } catch { throw ValidationError("\(error)") }
}

/// Buffered text output to a file or stdout ("-").
final class TextOut {
    let file: UnsafeMutablePointer<FILE>
    let owned: Bool
    var buffer = ""
    init(_ path: String) throws {
        if path == "-" { file = fdopen(1, "w"); owned = false } else {
            guard let f = fopen(path, "w") else { throw ValidationError("cannot write \(path)") }
            file = f
            owned = true
        }
        buffer.reserveCapacity(1 << 20)
    }
    func write(_ s: String) {
        buffer += s
        if buffer.utf8.count >= 1 << 20 { flush() }
    }
    func flush() {
        fputs(buffer, file)
        buffer.removeAll(keepingCapacity: true)
    }
    func close() {
        flush()
        if owned { fclose(file) } else { fflush(file) }
    }
}

/// A number as the table prints it: `%.17g`, `nan` for missing.
func tableNumber(_ v: Double) -> String { v.isNaN ? "nan" : g17(v) }

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Compute the offline feature table: one row per decision point, with the market sequence and exchange time.")

    @Option(help: "synthetic:SEED | lobster:MESSAGES.csv,ORDERBOOK.csv | itch:FILE | journal:DIR") var source: String
    @Option(help: "Feature definition (TOML).") var features: String
    @Option(help: "Output CSV ('-' for stdout).") var out: String
    @Option(help: "Read at most this many source messages.") var messages: UInt64?

    func run() throws {
        let definition = try loadDefinition(features)
        let engine = FeatureEngine(definition: definition)
        let text = try TextOut(out)
        text.write((["sequence", "exchange_time", "instrument"] + definition.names).joined(separator: ",") + "\n")
        var rows = 0
        try OfflineTable.run(spec: source, engine: engine, limit: messages ?? .max) { sequence, time, instrument in
            var line = "\(sequence),\(time),\(instrument)"
            for i in 0..<engine.count { line += ","; line += tableNumber(engine.values[i]) }
            line += "\n"
            text.write(line)
            rows += 1
        }
        text.close()
        warn("features: \(rows) rows, \(engine.count) features")
    }
}

struct StrategyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strategy",
        abstract: "Poll ring market, update features, evaluate the model, publish decisions into decisions.<name>.")

    @Option(help: "Bus name.") var bus: String
    @Option(help: "Feature definition (TOML).") var features: String
    @Option(help: "Live model (LightGBM text, XGBoost JSON, linear JSON, ONNX).") var model: String
    @Option(help: "Shadow model, evaluated on the same features and recorded beside the live one.") var shadow: String?
    @Option(help: "Strategy name: publishes ring decisions.<name>.") var name: String
    @Option(help: "CPU to pin to (sched_setaffinity).") var cpu: Int32
    @Option(name: .customLong("numa-node"), help: "NUMA node for memory (default: the CPU's node).") var numaNode: Int32?
    @Option(help: "Decisions ring capacity in slots (a power of two).") var capacity: Int = 1 << 16
    @Flag(help: "Read market as a gating reader (the feed waits for this strategy: lossless).") var gating = false
    @Option(help: "Idle strategy: spin | yield | backoff.") var idle: String = "backoff"
    @Option(name: .customLong("attach-timeout"), help: "Seconds to wait for ring market to exist.") var attachTimeout: Double = 10
    @Flag(name: .customLong("pass-through"), help: "Publish a bare record per market message (no features, no model): the bench baseline.")
    var passThrough = false

    func run() throws {
        tb_install_stop_signals()
        // A parent may spawn us with SIGINT/SIGTERM blocked (the mask is inherited); we must hear them.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        guard let idleStrategy = IdleStrategy(name: idle) else { throw ValidationError("--idle must be spin, yield or backoff") }
        let placement: Placement.Report
        do { placement = try Placement.apply(cpu: cpu, node: numaNode) } catch { throw ValidationError("\(error)") }
        // Contract line: where the strategy actually runs.
        print("strategy \(name): placement cpu=\(placement.cpu) node=\(placement.node) requested_cpu=\(cpu) requested_node=\(numaNode.map(String.init) ?? "auto")")
        flushOut()
        guard placement.cpu == cpu else { throw ValidationError("running on CPU \(placement.cpu), not \(cpu)") }

        let definition = try loadDefinition(features)
        let live: LoadedModel, shadowModel: LoadedModel?
        do {
            live = try Model.load(path: model)
            shadowModel = try shadow.map { (p: String) throws(ModelError) -> LoadedModel in try Model.load(path: p) }
        } catch { throw ValidationError("\(error)") }
        let engine = FeatureEngine(definition: definition)
        let loop: StrategyLoop
        // Telemetry: this strategy's stats block (stats.<name>), read by `tickbus metrics` and `stat`.
        let stats: StatsWriter?
        do { stats = try StatsWriter(bus: bus, name: name, kind: .strategy, modelId: live.id, shadowModelId: shadowModel?.id ?? 0) } catch {
            warn("strategy \(name): no telemetry: \(error)")
            stats = nil
        }
        do { loop = try StrategyLoop(engine: engine, live: live, shadow: shadowModel, slotSize: DecisionLayout.defaultSlotSize, stats: stats) } catch {
            throw ValidationError("\(error)")
        }
        var producer = try RingProducer(bus: bus, ring: "decisions.\(name)", schema: .decisions, slotSize: DecisionLayout.defaultSlotSize,
                                        capacity: capacity)
        let deadline = tb_monotonic_ns() + UInt64(max(0, attachTimeout) * 1e9)
        var reader: RingReader
        while true {
            do {
                reader = try RingReader(bus: bus, ring: "market", name: "strategy-\(name)", mode: gating ? .gating : .live, from: .start,
                                        idle: idleStrategy, expecting: .market)
                break
            } catch {
                if tb_monotonic_ns() >= deadline || tb_stop_requested() != 0 { producer.close(); throw ValidationError("\(error)") }
                usleep(5000)
            }
        }
        warn("strategy \(name): model \(live.model.kindName) id=\(String(live.id, radix: 16))\(shadowModel.map { " shadow \($0.model.kindName) id=\(String($0.id, radix: 16))" } ?? ""), \(engine.count) features, decisions.\(name)")
        let mallocsBefore = tb_thread_malloc_count()
        let summary = loop.run(reader: &reader, producer: &producer, idle: idleStrategy, passThrough: passThrough,
                               stop: { tb_stop_requested() != 0 })
        // Allocations in the loop: the order book's level arrays grow (by doubling) while it warms up; nothing else allocates.
        let mallocs = tb_thread_malloc_count() &- mallocsBefore
        producer.heartbeat()
        producer.close()
        stats?.close()
        print("strategy \(name): messages=\(summary.messages) decisions=\(summary.decisions) lost=\(summary.lost) gaps=\(summary.gaps) eos=\(summary.endOfSession) mallocs=\(mallocs)")
        flushOut()
    }
}
