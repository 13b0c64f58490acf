import Execution
import Testing
import TickBusCore

/// The order-file parser on bad input: every bad line refused with its number and what was wrong,
/// every good line kept, sorted by time with file order within a time.
struct OrderFileTests {
    static let header = "id,time_ns,action,instrument,side,price,qty,tif\n"

    func parse(_ body: String) throws -> OrderFile { try OrderFile.parse(Array((Self.header + body).utf8)) }

    @Test func goodLinesSortedByTimeStableWithinATime() throws {
        let f = try parse(
            """
            1,300,new,7,B,1000000,100,DAY
            2,100,new,7,S,1000100,5,IOC
            3,300,new,7,S,9999,1,DAY
            1,200,cancel,,,,,
            4,100,new,8,B,1,4294967295,DAY

            """
        )
        #expect(f.refusals.isEmpty, "\(f.refusals)")
        #expect(f.actions.map(\.orderId) == [2, 4, 1, 1, 3])
        #expect(f.actionLines == [3, 6, 5, 2, 4])
        #expect(f.actions.map(\.kind) == [.new, .new, .cancel, .new, .new])
        #expect(
            f.actions[0] == .new(id: 2, at: 100, instrument: 7, side: .sell, price: 1_000_100, quantity: 5, tif: .ioc)
        )
        #expect(f.actions[1].quantity == UInt32.max && f.actions[1].price == 1)
        // A cancel carries its order's instrument (for records and the CLI), sent at its own time.
        #expect(f.actions[2].sentTime == 200 && f.actions[2].instrument == 7)
        #expect(f.line(ofOrder: 3) == 4 && f.line(ofOrder: 9) == nil)
    }

    @Test func badLinesRefusedOneByOneTheRestKept() throws {
        let f = try parse(
            """
            1,100,new,1,B,1000000,100,DAY
            2,100,new,1,B,1000000,0,DAY
            3,100,new,1,B,1000000,-5,DAY
            4,100,new,1,B,1000050,100,DAY
            5,100,new,1,B,0,100,DAY
            6,100,new,1,B,-100,100,DAY
            7,100,new,1,X,1000000,100,DAY
            8,100,new,1,B,1000000,100,GTC
            9,100,amend,1,B,1000000,100,DAY
            10,100,new,1,B,1000000,100
            eleven,100,new,1,B,1000000,100,DAY
            12,1e5,new,1,B,1000000,100,DAY
            13,100,new,1,B,1000000,99999999999,DAY
            14,99999999999999999999,new,1,B,1000000,100,DAY
            1,200,new,1,S,1000000,100,DAY
            77,300,cancel,,,,,
            2,300,cancel,,,,,
            15,100,new,1,B,999999,100,IOC
            16,-1,new,1,B,1000000,100,DAY
            17,100,new,4294967296,B,1000000,100,DAY
            18,100,new,1,B,9223372036854775808,100,DAY
            ,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
            1,400,cancel,,,,,

            """
        )
        let byLine = Dictionary(uniqueKeysWithValues: f.refusals.map { ($0.line, $0.problem) })
        #expect(byLine[3] == .zeroQuantity)
        #expect(byLine[4] == .negativeQuantity(-5))
        #expect(byLine[5] == .offTickGrid(1_000_050))
        #expect(byLine[6] == .nonPositivePrice(0))
        #expect(byLine[7] == .nonPositivePrice(-100))
        #expect(byLine[8] == .unknownSide("X"))
        #expect(byLine[9] == .unknownTimeInForce("GTC"))
        #expect(byLine[10] == .unknownAction("amend"))
        #expect(byLine[11] == .fieldCount(7))
        #expect(byLine[12] == .notInteger(field: "id", text: "eleven"))
        #expect(byLine[13] == .notInteger(field: "time_ns", text: "1e5"))
        #expect(byLine[14] == .outOfRange(field: "qty", text: "99999999999", range: "1...4294967295"))
        if case .outOfRange(let field, _, _)? = byLine[15] { #expect(field == "time_ns") } else { Issue.record() }
        #expect(byLine[16] == .duplicateId(1, firstLine: 2))
        #expect(byLine[17] == .cancelOfUnknownOrder(77))
        #expect(byLine[18] == .cancelOfRefusedOrder(2, line: 3))
        #expect(byLine[19] == .offTickGrid(999_999))
        if case .outOfRange(let field, _, _)? = byLine[20] { #expect(field == "time_ns") } else { Issue.record() }
        if case .outOfRange(let field, _, _)? = byLine[21] { #expect(field == "instrument") } else { Issue.record() }
        if case .outOfRange(let field, _, _)? = byLine[22] { #expect(field == "price") } else { Issue.record() }
        #expect(byLine[23] == .fieldCount(71))
        #expect(f.refusals.count == 21, "\(f.refusals.map(\.description))")
        // What runs: order 1 and its cancel.
        #expect(f.actions.map(\.orderId) == [1, 1])
        #expect(f.actionLines == [2, 24])
        // Messages name the line and what was wrong.
        #expect(f.refusals[0].description == "orders line 3: qty is zero")
        #expect("\(OrderFileError(line: 5, problem: .offTickGrid(1_000_050)))".contains("off the tick grid"))
    }

    @Test func headerIsRequired() {
        #expect(throws: OrderFileError(line: 1, problem: .header(found: "id,time,action"))) {
            try OrderFile.parse(Array("id,time,action\n1,2,new\n".utf8))
        }
        #expect(throws: OrderFileError(line: 1, problem: .header(found: ""))) { try OrderFile.parse([UInt8]()) }
        // CRLF line ends are fine; spaces around fields too.
        let f = try? OrderFile.parse(
            Array("id,time_ns,action,instrument,side,price,qty,tif\r\n 1 ,5,new,1,B,100,1,DAY\r\n".utf8)
        )
        #expect(f?.actions.count == 1 && f?.refusals.isEmpty == true)
    }

    @Test func tickGrid() {
        #expect(TickGrid.isValid(9_999) && TickGrid.isValid(1) && TickGrid.isValid(10_000) && TickGrid.isValid(10_100))
        #expect(!TickGrid.isValid(10_001) && !TickGrid.isValid(0) && !TickGrid.isValid(-100))
    }
}
