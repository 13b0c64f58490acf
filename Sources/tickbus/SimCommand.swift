import ArgumentParser
import Execution
import Feed
import Foundation
import Replay

struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Match own orders from a CSV against a market source (Docs/EXECUTION.md); write fills and events.",
        discussion: """
            orders.csv: id,time_ns,action,instrument,side,price,qty,tif (action new|cancel, side B|S, price in 1e-4, \
            tif DAY|IOC; a cancel names the id it cancels and may leave the other fields empty). Lines that cannot \
            be taken are refused one by one on stderr with their line number, and the rest runs; the exit status \
            is then 1. Last line on stderr: orders=N fills=F filled_shares=Q rejected=R refused_lines=L.
            """
    )

    @Option(help: "itch:FILE | lobster:MESSAGES.csv,ORDERBOOK.csv | journal:DIR | synthetic:SEED") var source: String
    @Option(help: "Own orders (CSV with a header).") var orders: String
    @Option(help: "ORDER_NS,RESPONSE_NS: exchange-time delays of an own action and of the responses.")
    var latency: String = "0,0"
    @Option(help: "maker=M,taker=T,order=O: dollars per share (a rebate negative) and per order.")
    var fees: String = ""
    @Option(help: "fills.csv: order_id,time_ns,market_sequence,price,qty,liquidity,fee") var out: String
    @Option(help: "events.csv: order_id,time_ns,event,reason,fee (ack, reject, cancelled, cancel_rejected).")
    var events: String?

    func validate() throws {
        _ = try spec()
        guard SimulateOrders.latency(parsing: latency) != nil else {
            throw ValidationError("--latency must be ORDER_NS,RESPONSE_NS (integers, 0 ≤ ns < 2^62), got '\(latency)'")
        }
        if case .failure(let e) = SimulateOrders.fees(parsing: fees), !fees.isEmpty {
            throw ValidationError(e.description)
        }
    }

    func spec() throws -> SourceSpec {
        do { return try SourceSpec(parsing: source) } catch { throw ValidationError(error.description) }
    }

    func run() throws {
        let file: OrderFile
        let outcome: SimulateOrders.Outcome
        do {
            file = try SimulateOrders.readOrders(path: orders)
            for refusal in file.refusals { warn("sim: \(refusal)") }
            let fees = fees.isEmpty ? ExecutionFees() : try SimulateOrders.fees(parsing: fees).get()
            outcome = try SimulateOrders.run(
                try spec(),
                orders: file,
                latency: SimulateOrders.latency(parsing: latency) ?? .zero,
                fees: fees,
                log: { warn($0) }
            )
        } catch let e as SimulateOrdersError {
            throw RuntimeFailure(e)
        }
        let sink = outcome.sink
        for e in sink.refusals where e.kind == .reject {
            let line = file.line(ofOrder: e.orderId).map { "orders line \($0)" } ?? "orders"
            warn("sim: \(line): order \(e.orderId) rejected at \(e.time): \(e.reason)")
        }
        try write(sink.fills, to: out)
        if let events { try write(sink.events, to: events) }
        for s in outcome.report.malformedSamples { warn("sim: source \(s)") }
        warn(
            "orders=\(outcome.orders) fills=\(sink.fillCount) filled_shares=\(sink.filledShares) "
                + "rejected=\(sink.count(.reject)) refused_lines=\(file.refusals.count)"
        )
        if outcome.report.stoppedEarly { throw RuntimeFailure("the source stopped early (truncated)", status: 1) }
        if !file.refusals.isEmpty { throw ExitCode(1) }
    }

    func write(_ bytes: [UInt8], to path: String) throws {
        do { try Data(bytes).write(to: URL(fileURLWithPath: path)) } catch {
            throw RuntimeFailure("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
