/// Every side effect of supervising one protected command, behind one value, so that `AttemptLoop` is tested with a
/// recording fake (SafebuildTestSupport's `RecordingSupervisionEffects`) and no daemon; `LiveSupervisionEffects` is
/// the real one. The same seam as `RemedyContext`, one level up.
///
/// The loop calls them in this order: `buildContextWarnings` (builds), `preflight` (when the policy sets
/// thresholds), then per attempt `admit` (memory admission; `learnedReservation` once before the first),
/// `temporaryPath`, `runDocker`, `containerState`, `evidence`, `removeContainer`, `releaseReservation`,
/// `releaseHeldOutput` or `discardHeldOutput` (stdout held back) and `append(AttemptRecord)`, between attempts
/// `runRemedy` and `sleep`, and last `withdrawReservation`, `journalContext` and `append(InvocationRecord)`.
/// `console` and the clocks at any time.
///
/// Stdin spooling and stdout holding are fields of `AttemptCommand` (`streams`, `replay`) that `runDocker` honours;
/// what the attempt read and wrote comes back in `DockerExit.streams` for the loop to decide whether a retry would
/// run the command unchanged (`ReplayVerdict`).
///
/// Growing it: a new effect is a new method here, implemented by both conformers; the loop's shape stays. More
/// evidence after a failure goes into fields of `AttemptEvidence`.
package protocol SupervisionEffects {
    // MARK: Clocks and console

    /// Monotonic seconds (the retry deadline).
    func now() -> Double
    /// Wall-clock seconds since the epoch (the journal's times).
    func wallClock() -> Double
    /// Says one line on stderr.
    func console(_ line: ConsoleLine)

    // MARK: Before the first attempt

    /// Warnings about a build's context (size after .dockerignore, a missing .dockerignore, layer count).
    func buildContextWarnings() -> [String]
    /// Measures the host against the plan's thresholds, calling `remediate` for each threshold whose action is
    /// `remediate` and waiting where the action is `wait`. Throws when the engine cannot even be located (then no
    /// pre-flight check runs).
    func preflight(remediate: (Preflight.Decision) -> Void) throws(SafebuildError) -> Preflight.Outcome

    // MARK: Memory admission

    /// What `admission.reserve: learned` reserves for this command (its CI job's or image's p95 peak in the journal,
    /// with headroom), and the sentence that says so; nil while the journal knows too few runs.
    func learnedReservation() -> (bytes: UInt64, sentence: String)?
    /// Reserves memory for the next attempt in the host-wide ledger, waiting its turn while it does not fit (saying
    /// so on stderr), within the policy's bounds. A retry's request keeps the first attempt's ticket.
    func admit(_ request: AdmissionRequest) -> AdmissionResult
    /// Gives the reservation back after an attempt, keeping the ticket for a retry.
    func releaseReservation()
    /// Removes this command from the ledger (at the end).
    func withdrawReservation()

    // MARK: One attempt

    /// A fresh path for a temporary file of this process (not created), ending in `.suffix`.
    func temporaryPath(_ suffix: String) -> String
    /// Runs docker for one attempt to its end, streaming its output through (stdout into the hold when
    /// `attempt.streams` says so) and showing every line to `classifier`; on a signal, forwards it and stops the
    /// attempt's container after the stop grace. Feeds stdin as `attempt.streams` says, replayed from its start
    /// when `attempt.replay`. Follows the attempt's containers' memory cgroups meanwhile (`DockerExit.memory`).
    /// Throws when docker cannot be started.
    func runDocker(_ attempt: AttemptCommand, classifier: inout Classifier) throws(SafebuildError) -> DockerExit
    /// The state of container `id` after docker ended: the container's own while it exists, else (removed by
    /// docker's `--rm`) the engine's `oom`/`die` events for it since `since`. An exit 137 not marked OOMKilled is
    /// decided by the kernel's OOM-kill records where they can be read (no wait), else asked again for up to
    /// `settle` seconds; nil when nothing is known of it.
    func containerState(_ id: String, settle: Double, since: Double) -> ContainerState?
    /// What the host shows about a failed attempt that started at `since` (wall clock): kernel lines, and the OOM
    /// killer's records of the attempt's containers.
    func evidence(since: Double) -> AttemptEvidence
    /// Removes container `id` and its anonymous volumes (`DELETE /containers/{id}?force=1&v=1`, as `docker rm -f -v`).
    func removeContainer(_ id: String)
    /// Waits (bounded, ends on a signal) until the daemon has removed container `id`, as it does after docker's
    /// own `--rm`; true when it is gone.
    func waitForRemoval(_ id: String) -> Bool
    /// Removes the stopped containers among `ids` and their anonymous volumes (`docker rm -v`, without `-f`: a
    /// running one stays): the step containers a failed classic build left behind.
    func removeStoppedContainers(_ ids: [String])
    /// Writes the stdout held back during the attempt that ends the invocation to safebuild's stdout.
    func releaseHeldOutput()
    /// Drops the stdout held back during a failed attempt that is retried.
    func discardHeldOutput()

    // MARK: Between attempts

    /// Runs one remedy, those that act on the whole host under the host-wide lock and cooldown (a wait for the lock
    /// says so and ends on SIGINT/SIGTERM, `interruptedBy`); those that need root, when safebuild is not root,
    /// through the privileged entry, which takes the lock itself.
    func runRemedy(_ name: RemedyName) -> RemedyReport
    /// Sleeps up to `seconds`; returns the termination signal that ended the sleep early, if one did (at once when
    /// one arrived before).
    func sleep(seconds: Double) -> Int32?

    // MARK: The journal

    /// Appends an attempt's record to the journal.
    func append(_ record: AttemptRecord)
    /// Appends the invocation's record to the journal (and refreshes the policy's metrics file).
    func append(_ record: InvocationRecord)
    /// Host, user, working directory and CI context for the invocation record.
    func journalContext() -> Journal.Context
}
