import CLibev
import CLibevShim

/// A libev timer that calls a closure once on the loop's thread, unless stopped first.
/// Used for wait timeouts. Loop thread only.
package final class OneShotTimer: @unchecked Sendable {  // confined to `loop`'s thread
    private unowned let loop: Loop
    private let watcher: UnsafeMutablePointer<ev_timer>
    private var action: (() -> Void)?

    package init(loop: Loop) {
        self.loop = loop
        watcher = .allocate(capacity: 1)
        watcher.initialize(to: ev_timer())
    }

    deinit {
        loop.stop(watcher)
        watcher.deinitialize(count: 1)
        watcher.deallocate()
    }

    /// Arms the timer: `action` runs once after `delay` unless `stop()` comes first.
    package func start(after delay: Duration, _ action: @escaping () -> Void) {
        self.action = action
        let seconds = max(0, delay.seconds)
        // Repeating, so that the callback's stop() ends it and the watcher count stays exact.
        cev_timer_init(watcher, OneShotTimer.fired, seconds, max(seconds, 1))
        watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        loop.start(watcher)
    }

    package func stop() {
        loop.stop(watcher)
        action = nil
    }

    private static let fired: cev_timer_cb = { _, watcher, _ in
        guard let data = watcher?.pointee.data else { return }
        let timer = Unmanaged<OneShotTimer>.fromOpaque(data).takeUnretainedValue()
        let action = timer.action
        timer.loop.noteWatcherEvent()
        timer.stop()
        action?()
    }
}
