"""Many small GETs over keep-alive connections with gevent: requests per second and client CPU
per request (the anchor of the project's http-load `many`: 2,000 x 100 KiB over 50 connections).

usage: small_requests.py URL [--requests 2000] [--connections 50]
Each greenlet opens its own connection (timed with the rest), sends a GET, reads the head into
a buffer, finds Content-Length, reads the body into the same buffer and starts again. One
warm-up pass, then one measured pass; CPU is getrusage over the measured pass.
"""
import argparse
import socket
import time

from anchor_output import cpu_seconds, report


def request_bytes(host, port, path):
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: stacklessnet-anchor\r\n\r\n".encode()


def content_length(head):
    for line in bytes(head).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise RuntimeError(f"no Content-Length in {bytes(head)[:120]!r}")


def connection_worker(gsocket, host, port, path, left):
    request = request_bytes(host, port, path)

    def work():
        conn = gsocket.create_connection((host, port))
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = bytearray(256 * 1024)
        view = memoryview(buffer)
        done = 0
        while left[0] > 0:
            left[0] -= 1
            conn.sendall(request)
            filled = 0
            while (end := buffer.find(b"\r\n\r\n", 0, filled)) < 0:
                n = conn.recv_into(view[filled:])
                if n == 0:
                    raise EOFError("server closed mid-head")
                filled += n
            if not buffer.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(bytes(buffer[:40]))
            remaining = content_length(buffer[:end]) - (filled - end - 4)
            while remaining > 0:
                n = conn.recv_into(view, min(remaining, len(view)))
                if n == 0:
                    raise EOFError("server closed mid-body")
                remaining -= n
            done += 1
        conn.close()
        return done

    return work


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    import gevent
    from gevent import socket as gsocket

    hostport, _, path = args.url.removeprefix("http://").partition("/")
    host, _, port = hostport.partition(":")
    port = int(port or 80)

    def one_pass():
        left = [args.requests]
        work = connection_worker(gsocket, host, port, "/" + path, left)
        greenlets = [gevent.spawn(work) for _ in range(args.connections)]
        gevent.joinall(greenlets, raise_error=True)
        done = sum(g.value for g in greenlets)
        assert done == args.requests, done
        return done

    one_pass()
    cpu_before, start = cpu_seconds(), time.perf_counter()
    done = one_pass()
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu_before
    report("requests per second", done / elapsed)
    report("CPU us per request", cpu * 1e6 / done)


if __name__ == "__main__":
    main()
