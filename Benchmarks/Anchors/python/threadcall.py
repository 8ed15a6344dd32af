"""A no-op run on a pool thread and its result handed back to the waiting coroutine (the anchor
of NetCore's callAsync): p50 and p99 of one caller's sequential calls, and the throughput of 8
concurrent callers.

usage: threadcall.py gevent|uvloop [--calls 20000] [--callers 8]
  gevent  gevent's hub.threadpool.apply(noop)
  uvloop  await loop.run_in_executor(None, noop) on uvloop (a ThreadPoolExecutor)
One warm-up pass, then one measured pass.
"""
import argparse
import time

from anchor_output import percentile, report


def noop():
    return 1


def gevent_calls(calls, callers):
    import gevent

    apply = gevent.get_hub().threadpool.apply

    def sequential():
        out = []
        for _ in range(calls):
            start = time.perf_counter_ns()
            apply(noop)
            out.append(time.perf_counter_ns() - start)
        return out

    def concurrent():
        def caller():
            for _ in range(calls // callers):
                apply(noop)

        start = time.perf_counter()
        gevent.joinall([gevent.spawn(caller) for _ in range(callers)], raise_error=True)
        return calls // callers * callers / (time.perf_counter() - start)

    return sequential, concurrent


def uvloop_calls(calls, callers):
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import uvloop

    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.set_default_executor(ThreadPoolExecutor())
    run_in_executor = loop.run_in_executor

    async def sequential_async():
        out = []
        for _ in range(calls):
            start = time.perf_counter_ns()
            await run_in_executor(None, noop)
            out.append(time.perf_counter_ns() - start)
        return out

    async def concurrent_async():
        async def caller():
            for _ in range(calls // callers):
                await run_in_executor(None, noop)

        start = time.perf_counter()
        await asyncio.gather(*[caller() for _ in range(callers)])
        return calls // callers * callers / (time.perf_counter() - start)

    return (lambda: loop.run_until_complete(sequential_async())), (lambda: loop.run_until_complete(concurrent_async()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["gevent", "uvloop"])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--callers", type=int, default=8)
    args = parser.parse_args()
    sequential, concurrent = (gevent_calls if args.mode == "gevent" else uvloop_calls)(args.calls, args.callers)
    sequential()
    concurrent()
    latencies = sorted(sequential())
    report("round trip p50 us", percentile(latencies, 50) / 1000)
    report("round trip p99 us", percentile(latencies, 99) / 1000)
    report("calls per second", concurrent())


if __name__ == "__main__":
    main()
