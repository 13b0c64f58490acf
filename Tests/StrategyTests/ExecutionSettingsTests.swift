import Execution
import Strategy
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The execution file: every key read with its value, the defaults, and each refusal naming the
/// line and the key.
@Suite("Execution file (E.toml)")
struct ExecutionSettingsTests {
    static let full = """
        # paper trading
        [simulator]
        order_latency_ns = 20_000       # default 0
        response_latency_ns = 30_000
        maker_fee = -0.0020
        taker_fee = 0.0030
        order_fee = 0.01
        [orders]
        mode = "cross"
        size = 200
        cancel_on_flat = false
        cancel_on_opposite = false
        lifetime_ns = 1_000_000_000
        [risk]
        max_position = 1000
        max_orders_per_second = 100
        max_loss = 5000.0
        """

    @Test func everyKey() throws {
        let s = try ExecutionSettings.parse(Self.full)
        #expect(s.latency == ExecutionLatency(orderNs: 20_000, responseNs: 30_000))
        #expect(s.fees == ExecutionFees(makerPerShare: -0.002, takerPerShare: 0.003, perOrder: 0.01))
        #expect(s.orders.mode == .cross)
        #expect(s.orders.size == 200)
        #expect(!s.orders.cancelOnFlat)
        #expect(!s.orders.cancelOnOpposite)
        #expect(s.orders.lifetimeNs == 1_000_000_000)
        #expect(s.risk == RiskSettings(maxPosition: 1000, maxOrdersPerSecond: 100, maxLoss: 5000))
    }

    @Test func defaults() throws {
        let s = try ExecutionSettings.parse("# nothing\n\n[orders]\n")
        #expect(s.latency == .zero)
        #expect(s.fees == .zero)
        #expect(s.orders.mode == .join)
        #expect(s.orders.size == 100)
        #expect(s.orders.cancelOnFlat && s.orders.cancelOnOpposite)
        #expect(s.orders.lifetimeNs == 0)
        #expect(s.risk.maxPosition == nil && s.risk.maxOrdersPerSecond == nil && s.risk.maxLoss == nil)
        // A max_loss written as an integer is a number of dollars too.
        #expect(try ExecutionSettings.parse("[risk]\nmax_loss = 250").risk.maxLoss == 250)
    }

    /// Each refusal: the error value (line, table, key) and the message that names them.
    @Test(arguments: [
        ("[risk]\nmax_loss = -1", 2, "[risk] max_loss must be a positive number of dollars, found -1"),
        ("[risk]\nmax_loss = nan", 2, "[risk] max_loss must be a positive number of dollars"),
        ("[orders]\nsize = 0", 2, "[orders] size must be an integer, a number of shares, in 1...100000000, found 0"),
        ("[orders]\nsize = 1.5", 2, "[orders] size must be an integer"),
        ("[orders]\nmode = \"hold\"", 2, "[orders] mode must be \"join\", \"cross\" or \"quote\", found \"hold\""),
        ("[orders]\ncancel_on_flat = 1", 2, "[orders] cancel_on_flat must be true or false, found 1"),
        ("[simulator]\n\norder_latency_ns = -5", 3, "[simulator] order_latency_ns must be an integer"),
        ("[simulator]\ntaker_fee = 1e9", 2, "[simulator] taker_fee must be a number of dollars"),
        ("[risk]\nmax_orders_per_second = 0", 2, "[risk] max_orders_per_second must be an integer"),
        ("[risk]\nmax_position = 99999999999999999999", 2, "[risk] max_position must be an integer"),
        ("[orders]\nsizes = 5", 2, "unknown key 'sizes' in [orders]"),
        ("size = 5", 1, "key 'size' outside a table"),
        ("[order]\n", 1, "unknown table [order] (expected [simulator], [orders] or [risk])"),
        ("[[orders]]\n", 1, "unknown table [[orders]]"),
        ("[orders]\nsize = 5\nsize = 6", 3, "[orders] size set twice (first on line 2)"),
        ("[orders]\nsize 5", 2, "expected key = value"),
        ("[orders]\nmode = \"join", 2, "unterminated string"),
    ])
    func refused(text: String, line: Int, message: String) {
        do {
            _ = try ExecutionSettings.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect("\(error)".hasPrefix("execution file line \(line): "), "\(error)")
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test func fileErrorsNameThePath() throws {
        let missing = "/nonexistent-\(getpid())/E.toml"
        #expect(throws: ExecutionSettingsError.io(path: missing, errno: ENOENT)) {
            try ExecutionSettings.load(path: missing)
        }
        let path = "/tmp/tickbus-exec-\(getpid()).toml"
        defer { unlink(path) }
        let f = fopen(path, "w")!
        fputs("[risk]\nmax_position = -3\n", f)
        fclose(f)
        do {
            _ = try ExecutionSettings.load(path: path)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".hasPrefix("\(path): execution file line 2: [risk] max_position"), "\(error)")
        }
    }
}
