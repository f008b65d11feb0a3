/// Exponential backoff with jitter, so that builds failing together do not retry together.
/// Pure: the random source is passed in.
public struct Backoff: Sendable, Equatable {
    public enum Jitter: String, Sendable, Equatable, Codable {
        /// Uniform in [0, min(max, base·2^(n-1))] ("full jitter").
        case full
        /// Uniform in [base, min(max, 3·previous)] ("decorrelated jitter").
        case decorrelated
        /// No jitter: min(max, base·2^(n-1)).
        case none
    }

    /// Seconds; the first delay's scale.
    public var base: Double
    /// Seconds; no single delay is longer.
    public var max: Double
    public var jitter: Jitter
    /// With `.full`: the share of each delay that is randomised (1: anywhere in [0, delay]; 0.2: in [0.8·delay, delay]).
    public var spread: Double

    public init(base: Double = 2, max: Double = 60, jitter: Jitter = .full, spread: Double = 1) {
        self.base = base
        self.max = Swift.max(max, 0)
        self.jitter = jitter
        self.spread = Swift.min(Swift.max(spread, 0), 1)
    }

    /// The delay before retry number `retry` (1 = the first), given the previous delay (0 before the first).
    public func delay(retry: Int, previous: Double, random: inout some RandomNumberGenerator) -> Double {
        let n = Swift.max(retry, 1)
        let exponential = Swift.min(max, base * Double(1 << Swift.min(n - 1, 30)))
        switch jitter {
        case .none:
            return exponential
        case .full:
            guard exponential > 0 else { return 0 }
            return Double.random(in: (exponential * (1 - spread))...exponential, using: &random)
        case .decorrelated:
            let low = Swift.min(base, max)
            let high = Swift.min(max, Swift.max(low, 3 * (previous > 0 ? previous : base)))
            return low < high ? Double.random(in: low...high, using: &random) : low
        }
    }
}

/// A small seeded generator (SplitMix64) for tests and reproducible runs.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
