"""Memory per parked coroutine: K coroutines, each blocked reading its own socket (the anchor
of NetCore's parked-tasklet benchmark: 9,900 tasklets, each parked on its own socket).

usage: parked.py gevent|uvloop [--k 9900]
  gevent  greenlets blocked in gevent socket.recv(1)
  uvloop  asyncio tasks on uvloop awaiting loop.sock_recv(sock, 1)
Prints (RSS after parking - RSS before the sockets) / K: the coroutine and its socket object.
The other end of every socketpair is closed after a child process took it (SCM_RIGHTS), so
this process holds K sockets, as the benchmark does, and the fd limit is not crossed.
"""
import argparse
import gc
import os
import socket

from anchor_output import report, resident_bytes


def start_fd_keeper():
    """A child that receives the peer ends and holds them until told to stop."""
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        ours.close()
        kept = []
        while True:
            message, fds, _, _ = socket.recv_fds(theirs, 16, 250)
            kept.extend(fds)
            if message in (b"stop", b""):
                os._exit(0)
    theirs.close()
    return ours, pid


def socket_ends(count, keeper):
    """`count` socketpair ends for this process; their peers go to the keeper."""
    kept, peers = [], []
    for _ in range(count):
        mine, peer = socket.socketpair()
        kept.append(mine)
        peers.append(peer)
        if len(peers) == 200 or len(kept) == count:
            socket.send_fds(keeper, [b"fds"], [p.fileno() for p in peers])
            for p in peers:
                p.close()
            peers = []
    return kept


def park_gevent(count, keeper):
    import gevent
    from gevent import socket as gsocket

    gevent.spawn(lambda: None).join()  # the hub and its loop exist before the first reading
    gc.collect()
    before = resident_bytes()
    sockets = [gsocket.socket(fileno=s.detach()) for s in socket_ends(count, keeper)]
    parked = [0]

    def park(sock):
        parked[0] += 1
        sock.recv(1)

    greenlets = [gevent.spawn(park, s) for s in sockets]
    while parked[0] < count:
        gevent.sleep(0)
    gevent.sleep(0.05)  # every greenlet reaches its recv and registers its watcher
    gc.collect()
    after = resident_bytes()
    gevent.killall(greenlets)
    return (after - before) / count


def park_uvloop(count, keeper):
    import asyncio

    import uvloop

    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(asyncio.sleep(0))
    gc.collect()
    before = resident_bytes()
    sockets = socket_ends(count, keeper)
    for s in sockets:
        s.setblocking(False)
    parked = [0]

    async def park(sock):
        parked[0] += 1
        await loop.sock_recv(sock, 1)

    async def run():
        tasks = [loop.create_task(park(s)) for s in sockets]
        while parked[0] < count:
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        gc.collect()
        after = resident_bytes()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return after

    after = loop.run_until_complete(run())
    return (after - before) / count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["gevent", "uvloop"])
    parser.add_argument("--k", type=int, default=9900)
    args = parser.parse_args()
    keeper, keeper_pid = start_fd_keeper()
    per = (park_gevent if args.mode == "gevent" else park_uvloop)(args.k, keeper)
    socket.send_fds(keeper, [b"stop"], [])
    os.waitpid(keeper_pid, 0)
    report("bytes per parked coroutine with its socket", per)


if __name__ == "__main__":
    main()
