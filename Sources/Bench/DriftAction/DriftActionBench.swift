import Foundation

/// `tickbus bench drift-action`: how long the drift monitor's rollback takes to reach the strategy.
/// Each round is a session in child processes on a bus of its own — `control serve`, a gating
/// strategy with version A live and V0 prepared (`--preload`), the monitor as a live reader, the
/// feed of the seeded ITCH flow — with a policy whose level breaches on every window and repeats
/// its `rollback` every window (`cooldown_windows = 1`). The figures come from timestamps already
/// in the records, all CLOCK_MONOTONIC: the monitor notes when a window's line was computed (its
/// last outcome known: the window's end), the server stamps the command at publish, the strategy
/// its control record at publish; the monitor prints the three differences when the record comes
/// back (`{"applied": "rollback", "latency_ns": …, "to_command_ns": …, "swap_ns": …}`).
///
/// The baseline, measured in the same run from the same records, is the strategy's part alone
/// (command publish → control record publish: what `bench control` measures in one process); the
/// ratio is how much the monitor's side (window end → command published: the client's connect and
/// frame, the server's registry checks and publish) adds to it.
public enum DriftActionBench {
    public struct Options: Sendable {
        public var rounds = 3
        public var window = 500
        public var messages = 60_000
        public var rate = 40_000.0
        public var seed: UInt64 = 2
        /// The strategy's idle strategy (`backoff` sleeps up to 1 ms when it has caught up, and a
        /// command waits for it to wake; `yield` stays on the CPU's run queue).
        public var strategyIdle = "backoff"
        public init() {}
    }

    public struct Outcome: Sendable {
        /// Window end → the strategy's control record, medians over rounds.
        public var total: Percentiles
        /// Window end → the command's publish.
        public var toCommand: Percentiles
        /// Command publish → control record (the baseline).
        public var swap: Percentiles
        public var rollbacks: Int
        public var rounds: Int
        public var options: Options
    }

    public static func run(_ o: Options, progress: (String) -> Void) throws(BenchError) -> Outcome {
        let dir = NSTemporaryDirectory() + "tickbus-bench-drift-action-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw .child("cannot create \(dir): \(error)")
        }
        let s = try Scratch.make(dir, o)
        var totals: [Percentiles] = []
        var toCommand: [Percentiles] = []
        var swaps: [Percentiles] = []
        var count = 0
        for round in 0..<o.rounds {
            let (t, c, w) = try session(s, o, round: round)
            guard !t.isEmpty else { throw .child("round \(round): no rollback came back applied") }
            var tt = t
            var cc = c
            var ww = w
            totals.append(Percentiles(sorting: &tt))
            toCommand.append(Percentiles(sorting: &cc))
            swaps.append(Percentiles(sorting: &ww))
            count += t.count
            progress("round \(round + 1)/\(o.rounds): \(t.count) rollbacks, p50 \(Int(totals.last!.p50)) ns")
        }
        return Outcome(
            total: .median(totals),
            toCommand: .median(toCommand),
            swap: .median(swaps),
            rollbacks: count,
            rounds: o.rounds,
            options: o
        )
    }

    /// The files every round uses: registry (V0, then A as champion), definition, baseline, policy, ITCH.
    struct Scratch {
        var dir: String
        var registry: String
        var features: String
        var baseline: String
        var policy: String
        var itch: String
        var a: String
        var v0: String

        static func make(_ dir: String, _ o: Options) throws(BenchError) -> Scratch {
            let features = dir + "/features.toml"
            let registry = dir + "/registry"
            try write(
                "decide_on = \"every\"\nmax_instruments = 16\n[signal]\nbuy_above = 0.05\nsell_below = -0.05\n"
                    + "[[feature]]\nname = \"ofi50\"\nkind = \"ofi\"\nevents = 50\n",
                features
            )
            var ids: [String] = []
            for (i, c) in [0.0005, 0.001].enumerated() {
                let m = dir + "/m\(i).json"
                try write(
                    "{\"type\": \"linear\", \"feature_names\": [\"ofi50\"], \"coefficients\": [\(c)], \"intercept\": 0}",
                    m
                )
                let out = try tool([
                    "registry", "add", "--registry", registry, "--name", "m", "--model", m, "--features", features,
                ])
                ids.append(out.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            try write(
                "[alias.champion]\ngates = [\"features\"]\nlatency_p99_ns = 1000000000\n",
                registry + "/policy.toml"
            )
            for id in ids {
                _ = try tool([
                    "registry", "alias", "set", "--registry", registry, "m@champion", id, "--reason", "bench",
                ])
            }
            let base = dir + "/base.itch"
            _ = try tool(["synth", "itch", "--seed", "1", "--messages", "60000", "--out", base])
            let plain = dir + "/plain.csv"
            _ = try tool(["features", "--source", "itch:\(base)", "--features", features, "--out", plain])
            let baseline = dir + "/b.tbbaseline"
            _ = try tool(["drift", "baseline", "--table", plain, "--features", features, "--out", baseline])
            let policy = dir + "/policy.toml"
            try write(
                "[level.always]\npsi = 0\ncooldown_windows = 1\nactions = [\"rollback\"]\n",
                policy
            )
            let itch = dir + "/session.itch"
            _ = try tool(["synth", "itch", "--seed", "\(o.seed)", "--messages", "\(o.messages)", "--out", itch])
            return Scratch(
                dir: dir,
                registry: registry,
                features: features,
                baseline: baseline,
                policy: policy,
                itch: itch,
                a: ids[1],
                v0: ids[0]
            )
        }
    }

    static func session(_ s: Scratch, _ o: Options, round: Int) throws(BenchError) -> ([Double], [Double], [Double]) {
        let bus = "bench-drift-action-\(getpid())-\(round)"
        defer { _ = try? tool(["rm", "--bus", bus]) }
        let server = try Spawned(["control", "serve", "--bus", bus, "--registry", s.registry], s.dir + "/server.out")
        try server.waitFor { $0.contains("control serve: bus=") }
        let strategy = try Spawned(
            [
                "strategy", "--bus", bus, "--registry", s.registry, "--live", s.a, "--preload", s.v0, "--name", "S",
                "--cpu", "0", "--gating", "--attach-timeout", "30", "--capacity", "262144", "--idle", o.strategyIdle,
            ],
            s.dir + "/strategy.out"
        )
        let ring = "/dev/shm/tickbus/\(bus)/decisions.S"
        try strategy.waitFor { _ in FileManager.default.fileExists(atPath: ring) }
        let drift = try Spawned(
            [
                "drift", "--bus", bus, "--strategy", "S", "--baseline", s.baseline, "--policy", s.policy, "--window",
                "\(o.window)", "--horizon-ns", "1000000", "--attach-timeout", "30",
            ],
            s.dir + "/drift.out"
        )
        let feed = try Spawned(
            [
                "feed", "--bus", bus, "--source", "itch:\(s.itch)", "--rate", "\(Int(o.rate))", "--capacity", "262144",
                "--wait-readers", "2", "--wait-timeout", "30",
            ],
            s.dir + "/feed.out"
        )
        try feed.wait(timeout: 300)
        try strategy.wait(timeout: 60)
        try drift.wait(timeout: 60)
        server.stop()
        var total: [Double] = []
        var toCommand: [Double] = []
        var swap: [Double] = []
        for line in drift.output.split(separator: "\n") where line.hasPrefix("{\"applied\": \"rollback\"") {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let t = obj["latency_ns"] as? Int, let c = obj["to_command_ns"] as? Int, let w = obj["swap_ns"] as? Int
            else { continue }
            total.append(Double(t))
            toCommand.append(Double(c))
            swap.append(Double(w))
        }
        return (total, toCommand, swap)
    }

    static func write(_ text: String, _ path: String) throws(BenchError) {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw .child("cannot write \(path): \(error)")
        }
    }

    /// Runs `tickbus ARGS` to its end; its stdout, or an error with its stderr.
    static func tool(_ args: [String]) throws(BenchError) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: BenchProcess.executable)
        p.arguments = args
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { throw .child("cannot start tickbus \(args.first ?? ""): \(error)") }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw .child(
                "tickbus \(args.prefix(2).joined(separator: " ")) failed: \(String(decoding: e, as: UTF8.self))"
            )
        }
        return String(decoding: o, as: UTF8.self)
    }

    /// A child whose stdout goes to a file (a pipe could fill and stall it); killed if still running.
    final class Spawned {
        let process = Process()
        let path: String
        let args: [String]

        init(_ args: [String], _ path: String) throws(BenchError) {
            self.args = args
            self.path = path
            FileManager.default.createFile(atPath: path, contents: nil)
            process.executableURL = URL(fileURLWithPath: BenchProcess.executable)
            process.arguments = args
            process.standardOutput = FileHandle(forWritingAtPath: path)
            process.standardError = FileHandle.nullDevice
            do { try process.run() } catch { throw .child("cannot start tickbus \(args[0]): \(error)") }
        }

        var output: String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

        func waitFor(timeout: Double = 30, _ ready: (String) -> Bool) throws(BenchError) {
            let deadline = Date().addingTimeInterval(timeout)
            while !ready(output) {
                guard process.isRunning, Date() < deadline else {
                    throw .child("tickbus \(args[0]) not ready after \(timeout) s")
                }
                usleep(2000)
            }
        }

        func wait(timeout: Double) throws(BenchError) {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning {
                guard Date() < deadline else { throw .child("tickbus \(args[0]) did not finish in \(timeout) s") }
                usleep(5000)
            }
            guard process.terminationStatus == 0 else {
                throw .child("tickbus \(args[0]) exited with status \(process.terminationStatus)")
            }
        }

        func stop() { if process.isRunning { kill(process.processIdentifier, SIGTERM) } }

        deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    }
}
