/// Caps a host (a game, an embedded client) sets on a loop's own storage, at `Loop.init`.
///
/// The loop's queues hold jobs of tasks, and a ready job cannot be refused (dropping it would
/// leave its task suspended forever), so the caps work at the two places where refusing or
/// releasing is safe:
/// - `maxTasklets` refuses new tasklets. A task has at most one job queued at a time, so it also
///   bounds how far the run queue and the inbox can grow during a burst (plus one job per child
///   task of those tasklets, `async let` and task groups, which run on the loop too).
/// - `retainedRunQueueSlots` and `retainedInboxSlots` bound what stays allocated after a burst:
///   storage that grew past them is given back when the queue is empty at the end of a `pump`
///   (or before `run()` sleeps), and after each inbox drain. The high-water marks
///   (`Loop.footprint`) still show how far a burst went.
///
/// The defaults set no tasklet limit; the run queue keeps the storage of its biggest burst (a
/// server with thousands of connections would otherwise grow and free it again on every busy
/// tick), and the inbox keeps `defaultRetainedInboxSlots`: what arrives from other threads in
/// a burst (thousands of tasklets spawned from a plain thread, a flood of worker results) is
/// rare, and its storage (two arrays of 24 B slots) would otherwise stay with the loop for good.
public struct LoopLimits: Sendable, Equatable {
    /// The most tasklets alive at once. A `spawn` beyond it starts nothing: the body never runs
    /// and the handle's `value` throws `LoopError.taskletLimitReached` (counted in
    /// `LoopStats.taskletsRefused`).
    public var maxTasklets: Int
    /// Run-queue slots (8 bytes each) kept while the queue is idle; nil keeps the largest
    /// capacity ever needed. The queue also starts at this size when it is below the default 1,024.
    public var retainedRunQueueSlots: Int?
    /// Inbox slots (jobs and resumptions handed over from other threads) kept after a drain
    /// (`defaultRetainedInboxSlots` unless set); nil keeps the largest capacity ever needed.
    public var retainedInboxSlots: Int?

    /// - Parameters: see the properties; values below 1 are raised to 1.
    public init(
        maxTasklets: Int = .max, retainedRunQueueSlots: Int? = nil,
        retainedInboxSlots: Int? = LoopLimits.defaultRetainedInboxSlots
    ) {
        self.maxTasklets = max(1, maxTasklets)
        self.retainedRunQueueSlots = retainedRunQueueSlots.map { max(1, $0) }
        self.retainedInboxSlots = retainedInboxSlots.map { max(1, $0) }
    }

    /// No tasklet limit; the run queue keeps its largest capacity, the inbox
    /// `defaultRetainedInboxSlots`.
    public static let unlimited = LoopLimits()

    /// The inbox slots kept after a drain by default: 1,024 (24 KiB in each of its two arrays).
    public static let defaultRetainedInboxSlots = 1024

    /// The run queue's first capacity.
    var initialRunQueueSlots: Int { min(Self.defaultRunQueueSlots, retainedRunQueueSlots ?? Self.defaultRunQueueSlots) }

    /// The run queue's first capacity when no limit says otherwise: room for a busy server's
    /// usual ready set without growing.
    static let defaultRunQueueSlots = 1024
}
