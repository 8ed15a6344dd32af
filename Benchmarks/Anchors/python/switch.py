"""Ping-pong between two coroutines: ns per round trip (the anchor of NetCore's channel
ping-pong between two tasklets).

usage: switch.py greenlet|gevent-channel [--trips N]
  greenlet        raw greenlet.switch back and forth (the floor of any coroutine hand-off)
  gevent-channel  a pair of gevent.queue.Channel (rendezvous) between two greenlets
One warm-up pass, then one timed pass.
"""
import argparse
import time

from anchor_output import report


def greenlet_pass(trips):
    from greenlet import getcurrent, greenlet

    caller = getcurrent()

    def echo(value):
        while True:
            value = caller.switch(value)

    partner = greenlet(echo)
    partner.switch(0)
    switch = partner.switch
    start = time.perf_counter()
    for i in range(trips):
        switch(i)
    return time.perf_counter() - start


def gevent_channel_pass(trips):
    import gevent
    from gevent.queue import Channel

    there, back = Channel(), Channel()

    def echo():
        for _ in range(trips):
            back.put(there.get())

    partner = gevent.spawn(echo)
    gevent.sleep(0)
    start = time.perf_counter()
    for i in range(trips):
        there.put(i)
        back.get()
    elapsed = time.perf_counter() - start
    partner.join()
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["greenlet", "gevent-channel"])
    parser.add_argument("--trips", type=int, default=0)
    args = parser.parse_args()
    trips = args.trips or (1_000_000 if args.mode == "greenlet" else 200_000)
    one_pass = greenlet_pass if args.mode == "greenlet" else gevent_channel_pass
    one_pass(trips // 10)
    report("ns per round trip", one_pass(trips) / trips * 1e9)


if __name__ == "__main__":
    main()
