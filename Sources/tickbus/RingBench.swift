import ArgumentParser
import Bench
import CTickBus
import Foundation
import TickBusCore

/// `tickbus bench ring`: producer here, reader in a child process pinned to another CPU; the
/// TickBus ring and a minimal C ring of the same protocol, interleaved round by round.
struct RingBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring", abstract: "Ring throughput and one-way latency across two processes, against a C ring.")

    @Option(help: "Messages per throughput round.") var messages: UInt64 = 5_000_000
    @Option(name: .customLong("latency-messages"), help: "Messages per latency round.") var latencyMessages: UInt64 = 200_000
    @Option(name: .customLong("interval-ns"), help: "Spacing of latency messages.") var intervalNs: UInt64 = 2_000
    @Option(help: "Rounds; each runs both rings in alternating order.") var rounds: Int = 5
    @Option(name: .customLong("producer-cpu")) var producerCPU: Int32 = 0
    @Option(name: .customLong("reader-cpu")) var readerCPU: Int32 = 1
    @Flag(help: "Print one JSON object.") var json: Bool = false

    struct Figures {
        var throughput: [Double] = []
        var latency: [Percentiles] = []
        var mallocsPerPublish: [Double] = []
        var mallocsPerPoll: [Double] = []
        var lost: UInt64 = 0

        var summary: (throughput: Double, latency: Percentiles, publish: Double, poll: Double) {
            (Bench.median(throughput), Percentiles.median(latency), mallocsPerPublish.max() ?? 0, mallocsPerPoll.max() ?? 0)
        }
    }

    func run() throws {
        let rc = tb_pin_to_cpu(producerCPU)
        if rc != 0 { throw ValidationError("cannot pin the producer to CPU \(producerCPU): errno \(rc)") }
        let bus = "bench-\(getpid())"
        // The C ring carries no TickBus magic, so `rm` would keep it (and the bus): remove it first.
        defer { _ = unlink(BusPaths.ring(bus: bus, ring: "cbaseline")); try? Segment.removeBus(bus) }
        var figures: [RingBench.Implementation: Figures] = [.swift: Figures(), .c: Figures()]
        for round in 0..<rounds {
            let order: [RingBench.Implementation] = round % 2 == 0 ? [.swift, .c] : [.c, .swift]
            for impl in order {
                for phase in RingBench.Phase.allCases {
                    let n = phase == .throughput ? messages : latencyMessages
                    let interval = phase == .latency ? intervalNs : 0
                    let (publishMallocs, result) = try runOnce(bus: bus, impl: impl, phase: phase, messages: n, intervalNs: interval)
                    figures[impl]!.mallocsPerPublish.append(publishMallocs)
                    figures[impl]!.mallocsPerPoll.append(result.mallocsPerPoll)
                    figures[impl]!.lost += result.lost
                    switch phase {
                    case .throughput: figures[impl]!.throughput.append(Double(result.messages) / result.seconds)
                    case .latency: figures[impl]!.latency.append(result.latency)
                    }
                }
            }
        }
        let swift = figures[.swift]!.summary, c = figures[.c]!.summary
        let ratioThroughput = swift.throughput / c.throughput
        let ratioP50 = swift.latency.p50 / c.latency.p50
        if json {
            func side(_ s: (throughput: Double, latency: Percentiles, publish: Double, poll: Double)) -> String {
                "{\"throughput_msgs_per_s\": \(Int(s.throughput)), \"latency_ns\": {\"p50\": \(s.latency.p50), \"p90\": \(s.latency.p90), "
                    + "\"p99\": \(s.latency.p99), \"p999\": \(s.latency.p999), \"max\": \(s.latency.max)}, "
                    + "\"mallocs_per_publish\": \(s.publish), \"mallocs_per_poll\": \(s.poll)}"
            }
            print("{\"bench\": \"ring\", \"result\": \(side(swift)), \"baseline\": \(side(c)), "
                  + "\"ratio\": {\"throughput\": \(fmt(ratioThroughput, 3)), \"p50\": \(fmt(ratioP50, 3))}, "
                  + "\"config\": {\"messages\": \(messages), \"latency_messages\": \(latencyMessages), \"interval_ns\": \(intervalNs), "
                  + "\"rounds\": \(rounds), \"producer_cpu\": \(producerCPU), \"reader_cpu\": \(readerCPU)}}")
        } else {
            print("bench ring: \(rounds) rounds (TickBus and C interleaved), producer CPU \(producerCPU), reader CPU \(readerCPU)")
            print("  throughput: \(messages) messages/round, reader gating; latency: \(latencyMessages) messages/round, one per \(intervalNs) ns")
            print("  medians over rounds        tickbus       C ring    ratio")
            func row(_ name: String, _ a: Double, _ b: Double, ratio: Bool = true) {
                print("  " + name.padding(toLength: 22, withPad: " ", startingAt: 0)
                      + fmt(a, 1).leftPad(13) + fmt(b, 1).leftPad(13) + (ratio && b > 0 ? fmt(a / b, 3).leftPad(9) : ""))
            }
            row("throughput msgs/s", swift.throughput, c.throughput)
            row("latency p50 ns", swift.latency.p50, c.latency.p50)
            row("latency p90 ns", swift.latency.p90, c.latency.p90)
            row("latency p99 ns", swift.latency.p99, c.latency.p99)
            row("latency p99.9 ns", swift.latency.p999, c.latency.p999)
            row("latency max ns", swift.latency.max, c.latency.max)
            row("mallocs per publish", swift.publish, c.publish, ratio: false)
            row("mallocs per poll", swift.poll, c.poll, ratio: false)
            let lost = figures[.swift]!.lost + figures[.c]!.lost
            if lost > 0 { print("  warning: \(lost) messages lost (a gating reader should lose none)") }
        }
    }

    func runOnce(bus: String, impl: RingBench.Implementation, phase: RingBench.Phase, messages n: UInt64, intervalNs: UInt64) throws -> (Double, RingBench.ReaderResult) {
        let args = ["bench", "ring-child", "--bus", bus, "--impl", impl.rawValue, "--phase", phase.rawValue, "--messages", "\(n)", "--cpu", "\(readerCPU)"]
        switch impl {
        case .swift:
            var producer = try RingProducer(bus: bus, ring: "bench", schema: .market, slotSize: 64, capacity: RingBench.ringCapacity)
            let child = try BenchChild(args)
            try child.waitUntil { ReaderTable.snapshot(producer.mapping).count >= 1 }
            let mallocs = RingBench.produceSwift(&producer, messages: n, intervalNs: intervalNs)
            producer.close()
            return (mallocs, try child.result())
        case .c:
            // Creates (or checks) the bus directory safely: ours, 0700, not a link, in the sticky root.
            _ = try BusDirectory(bus: bus, creating: .owner)
            let ring = try RingBench._CRing(path: BusPaths.ring(bus: bus, ring: "cbaseline"), create: true)
            let child = try BenchChild(args)
            try child.waitUntil { tb_load_acquire_u64(ring.ready) == 1 }
            let mallocs = RingBench.produceC(ring, messages: n, intervalNs: intervalNs)
            return (mallocs, try child.result())
        }
    }
}

/// The reader half of `bench ring`, run as a child process.
struct RingBenchChild: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ring-child", abstract: "Reader process of `bench ring`.", shouldDisplay: false)
    @Option var bus: String
    @Option var impl: String
    @Option var phase: String
    @Option var messages: UInt64
    @Option var cpu: Int32

    func run() throws {
        let rc = tb_pin_to_cpu(cpu)
        if rc != 0 { throw ValidationError("cannot pin the reader to CPU \(cpu): errno \(rc)") }
        let latency = phase == RingBench.Phase.latency.rawValue
        let result: RingBench.ReaderResult
        if impl == RingBench.Implementation.swift.rawValue {
            var reader = try RingReader(bus: bus, ring: "bench", name: "bench-reader", mode: .gating, from: .start, idle: .busySpin)
            result = RingBench.readSwift(&reader, messages: messages, sampleLatency: latency)
        } else {
            let ring = try RingBench._CRing(path: BusPaths.ring(bus: bus, ring: "cbaseline"), create: false)
            tb_store_release_u64(ring.ready, 1)
            result = RingBench.readC(ring, messages: messages, sampleLatency: latency)
        }
        print(result.line)
    }
}

/// Both rings in one thread, publish then poll, for `Tools/callgrind-ring`.
struct RingInstructionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ring-instructions", abstract: "Single-thread ring loops for callgrind.", shouldDisplay: false)
    @Option var messages: UInt64 = 1_000_000

    func run() throws {
        let bus = "bench-ins-\(getpid())"
        // The C ring carries no TickBus magic, so `rm` would keep it (and the bus): remove it first.
        defer { _ = unlink(BusPaths.ring(bus: bus, ring: "cbaseline")); try? Segment.removeBus(bus) }
        var producer = try RingProducer(bus: bus, ring: "bench", schema: .market, slotSize: 64, capacity: RingBench.ringCapacity)
        var reader = try RingReader(bus: bus, ring: "bench", name: "ins", mode: .gating, from: .start, idle: .busySpin)
        let a = RingInstructions.loopSwift(&producer, &reader, messages: messages)
        let ring = try RingBench._CRing(path: BusPaths.ring(bus: bus, ring: "cbaseline"), create: true)
        let b = RingInstructions.loopC(ring, messages: messages)
        print("messages=\(messages) check_swift=\(a) check_c=\(b)")
        if a != b { throw ExitCode(1) }
    }
}

/// A benchmark child process (the reader), its stdout captured.
final class BenchChild {
    let process = Process()
    let pipe = Pipe()
    let args: [String]

    init(_ arguments: [String]) throws {
        args = arguments
        process.executableURL = DemoChild.executable
        process.arguments = arguments
        process.standardOutput = pipe
        try process.run()
    }

    func waitUntil(timeout: Double = 30, _ ready: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !ready() {
            if !process.isRunning { throw ValidationError("bench reader exited before it was ready (\(args.joined(separator: " ")))") }
            if Date() > deadline { kill(process.processIdentifier, SIGKILL); throw ValidationError("bench reader not ready after \(timeout) s") }
            usleep(200)
        }
    }

    func result() throws -> RingBench.ReaderResult {
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0, let line = text.split(separator: "\n").last, let r = RingBench.ReaderResult(line: String(line)) else {
            throw ValidationError("bench reader failed (status \(process.terminationStatus)): \(text)")
        }
        return r
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

func fmt(_ x: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", x)
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
