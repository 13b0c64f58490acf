/// The one round runner of every benchmark: baseline and subject (and any other contenders) run
/// in the same process, alternating round by round — forward order in even rounds, reversed in
/// odd ones — so drift of the machine (frequency, a neighbour's load, migration) falls on both
/// sides alike. Figures are then the medians over rounds (`Rank.median`).
public enum InterleavedRounds {
    /// The order of `contenders` in round `round`.
    public static func order<C>(_ contenders: [C], round: Int) -> [C] {
        round % 2 == 0 ? contenders : contenders.reversed()
    }

    /// Runs `rounds` rounds, each calling `body(round, contender)` once per contender in the
    /// round's order.
    public static func run<C, E: Error>(rounds: Int, _ contenders: [C], _ body: (Int, C) throws(E) -> Void) throws(E) {
        for round in 0..<rounds {
            for contender in order(contenders, round: round) { try body(round, contender) }
        }
    }
}
