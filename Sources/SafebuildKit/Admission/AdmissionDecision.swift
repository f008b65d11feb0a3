/// Whether a reservation may start now: a pure function of the other reservations in the same pool, the budget,
/// what the budget really holds now, the request and its ticket.
///
/// - Free memory is the budget less the larger of what running reservations hold and what is really in use (so a
///   container started without safebuild counts, and so does a reservation whose container has not grown yet).
/// - First come, first served: a reservation waits while one with an earlier ticket waits, even if it would fit,
///   so that a large job is never passed forever by small ones.
/// - A request larger than the whole budget would never fit: with `oversize: alone` it runs when no other
///   reservation is held and none waits ahead (then every later one waits for it); with `refuse` it is refused.
package enum AdmissionDecision {
    package enum Verdict: Sendable, Equatable {
        /// Start now; `alone` for a request larger than the budget, admitted because nothing else holds memory.
        case admit(alone: Bool)
        case wait(Wait)
        /// Larger than the whole budget, and the policy refuses such requests.
        case refuse
    }

    /// What a waiting reservation waits for.
    package struct Wait: Sendable, Equatable {
        /// The request.
        package var needed: UInt64
        /// What is free now.
        package var free: UInt64
        /// Reservations with an earlier ticket that wait too.
        package var ahead: Int
        /// Reservations running now.
        package var running: Int
        /// It waits to run alone (its request is larger than the budget).
        package var alone: Bool

        package init(needed: UInt64, free: UInt64, ahead: Int, running: Int, alone: Bool = false) {
            self.needed = needed
            self.free = free
            self.ahead = ahead
            self.running = running
            self.alone = alone
        }
    }

    /// What a ticket sees of its pool.
    package struct Look: Sendable, Equatable {
        /// Bytes held by running reservations.
        package var reserved: UInt64
        /// The budget less the larger of `reserved` and what is really used.
        package var free: UInt64
        package var ahead: Int
        package var running: Int
    }

    package static func look(ticket: UInt64, others: [LedgerEntry], budget: UInt64, used: UInt64?) -> Look {
        let running = others.filter { $0.state == .running }
        let reserved = running.reduce(UInt64(0)) { $0.addingReportingOverflow($1.bytes).overflow ? .max : $0 + $1.bytes }
        let ahead = others.filter { $0.state == .waiting && $0.ticket < ticket }.count
        let held = max(reserved, used ?? 0)
        return Look(reserved: reserved, free: budget > held ? budget - held : 0, ahead: ahead, running: running.count)
    }

    /// - Parameters:
    ///   - others: the other reservations of the same pool (not this command's own).
    ///   - used: what the budget really holds now (`MemoryBudget.used`); nil when it could not be read.
    package static func decide(
        ticket: UInt64, request: UInt64, others: [LedgerEntry], budget: UInt64, used: UInt64?,
        oversize: AdmissionOversize
    ) -> Verdict {
        decide(request: request, look: look(ticket: ticket, others: others, budget: budget, used: used), budget: budget, oversize: oversize)
    }

    package static func decide(request: UInt64, look: Look, budget: UInt64, oversize: AdmissionOversize) -> Verdict {
        if request > budget {
            if oversize == .refuse { return .refuse }
            if look.running == 0 && look.ahead == 0 { return .admit(alone: true) }
            return .wait(Wait(needed: request, free: look.free, ahead: look.ahead, running: look.running, alone: true))
        }
        if look.ahead == 0 && request <= look.free { return .admit(alone: false) }
        return .wait(Wait(needed: request, free: look.free, ahead: look.ahead, running: look.running))
    }
}
