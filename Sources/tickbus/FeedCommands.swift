import ArgumentParser
import Book
import CFeed
import CMallocCounter
import CTickBus
import Feed
import Foundation
import TickBusCore

/// `tickbus bench feed`: parse-only and parse+book ns/message against a plain C loop that walks the
/// length prefixes and switches on the type byte, over the same memory-mapped ITCH file in the same
/// run (rounds interleaved), plus messages/s through to a ring.
///
/// Timing: the file is mapped with MAP_POPULATE (in memory before timing, start-up excluded); each
/// contender walks the whole file once per round and reads the monotonic clock every 4,096 input
/// messages. Per-message figures are those chunk times over 4,096: "median" and "p99" are
/// percentiles over the chunks of a round, then the median over rounds.
struct FeedBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed", abstract: "ITCH parse-only and parse+book ns/message against a C loop, and messages/s to a ring.")
    @Option(help: "Messages in the generated ITCH file (at least 10 million for the reported figures).") var messages: UInt64 = 10_000_000
    @Option(help: "Use this ITCH file instead of generating one into /tmp.") var file: String?
    @Option(help: "Seed of the generated file.") var seed: UInt64 = 42
    @Option(help: "Rounds; each runs every contender once, in alternating order.") var rounds: Int = 5
    @Option(help: "Run only these contenders, comma-separated: c, parse, book, ring (for profiling).") var only: String?
    @Flag(help: "Print one JSON object.") var json = false

    static let chunk = 4096

    struct Stats {
        var median: Double = 0
        var p99: Double = 0
        var mean: Double = 0
    }

    static func stats(_ perMessage: [Double], totalNs: UInt64, messages: Int) -> Stats {
        let sorted = perMessage.sorted()
        guard !sorted.isEmpty else { return Stats() }
        return Stats(median: sorted[sorted.count / 2], p99: sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))],
                     mean: Double(totalNs) / Double(messages))
    }

    static func median(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.sorted()[xs.count / 2] }

    func run() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        let path: String
        var generated = false
        if let file { path = file } else {
            path = "/tmp/tickbus-bench-feed-\(getpid()).itch"
            do { _ = try ITCHWriter.writeSynthetic(seed: seed, messages: messages, path: path) } catch { throw ValidationError(error.description) }
            generated = true
        }
        defer { if generated { unlink(path) } }
        let input: _InputFile
        do { input = try _InputFile(path: path) } catch { throw ValidationError(error.description) }
        let base = input.base

        // Chunk boundaries every 4,096 messages (computed before any timing).
        var bounds: [Int] = [0]
        var total = 0
        while true {
            let r = ITCH.parseOnly(base, from: bounds.last!, to: input.count, limit: Self.chunk)
            if r.messages == 0 { break }
            total += r.messages
            bounds.append(r.offset)
            if r.messages < Self.chunk { break }
        }
        let chunks = bounds.count - 1
        guard chunks > 0 else { throw ValidationError("\(path): no ITCH messages") }
        let counts = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
        defer { counts.deallocate() }

        var cMed: [Double] = [], cP99: [Double] = [], cMean: [Double] = []
        var pMed: [Double] = [], pP99: [Double] = [], pMean: [Double] = []
        var bMed: [Double] = [], bP99: [Double] = [], bMean: [Double] = []
        var ringRates: [Double] = [], ringInputRates: [Double] = []
        var mallocsPerMessage: Double = 0
        var ringMallocsPerMessage: Double = 0
        var checksum: UInt64 = 0
        var samples = [Double](repeating: 0, count: chunks)
        let bus = "bench-feed-\(getpid())"
        defer { try? Segment.removeBus(bus) }

        for round in 0..<rounds {
            let names = ["c", "parse", "book", "ring"]
            let chosen = only.map { $0.split(separator: ",").map(String.init) } ?? names
            let order = (round % 2 == 0 ? [0, 1, 2, 3] : [3, 2, 1, 0]).filter { chosen.contains(names[$0]) }
            for contender in order {
                switch contender {
                case 0:  // C baseline
                    counts.initialize(repeating: 0, count: 256)
                    let start = tb_monotonic_ns()
                    var t0 = start
                    for k in 0..<chunks {
                        let n = tb_itch_walk(base.assumingMemoryBound(to: UInt8.self) + bounds[k], bounds[k + 1] - bounds[k], counts)
                        let t1 = tb_monotonic_ns()
                        samples[k] = Double(t1 - t0) / Double(n)
                        t0 = t1
                    }
                    let st = Self.stats(samples, totalNs: t0 - start, messages: total)
                    cMed.append(st.median); cP99.append(st.p99); cMean.append(st.mean)
                case 1:  // parse only
                    let start = tb_monotonic_ns()
                    var t0 = start
                    for k in 0..<chunks {
                        let r = ITCH.parseOnly(base, from: bounds[k], to: bounds[k + 1], limit: .max)
                        checksum &+= r.checksum
                        let t1 = tb_monotonic_ns()
                        samples[k] = Double(t1 - t0) / Double(r.messages)
                        t0 = t1
                    }
                    let st = Self.stats(samples, totalNs: t0 - start, messages: total)
                    pMed.append(st.median); pP99.append(st.p99); pMean.append(st.mean)
                case 2:  // parse + book (every ring message built, not published)
                    let books = OrderBooks(maxInstruments: 65_536, orderCapacity: 1 << 16)
                    var source = ITCHSource(unowned: base, count: input.count, books: books)
                    var k = 0
                    var mark = UInt64(Self.chunk)
                    // Warm-up: level arrays grow during the first tenth of the file; mallocs count after it.
                    let warm = UInt64(total / 10)
                    var m0 = tb_thread_malloc_count()
                    let start = tb_monotonic_ns()
                    var t0 = start
                    var last: UInt64 = 0
                    while let m = source.next() {
                        checksum &+= m.payload.0
                        let seen = source.report.messagesIn
                        if seen == warm { m0 = tb_thread_malloc_count() }
                        if seen == mark {
                            let t1 = tb_monotonic_ns()
                            samples[k] = Double(t1 - t0) / Double(seen - last)
                            t0 = t1
                            last = seen
                            k += 1
                            mark += UInt64(Self.chunk)
                        }
                    }
                    let end = tb_monotonic_ns()
                    let mallocs = tb_thread_malloc_count() - m0
                    mallocsPerMessage = max(mallocsPerMessage, Double(mallocs) / Double(total - Int(warm)))
                    let st = Self.stats(Array(samples[0..<max(1, k)]), totalNs: end - start, messages: total)
                    bMed.append(st.median); bP99.append(st.p99); bMean.append(st.mean)
                default:  // through to a ring (no readers: live mode never waits)
                    var producer = try RingProducer(bus: bus, ring: "market", schema: .market, slotSize: 64, capacity: 1 << 16)
                    let books = OrderBooks(maxInstruments: 65_536, orderCapacity: 1 << 16)
                    var source = ITCHSource(unowned: base, count: input.count, books: books)
                    let start = tb_monotonic_ns()
                    // The first tenth warms the books up; mallocs count over the rest.
                    let warm = FeedPublisher.run(&source, into: &producer, limit: UInt64(total / 10), endOfSession: false)
                    let m0 = tb_thread_malloc_count()
                    let summary = FeedPublisher.run(&source, into: &producer, endOfSession: false)
                    let ns = tb_monotonic_ns() - start
                    let mallocs = tb_thread_malloc_count() - m0
                    ringMallocsPerMessage = max(ringMallocsPerMessage, Double(mallocs) / Double(summary.published - warm.published))
                    ringRates.append(Double(summary.published) / (Double(ns) / 1e9))
                    ringInputRates.append(Double(total) / (Double(ns) / 1e9))
                    producer.close()
                    try? Segment.removeBus(bus)
                }
            }
        }
        let c = (Self.median(cMed), Self.median(cP99), Self.median(cMean))
        let p = (Self.median(pMed), Self.median(pP99), Self.median(pMean))
        let b = (Self.median(bMed), Self.median(bP99), Self.median(bMean))
        let ring = (Self.median(ringRates), Self.median(ringInputRates))
        func f(_ x: Double, _ d: Int = 2) -> String { String(format: "%.\(d)f", x) }
        if json {
            print("{\"bench\": \"feed\", \"result\": {\"parse_only_ns_per_msg\": {\"median\": \(f(p.0)), \"p99\": \(f(p.1)), \"mean\": \(f(p.2))}, "
                  + "\"parse_book_ns_per_msg\": {\"median\": \(f(b.0)), \"p99\": \(f(b.1)), \"mean\": \(f(b.2))}, "
                  + "\"ring_msgs_per_s\": \(Int(ring.0)), \"ring_input_msgs_per_s\": \(Int(ring.1)), "
                  + "\"mallocs_per_msg_parse_book\": \(mallocsPerMessage), \"mallocs_per_msg_ring\": \(ringMallocsPerMessage)}, "
                  + "\"baseline\": {\"c_walk_ns_per_msg\": {\"median\": \(f(c.0)), \"p99\": \(f(c.1)), \"mean\": \(f(c.2))}}, "
                  + "\"ratio\": {\"parse_only_vs_c_median\": \(f(p.0 / c.0, 3)), \"parse_only_vs_c_p99\": \(f(p.1 / c.1, 3)), "
                  + "\"parse_book_vs_c_median\": \(f(b.0 / c.0, 3))}, "
                  + "\"config\": {\"messages\": \(total), \"bytes\": \(input.count), \"rounds\": \(rounds), \"chunk\": \(Self.chunk), \"checksum\": \(checksum & 0xFF)}}")
        } else {
            print("bench feed: \(total) ITCH messages (\(input.count) bytes, memory-mapped), \(rounds) rounds interleaved")
            print("  ns/message (per 4,096-message chunk)   median      p99     mean   vs C median")
            func row(_ name: String, _ x: (Double, Double, Double)) {
                print("  " + name.padding(toLength: 36, withPad: " ", startingAt: 0) + f(x.0).leftPad(9) + f(x.1).leftPad(9) + f(x.2).leftPad(9)
                      + f(x.0 / c.0, 3).leftPad(12))
            }
            row("C loop (length walk + type switch)", c)
            row("parse only", p)
            row("parse + book", b)
            print("  through to the ring: \(Int(ring.1)) input msgs/s, \(Int(ring.0)) ring msgs/s (events + tops)")
            print("  mallocs per message after warm-up: parse+book \(mallocsPerMessage), ring \(ringMallocsPerMessage)")
        }
    }
}
