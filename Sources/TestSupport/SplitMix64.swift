/// SplitMix64: the seeded generator of the tests (a failing seed replays exactly, the same data
/// every run). One copy for the property tests and the reference data of every test target.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64

    /// Starts from a raw state.
    public init(state: UInt64) { self.state = state }

    /// Starts from a test's seed, spread so that nearby seeds give unrelated streams.
    public init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<n` (n > 0); the modulo bias is irrelevant at test sizes.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
