import Foundation

/// `report.html`: the report's figures and three plots over exchange time — P&L, net position and
/// drawdown — as inline SVG with axes and labels. Self-contained: no script, no stylesheet or font
/// from the network, readable offline and in any browser.
public enum ReportHTML {
    /// The page for `report` and its `curve`.
    /// - Parameter title: the page's heading (escaped).
    public static func render(_ report: BacktestReport, curve: EquityCurve, title: String = "Backtest report") -> String
    {
        let used = curve.used.filter { $0.bucket.samples > 0 }
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body{font-family:sans-serif;margin:2em;color:#222;max-width:960px}
            table{border-collapse:collapse;margin:1em 0}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}
            td.n{text-align:right;font-family:monospace}svg{display:block;margin:1em 0 2em 0}
            .axis{stroke:#444;stroke-width:1}.grid{stroke:#ddd;stroke-width:1}.band{opacity:0.25}
            text{font-size:11px;fill:#333}.label{font-size:12px}.title{font-size:14px;font-weight:bold}
            </style></head><body>
            <h1>\(escape(title))</h1>

            """
        html += "<p>Exchange time \(clock(report.firstTimeNs)) to \(clock(report.lastTimeNs)); "
        html += "\(report.decisions) decisions, \(report.orders) orders, \(report.fills) fills. "
        html += "P&amp;L is cash after fees plus each position marked to its mid.</p>\n"
        html += summary(report)
        html += plot(
            id: "pnl",
            title: "P&L (dollars, after fees, marked to mid)",
            used.map { ($0.start, $0.bucket.pnlMin, $0.bucket.pnlMax, $0.bucket.pnlLast) },
            color: "#1f6fb4",
            curve: curve
        )
        html += plot(
            id: "position",
            title: "Net position (shares, all instruments)",
            used.map {
                ($0.start, Double($0.bucket.positionMin), Double($0.bucket.positionMax), Double($0.bucket.positionLast))
            },
            color: "#2a9d4b",
            curve: curve
        )
        html += plot(
            id: "drawdown",
            title: "Drawdown (dollars below the running peak of P&L)",
            used.map { ($0.start, -$0.bucket.drawdownMax, -$0.bucket.drawdownMin, -$0.bucket.drawdownLast) },
            color: "#c0392b",
            curve: curve
        )
        html += "<h2>Inputs</h2>\n<table><tr><th>input</th><th>sha256</th></tr>\n"
        for (k, v) in report.inputs.sorted(by: { $0.key < $1.key }) {
            html += "<tr><td>\(escape(k))</td><td class=\"n\">\(escape(v))</td></tr>\n"
        }
        html += "</table>\n<h2>Counters</h2>\n<table>\n"
        for (k, v) in report.counters.sorted(by: { $0.key < $1.key }) {
            html += "<tr><td>\(escape(k))</td><td class=\"n\">\(v)</td></tr>\n"
        }
        html += "</table>\n<p>Each plot shows, per time bucket (\(curve.count) buckets of "
        html += "\(duration(curve.width))), the range of values in the bucket (shaded) and its last value (line).</p>\n"
        html += "</body></html>\n"
        return html
    }

    static func summary(_ r: BacktestReport) -> String {
        func money(_ v: Double) -> String { String(format: "%.2f", v) }
        func opt(_ v: Double?, _ f: String = "%.4f") -> String { v.map { String(format: f, $0) } ?? "n/a" }
        let rows: [(String, String)] = [
            ("P&L ($)", money(r.pnl)), ("realized, before fees ($)", money(r.realized)),
            ("unrealized ($)", money(r.unrealized)), ("fees ($)", money(r.fees)),
            ("max drawdown ($)", money(r.maxDrawdown)),
            ("Sharpe (annualised, \(r.sharpeBuckets) one-minute buckets)", opt(r.sharpe, "%.3f")),
            ("fill rate", opt(r.fillRate)), ("orders / fills", "\(r.orders) / \(r.fills)"),
            ("ordered / filled shares", "\(r.orderedShares) / \(r.filledShares)"),
            ("slippage ($ per share, + = worse than the decision's mid)", opt(r.slippage, "%.5f")),
            ("hit rate (\(r.hits) of \(r.signals), horizon \(duration(r.horizonNs)))", opt(r.hitRate)),
            ("turnover ($)", money(r.turnover)),
            ("decision latency p50 / p99 / max (ns)", "\(r.latency.p50) / \(r.latency.p99) / \(r.latency.max)"),
        ]
        var s = "<table>\n"
        for (k, v) in rows { s += "<tr><td>\(escape(k))</td><td class=\"n\">\(escape(v))</td></tr>\n" }
        return s + "</table>\n"
    }

    /// One plot: x exchange time, y the values; a shaded min–max band and the line of last values.
    static func plot(
        id: String,
        title: String,
        _ points: [(t: Int64, lo: Double, hi: Double, last: Double)],
        color: String,
        curve: EquityCurve
    ) -> String {
        let (w, h) = (900.0, 260.0)
        let (left, right, top, bottom) = (80.0, 20.0, 30.0, 45.0)
        var s = "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" "
        s += "viewBox=\"0 0 \(Int(w)) \(Int(h))\" role=\"img\" aria-label=\"\(escape(title))\">\n"
        s += "<text class=\"title\" x=\"\(left)\" y=\"18\">\(escape(title))</text>\n"
        guard let first = points.first, let lastPoint = points.last else {
            return s + "<text x=\"\(left)\" y=\"\(h / 2)\">no data</text>\n</svg>\n"
        }
        let t0 = first.t
        let t1 = max(lastPoint.t + curve.width, t0 + 1)
        var lo = points.map(\.lo).min()!
        var hi = points.map(\.hi).max()!
        lo = min(lo, 0)
        hi = max(hi, 0)
        if hi - lo < 1e-9 { (lo, hi) = (lo - 1, hi + 1) }
        let yTicks = niceTicks(lo, hi)
        lo = min(lo, yTicks.first!)
        hi = max(hi, yTicks.last!)
        let pw = w - left - right
        let ph = h - top - bottom
        func x(_ t: Int64) -> Double { left + pw * Double(t - t0) / Double(t1 - t0) }
        func y(_ v: Double) -> Double { top + ph * (1 - (v - lo) / (hi - lo)) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        for v in yTicks {
            s += "<line class=\"grid\" x1=\"\(f(left))\" y1=\"\(f(y(v)))\" x2=\"\(f(w - right))\" y2=\"\(f(y(v)))\"/>"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(tickLabel(v))</text>\n"
        }
        for t in timeTicks(t0, t1) {
            s +=
                "<line class=\"axis\" x1=\"\(f(x(t)))\" y1=\"\(f(top + ph))\" x2=\"\(f(x(t)))\" y2=\"\(f(top + ph + 5))\"/>"
            s += "<text x=\"\(f(x(t)))\" y=\"\(f(top + ph + 18))\" text-anchor=\"middle\">\(clock(t))</text>\n"
        }
        s += "<line class=\"axis\" x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + ph))\"/>\n"
        s += "<line class=\"axis\" x1=\"\(f(left))\" y1=\"\(f(y(0)))\" x2=\"\(f(w - right))\" y2=\"\(f(y(0)))\"/>\n"
        s += "<text class=\"label\" x=\"\(f(left + pw / 2))\" y=\"\(f(h - 6))\" text-anchor=\"middle\">"
        s += "exchange time (HH:MM:SS)</text>\n"
        var band = points.map { "\(f(x($0.t))),\(f(y($0.hi)))" }
        band += points.reversed().map { "\(f(x($0.t))),\(f(y($0.lo)))" }
        s += "<polygon class=\"band\" fill=\"\(color)\" points=\"\(band.joined(separator: " "))\"/>\n"
        let line = points.map { "\(f(x($0.t))),\(f(y($0.last)))" }.joined(separator: " ")
        s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(line)\"/>\n"
        return s + "</svg>\n"
    }

    /// About five round values covering lo...hi (1, 2 or 5 × a power of ten apart).
    static func niceTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let raw = (hi - lo) / 5
        let p = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 10 * p
        var v = floor(lo / step) * step
        var out: [Double] = []
        while v <= hi + step * 0.5 && out.count < 20 {
            out.append(v)
            v += step
        }
        return out
    }

    static func tickLabel(_ v: Double) -> String {
        let a = abs(v)
        if a == 0 { return "0" }
        if a >= 1e6 { return String(format: "%.3gM", v / 1e6) }
        if a >= 1e3 { return String(format: "%.4gk", v / 1e3) }
        return String(format: "%.4g", v)
    }

    /// Round clock times covering t0...t1 (about six).
    static func timeTicks(_ t0: Int64, _ t1: Int64) -> [Int64] {
        let steps: [Int64] = [
            1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 5_000_000_000,
            10_000_000_000, 30_000_000_000, 60_000_000_000, 300_000_000_000, 600_000_000_000, 1_800_000_000_000,
            3_600_000_000_000,
        ]
        let span = t1 - t0
        let step = steps.first { span / $0 <= 7 } ?? 3_600_000_000_000
        var t = (t0 + step - 1) / step * step
        var out: [Int64] = []
        while t <= t1 && out.count < 12 {
            out.append(t)
            t += step
        }
        return out
    }

    /// Exchange time (ns since midnight) as HH:MM:SS, with a fraction when not whole seconds.
    static func clock(_ t: Int64) -> String {
        let s = t / 1_000_000_000
        let frac = t % 1_000_000_000
        var out = String(format: "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
        if frac != 0 {
            var digits = String(format: "%09d", frac)
            while digits.hasSuffix("0") { digits.removeLast() }
            out += "." + digits
        }
        return out
    }

    static func duration(_ ns: Int64) -> String {
        if ns >= 1_000_000_000 { return String(format: "%g s", Double(ns) / 1e9) }
        if ns >= 1_000_000 { return String(format: "%g ms", Double(ns) / 1e6) }
        if ns >= 1000 { return String(format: "%g µs", Double(ns) / 1e3) }
        return "\(ns) ns"
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}

extension BacktestLedger {
    /// Writes `report.json` and `report.html` into `directory` (which must exist).
    public func write(
        _ report: BacktestReport,
        directory: String,
        title: String = "Backtest report"
    )
        throws(BacktestReportError)
    {
        try Self.writeFile(directory + "/report.json", try report.json())
        try Self.writeFile(
            directory + "/report.html",
            Array(ReportHTML.render(report, curve: curve, title: title).utf8)
        )
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(BacktestReportError) {
        var w = try BufferedFileWriter(path: path)
        bytes.withUnsafeBufferPointer { w.append($0) }
        try w.close()
    }
}
