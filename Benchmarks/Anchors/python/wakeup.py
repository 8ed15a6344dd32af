"""A plain OS thread wakes an idle gevent loop: microseconds from the signal to the callback on
the loop's thread, p50 (the anchor of NetCore's thread -> parked tasklet wake-up).

usage: wakeup.py [--signals 3000] [--gap-us 200]
The thread sleeps GAP between signals, so the loop is really asleep in epoll_wait, and waits on
a native semaphore that the callback releases. gevent's watcher is libev's ev_async, as NetCore's.
"""
import argparse
import threading
import time

from anchor_output import percentile, report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--signals", type=int, default=3000)
    parser.add_argument("--gap-us", type=int, default=200)
    args = parser.parse_args()
    import gevent
    from gevent.event import Event

    hub = gevent.get_hub()
    clock = time.perf_counter_ns
    sent_at = [0]
    latencies = []
    answered = threading.Semaphore(0)

    def on_signal():
        latencies.append(clock() - sent_at[0])
        answered.release()

    watcher = hub.loop.async_()
    watcher.start(on_signal)
    finished = Event()
    done_watcher = hub.loop.async_()
    done_watcher.start(finished.set)
    gap = args.gap_us / 1e6
    total = args.signals * 2  # the first half warms up

    def signaller():
        for _ in range(total):
            time.sleep(gap)
            sent_at[0] = clock()
            watcher.send()
            answered.acquire()
        done_watcher.send()

    thread = threading.Thread(target=signaller)
    thread.start()
    finished.wait()
    thread.join()
    measured = sorted(latencies[args.signals:])
    report("wake-up p50 us", percentile(measured, 50) / 1000)


if __name__ == "__main__":
    main()
