import CLibev
import CLinuxShim

#if canImport(Glibc)
    import Glibc
#endif

/// What a loop has allocated, in bytes, from NetCore's own bookkeeping.
///
/// Counted (each from the allocator's real block size, `malloc_usable_size`, where NetCore holds
/// the pointer; otherwise capacity × element size): the `Loop` object, libev's loop structure,
/// the loop's hot state and wake-up watcher; the run queue, the inbox (two arrays, swapped on
/// each drain) and the tasklet table at their current capacities (the queues keep their
/// high-water capacity unless `LoopLimits` says how much to keep); one `Tasklet` object per live tasklet; the `ev_io`/`ev_timer` of each
/// active watcher.
///
/// Not counted: the Swift runtime's allocations for each task (the task object and its async
/// frames, from about 1 KiB per parked tasklet — measure the process for those); libev's
/// internal arrays (its descriptor table, sized by the highest fd, the epoll event buffer, the
/// timer heap); sockets that no tasklet waits on (the loop does not know them: multiply
/// `Footprint.bytesPerSocket`); kernel socket buffers; channel buffers and a GameNet `ReliableChannel`'s
/// windows (see their own stats); tasklet names longer than 15 bytes.
public struct Footprint: Sendable, Equatable, CustomStringConvertible {
    /// The Loop object, libev's `struct ev_loop`, the hot state and the wake-up watcher.
    public var loopBytes: Int
    /// Run queue storage (capacity × job size). Starts at 1,024 jobs (or
    /// `LoopLimits.retainedRunQueueSlots` if lower); doubles when full; goes back to
    /// `retainedRunQueueSlots`, if set, when the loop finds it empty at the end of a `pump` or
    /// before it sleeps in `run()`.
    public var runQueueBytes: Int
    /// Jobs the run queue can hold without growing.
    public var runQueueCapacity: Int
    /// The most jobs ever ready at once.
    public var runQueueHighWater: Int
    /// Inbox storage: both arrays' capacities × item size.
    public var inboxBytes: Int
    /// Items both inbox arrays can hold without growing.
    public var inboxCapacity: Int
    /// The most items ever waiting in the inbox at once.
    public var inboxHighWater: Int
    /// The tasklet table (slots × key and value) and the list of finished tasklets to purge.
    public var taskletTableBytes: Int
    /// Slots in the tasklet table (at least twice the most tasklets ever alive; never shrinks).
    public var taskletTableSlots: Int
    /// Tasklets spawned and not finished.
    public var taskletsAlive: Int
    /// Tasklets parked in a NetCore wait.
    public var taskletsParked: Int
    /// `taskletsAlive × bytesPerTasklet`.
    public var taskletBytes: Int
    /// Watchers the loop is running (socket waits, timers).
    public var activeWatchers: Int
    /// `activeWatchers ×` the size of a watcher. The memory belongs to the socket or timer.
    public var watcherBytes: Int

    /// The sum of the byte counts above.
    public var totalBytes: Int {
        loopBytes + runQueueBytes + inboxBytes + taskletTableBytes + taskletBytes + watcherBytes
    }

    /// NetCore's allocation for one tasklet's `Tasklet` object (not its Swift task).
    public static let bytesPerTasklet: Int = {
        // A probe that no loop ever sees: the size class of the object is what every tasklet pays.
        guard let loop = try? Loop(name: "footprint-probe") else { return 0 }
        return blockSize(of: Tasklet(name: nil, loop: loop))
    }()

    /// NetCore's allocation for one stream socket: the socket object (its `ev_io` inside), and
    /// the two `ev_timer` allocated the first time it waits with a timeout.
    public static let bytesPerSocket: Int = {
        let socket = StreamSocket(fd: -1)  // fd -1: nothing to close
        return blockSize(of: socket) + mallocBlock(2 * MemoryLayout<ev_timer>.stride)
    }()

    /// The counts and high-water marks on one line, in bytes, for logs.
    public var description: String {
        "total=\(totalBytes) loop=\(loopBytes) runQueue=\(runQueueBytes) (cap \(runQueueCapacity), hw \(runQueueHighWater)) "
            + "inbox=\(inboxBytes) (cap \(inboxCapacity), hw \(inboxHighWater)) table=\(taskletTableBytes) "
            + "(\(taskletTableSlots) slots) tasklets=\(taskletBytes) (\(taskletsAlive) alive, \(taskletsParked) parked) "
            + "watchers=\(watcherBytes) (\(activeWatchers))"
    }
}

/// The loop's storage as `Loop.storage` reports it; the arithmetic lives here.
struct LoopStorage {
    let ev: UnsafeRawPointer
    let hot: UnsafeRawPointer
    let wakeupWatcher: UnsafeRawPointer
    let runQueueStorage: UnsafeRawPointer
    let runQueueCapacity: Int
    let runQueueHighWater: Int
    let inboxCapacity: Int
    let inboxHighWater: Int
    let finishedKeysCapacity: Int
    let taskletTable: TaskletTable
}

extension Loop {
    /// What the loop has allocated, in bytes (see `Footprint` for what is and is not counted).
    /// Read on the loop's thread (from a tasklet, or between `pump` calls), or while it is not driven.
    public var footprint: Footprint {
        let storage = self.storage
        let loopBytes =
            blockSize(of: self) + mallocUsableSize(UnsafeMutableRawPointer(mutating: storage.ev))
            + mallocUsableSize(UnsafeMutableRawPointer(mutating: storage.hot))
            + mallocUsableSize(UnsafeMutableRawPointer(mutating: storage.wakeupWatcher))
        let slots = storage.taskletTable.slotCount
        let arrayHeader = 32  // a Swift array's heap header (isa, refcount, count, capacity)
        let stats = self.stats
        return Footprint(
            loopBytes: loopBytes,
            runQueueBytes: mallocUsableSize(UnsafeMutableRawPointer(mutating: storage.runQueueStorage)),
            runQueueCapacity: storage.runQueueCapacity, runQueueHighWater: storage.runQueueHighWater,
            inboxBytes: storage.inboxCapacity * MemoryLayout<InboxItem>.stride
                + (storage.inboxCapacity > 0 ? 2 * arrayHeader : 0),
            inboxCapacity: storage.inboxCapacity, inboxHighWater: storage.inboxHighWater,
            taskletTableBytes: slots * (MemoryLayout<UnsafeRawPointer?>.stride + MemoryLayout<Tasklet?>.stride)
                + 2 * arrayHeader + storage.finishedKeysCapacity * MemoryLayout<UnsafeRawPointer>.stride,
            taskletTableSlots: slots,
            taskletsAlive: stats.taskletsAlive, taskletsParked: stats.taskletsParked,
            taskletBytes: stats.taskletsAlive * Footprint.bytesPerTasklet,
            activeWatchers: stats.activeWatchers,
            watcherBytes: stats.activeWatchers * max(MemoryLayout<ev_io>.stride, MemoryLayout<ev_timer>.stride))
    }
}

extension TaskletTable {
    /// The table's slot count. Its storage is private to TaskletTable.swift; read through
    /// reflection rather than widening that file's API (a diagnostic, never on a hot path).
    var slotCount: Int {
        for child in Mirror(reflecting: self).children where child.label == "keys" {
            if let keys = child.value as? [UnsafeRawPointer?] { return keys.count }
        }
        return 0
    }
}

extension Footprint {
    /// Bytes the process's allocator has handed out and not had back, over every arena (glibc's
    /// `mallinfo2`: small blocks in use plus mmapped large blocks). Unlike RSS it leaves out the
    /// free pages an arena keeps, so a leak shows in it and fragmentation does not: what a soak
    /// should watch for leaks.
    ///
    /// Any thread. Cost: it takes each malloc arena's lock once and walks its bins (microseconds;
    /// fine once a second, not per request).
    public static func heapInUseBytes() -> Int { Int(cln_heap_in_use_bytes()) }
}

/// glibc's `malloc_usable_size`, looked up once: the Glibc module does not import <malloc.h>.
/// Falls back to 0 (nothing measured) if the symbol is missing (a libc without it).
private let usableSize: @convention(c) (UnsafeMutableRawPointer?) -> Int = {
    if let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "malloc_usable_size") {
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutableRawPointer?) -> Int).self)
    }
    return { _ in 0 }
}()

func mallocUsableSize(_ block: UnsafeMutableRawPointer?) -> Int { usableSize(block) }

/// The allocator's block size for a class instance (Swift objects come from malloc on Linux).
func blockSize(of object: AnyObject) -> Int {
    mallocUsableSize(Unmanaged.passUnretained(object).toOpaque())
}

/// The block size malloc gives a request of `bytes`.
func mallocBlock(_ bytes: Int) -> Int {
    guard let block = malloc(bytes) else { return bytes }
    defer { free(block) }
    return mallocUsableSize(block)
}
