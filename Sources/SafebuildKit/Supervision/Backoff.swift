/// Exponential backoff with jitter, so that builds failing together do not retry together.
/// Pure: the random source is passed in.
package struct Backoff: Sendable, Equatable {
    package enum Jitter: String, Sendable, Equatable, Codable {
        /// Uniform in [0, min(max, base·2^(n-1))] ("full jitter").
        case full
        /// Uniform in [base, min(max, 3·previous)] ("decorrelated jitter").
        case decorrelated
        /// No jitter: min(max, base·2^(n-1)).
        case none
    }

    /// Seconds; the first delay's scale.
    package var base: Double
    /// Seconds; no single delay is longer.
    package var max: Double
    package var jitter: Jitter
    /// With `.full`: the share of each delay that is randomised (1: anywhere in [0, delay]; 0.2: in [0.8·delay, delay]).
    package var spread: Double

    package init(base: Double = 2, max: Double = 60, jitter: Jitter = .full, spread: Double = 1) {
        self.base = base
        self.max = Swift.max(max, 0)
        self.jitter = jitter
        self.spread = Swift.min(Swift.max(spread, 0), 1)
    }

    /// The delay before retry number `retry` (1 = the first), given the previous delay (0 before the first).
    package func delay(retry: Int, previous: Double, random: inout some RandomNumberGenerator) -> Double {
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
