import Foundation
import TickBusCore

/// The text frame of `tickbus stat`: rings, readers (lag with a bar, loss), strategies (latency
/// p50/p99/p99.9, decisions/s), their model roles and control figures, and the execution figures
/// of the strategies that sent orders. Every line fits `width` columns (100 by default).
public enum StatView {
    public static func render(_ s: BusSnapshot, width: Int = 100) -> String {
        var lines: [String] = []
        let time = Date(timeIntervalSince1970: Double(s.takenAtRealtimeNs) / 1e9)
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        f.timeZone = TimeZone(identifier: "UTC")
        let title = "tickbus stat  bus=\(s.bus)"
        let stamp = f.string(from: time) + " UTC"
        lines.append(title + String(repeating: " ", count: max(1, width - title.count - stamp.count)) + stamp)

        lines.append("")
        lines.append(
            row([
                ("RING", -22), ("GEN", 4), ("STATE", -8), ("PUBLISHED", 13), ("MSG/S", 9), ("CAPACITY", 9),
                ("READERS", 8), ("PID", 8),
            ])
        )
        if let e = s.error {
            lines.append(String("bus \(s.bus): \(e)".prefix(width)))
        } else if s.rings.isEmpty {
            lines.append("(no rings)")
        }
        for r in s.rings {
            if let e = r.error {
                lines.append(String("\(r.name): invalid: \(e)".prefix(width)))
                continue
            }
            lines.append(
                row([
                    (r.name, -22), ("\(r.generation)", 4), (r.producerState, -8), ("\(r.published)", 13),
                    (r.messagesPerSecond.map(compact) ?? "-", 9), ("\(r.capacity)", 9),
                    ("\(r.readers.filter { $0.alive }.count)", 8), ("\(r.producerPid)", 8),
                ])
            )
        }

        lines.append("")
        lines.append(
            row([
                ("RING/READER", -22), ("PID", 7), ("MODE", -6), ("STAT", -4), ("POSITION", 10), ("LAG", 10),
                ("LAG/CAP", -10), ("LOST", 9), ("LAPS", 6), ("HB", 5),
            ])
        )
        var anyReader = false
        for r in s.rings where r.error == nil {
            for d in r.readers {
                anyReader = true
                lines.append(
                    row([
                        (String("\(r.name)/\(d.name)".prefix(22)), -22), ("\(d.pid)", 7),
                        (d.gating ? "gating" : "live", -6),
                        (d.state, -4), ("\(d.position)", 10), ("\(d.lag)", 10),
                        (bar(d.lag, of: UInt64(r.capacity), width: 8), -10),
                        ("\(d.lost)", 9), ("\(d.laps)", 6), (d.alive ? age(d.heartbeatAgeSeconds) : "-", 5),
                    ])
                )
            }
        }
        if !anyReader { lines.append("(no readers)") }

        lines.append("")
        lines.append(
            row([
                ("STRATEGY", -16), ("GEN", 4), ("STATE", -7), ("MODEL", -8), ("DECISIONS", 10), ("SIGNALS", 8),
                ("DISAGREE", 8), ("DEC/S", 7), ("P50", 7), ("P99", 7), ("P99.9", 7),
            ])
        )
        if s.strategies.isEmpty { lines.append("(no strategies)") }
        for st in s.strategies {
            lines.append(
                row([
                    (String(st.name.prefix(16)), -16), ("\(st.generation)", 4), (st.state, -7),
                    (String(st.modelId.suffix(8)), -8),
                    ("\(st.decisions)", 10), ("\(st.signals)", 8), ("\(st.disagreements)", 8),
                    (st.decisionsPerSecond.map(compact) ?? "-", 7),
                    (duration(st.latency.p50Ns, st.latency.count), 7),
                    (duration(st.latency.p99Ns, st.latency.count), 7),
                    (duration(st.latency.p999Ns, st.latency.count), 7),
                ])
            )
        }
        lines += roleLines(s, formatter: f)
        lines += executionLines(s)
        return lines.map { String($0.prefix(width)) }.joined(separator: "\n") + "\n"
    }

    /// The roles table (one row per filled role: version id's first 12 digits, runtime model id)
    /// and the control table (canary percent, paused, commands applied/rejected/malformed, last
    /// swap time in UTC, swap latency p50/p99).
    static func roleLines(_ s: BusSnapshot, formatter f: DateFormatter) -> [String] {
        if s.strategies.isEmpty { return [] }  // the strategy table already says so
        var lines = ["", row([("STRATEGY", -16), ("ROLE", -6), ("VERSION", -12), ("MODEL ID", -16)])]
        for st in s.strategies {
            let name = (String(st.name.prefix(16)), -16)
            if !st.rolesAvailable {
                lines.append(row([name, ("?", -6), ("(roles being changed; not read)", -31)]))
            } else if st.roles.isEmpty {
                lines.append(row([name, ("-", -6), ("(no models)", -12)]))
            }
            for r in st.roles {
                lines.append(
                    row([
                        name, (r.role, -6), (r.version.isEmpty ? "-" : String(r.version.prefix(12)), -12),
                        (r.modelId, -16),
                    ])
                )
            }
        }
        lines.append("")
        lines.append(
            row([
                ("STRATEGY", -16), ("PAUSED", -6), ("CANARY%", 7), ("APPLIED", 8), ("REJECTED", 8), ("MALFORMED", 9),
                ("LAST SWAP (UTC)", -19), ("SWAP P50", 8), ("SWAP P99", 8),
            ])
        )
        for st in s.strategies {
            let last =
                st.lastSwapNs > 0 ? f.string(from: Date(timeIntervalSince1970: Double(st.lastSwapNs) / 1e9)) : "-"
            lines.append(
                row([
                    (String(st.name.prefix(16)), -16), (st.rolesAvailable ? (st.paused ? "yes" : "no") : "?", -6),
                    (st.rolesAvailable ? "\(st.canaryPercent)" : "?", 7), ("\(st.controlApplied)", 8),
                    ("\(st.controlRejected)", 8), ("\(st.controlMalformed)", 9), (last, -19),
                    (duration(st.swapLatency.p50Ns, st.swapLatency.count), 8),
                    (duration(st.swapLatency.p99Ns, st.swapLatency.count), 8),
                ])
            )
        }
        return lines
    }

    /// Columns: negative width left-aligns, positive right-aligns; one space between columns.
    static func row(_ cols: [(String, Int)]) -> String {
        cols.map { text, w in
            let n = abs(w)
            let t = text.count > n ? String(text.prefix(n)) : text
            let pad = String(repeating: " ", count: n - t.count)
            return w < 0 ? t + pad : pad + t
        }.joined(separator: " ")
    }

    /// `[#####     ]`: lag as a fraction of capacity (a full bar is a reader about to be lapped).
    static func bar(_ lag: UInt64, of capacity: UInt64, width: Int) -> String {
        guard capacity > 0 else { return "[" + String(repeating: " ", count: width) + "]" }
        let filled =
            lag == 0 ? 0 : max(1, min(width, Int((Double(lag) / Double(capacity) * Double(width)).rounded(.up))))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    static func compact(_ x: Double) -> String {
        switch x {
        case ..<1000: return String(format: "%.0f", x)
        case ..<1_000_000: return String(format: "%.1fk", x / 1e3)
        default: return String(format: "%.2fM", x / 1e6)
        }
    }

    static func age(_ s: Double) -> String {
        s < 10 ? String(format: "%.1fs", s) : s < 3600 ? String(format: "%.0fs", s) : ">1h"
    }

    static func duration(_ ns: UInt64, _ count: UInt64) -> String {
        if count == 0 { return "-" }
        let x = Double(ns)
        switch x {
        case ..<1000: return "\(ns)ns"
        case ..<1e6: return String(format: "%.1fus", x / 1e3)
        case ..<1e9: return String(format: "%.1fms", x / 1e6)
        default: return String(format: "%.2fs", x / 1e9)
        }
    }

    /// The machine-readable snapshot printed by `tickbus stat --json`.
    public static func json(_ s: BusSnapshot) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? e.encode(s) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
