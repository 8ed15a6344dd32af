#!/usr/bin/env bash
# Runs NetCore's benchmarks (Benchmarks/, ordo-one/benchmark) and their anchors (gevent,
# greenlet, uvloop, iperf3 from ../shared/anchors) in one sitting, and prints each figure beside
# its anchor as a ratio. The machines are noisy: only same-run ratios mean much.
#
#   scripts/bench-netcore.sh            # needs: iperf3, the /tmp/anchors venv (see shared/anchors/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ANCHORS=${ANCHORS:-$ROOT/../shared/anchors}
PY=${ANCHORS_PYTHON:-/tmp/anchors/bin/python}
OUT=$(mktemp -d /tmp/netcore-bench.XXXXXX)
RUNS=${RUNS:-5}

if [ ! -x "$PY" ]; then
    echo "anchors need their venv: python3 -m venv /tmp/anchors && /tmp/anchors/bin/pip install gevent uvloop" >&2
    exit 2
fi
command -v iperf3 >/dev/null || { echo "iperf3 missing: apt-get install -y iperf3" >&2; exit 2; }

echo "== NetCore benchmarks (package-benchmark)"
(cd Benchmarks && swift package --allow-writing-to-package-directory benchmark \
    --format histogramPercentiles --path "$OUT" --no-progress --time-units nanoseconds >/dev/null)

echo "== anchors"
export ANCHORS_ROWS=$OUT/anchors.jsonl
(cd "$ANCHORS" && "$PY" bench/switch.py greenlet --runs "$RUNS" >/dev/null \
    && "$PY" bench/switch.py gevent-channel --runs "$RUNS" >/dev/null \
    && "$PY" bench/parked_mem.py gevent --k 9900 --runs 3 >/dev/null \
    && "$PY" bench/parked_mem.py uvloop-sock --k 9900 --runs 3 >/dev/null \
    && "$PY" bench/wakeup.py gevent --runs "$RUNS" >/dev/null \
    && "$PY" bench/threadcall.py gevent --calls 20000 --conc 8 --runs "$RUNS" >/dev/null \
    && "$PY" bench/threadcall.py uvloop --calls 20000 --conc 8 --runs "$RUNS" >/dev/null)
for _ in $(seq 3); do
    iperf3 -s -p 15201 -1 -D >/dev/null 2>&1 || true
    sleep 0.3
    iperf3 -c 127.0.0.1 -p 15201 -t 3 -J 2>/dev/null \
        | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/8e6)' >> "$OUT/iperf3.txt"
done

"$PY" - "$OUT" <<'PYEOF'
import glob, json, os, statistics, sys
out = sys.argv[1]

def p50(name_part, metric_part):
    for path in glob.glob(os.path.join(out, "*.tsv")):
        base = os.path.basename(path)
        if name_part in base and metric_part in base:
            rows = [line.rstrip("\n").split("\t") for line in open(path)]
            header = rows[0][1]
            for row in rows[1:]:
                if row[0] == "50":
                    return float(row[1]), header
    return None, None

anchors = [json.loads(line) for line in open(os.path.join(out, "anchors.jsonl"))]
def anchor(tool_part, what_part, units):
    for row in anchors:
        if tool_part in row["tool"] and what_part in row["what"] and row["units"] == units:
            return row["median"]
    return None

iperf = statistics.median(float(x) for x in open(os.path.join(out, "iperf3.txt")))
rows = []
pp, _ = p50("channel_ping-pong", "wallClock")
rows.append(("channel ping-pong round trip", pp, "ns", "gevent Channel", anchor("gevent Channel", "ping-pong", "ns/round trip"), "lower"))
rows.append(("channel ping-pong round trip", pp, "ns", "greenlet.switch (raw)", anchor("greenlet.switch", "ping-pong", "ns/round trip"), "lower"))
mem, _ = p50("parked_tasklets", "its_socket")
rows.append(("memory per parked tasklet + socket", mem, "B", "gevent", anchor("gevent greenlet", "coroutine + its socket", "bytes/coroutine"), "lower"))
rows.append(("memory per parked tasklet + socket", mem, "B", "asyncio+uvloop", anchor("uvloop", "coroutine + its socket", "bytes/coroutine"), "lower"))
wake, header = p50("wake-up_latency", "latency")
wake_us = wake * (1000 if "(K)" in (header or "") else 1) / 1000.0
rows.append(("thread -> parked tasklet wake-up p50", wake_us, "us", "gevent ev_async", anchor("gevent loop.async_", "p50", "us"), "lower"))
mbs, _ = p50("loopback_TCP", "MB_s")
rows.append(("1 GiB loopback read, one tasklet", mbs, "MB/s", "iperf3 raw loopback", iperf, "higher"))
yld, _ = p50("yield_between", "wallClock")

def percentile(name_part, metric_part, which):
    for path in glob.glob(os.path.join(out, "*.tsv")):
        base = os.path.basename(path)
        if name_part in base and metric_part in base:
            rows = [line.rstrip("\n").split("\t") for line in open(path)]
            scale = 1000 if "(K)" in rows[0][1] else 1
            for row in rows[1:]:
                if row[0] == which:
                    return float(row[1]) * scale
    return None

ca50 = percentile("callAsync_no-op_round_trip", "latency", "50")
ca99 = percentile("callAsync_no-op_round_trip", "latency", "99")
rows.append(("callAsync no-op round trip p50", ca50 and ca50 / 1000, "us", "gevent threadpool.apply", anchor("gevent hub.threadpool", "p50", "us"), "lower"))
rows.append(("callAsync no-op round trip p50", ca50 and ca50 / 1000, "us", "uvloop run_in_executor", anchor("run_in_executor (uvloop)", "p50", "us"), "lower"))
rows.append(("callAsync no-op round trip p99", ca99 and ca99 / 1000, "us", "gevent threadpool.apply", anchor("gevent hub.threadpool", "p99", "us"), "lower"))
tput = percentile("callAsync_no-op_throughput", "calls_s", "50")
rows.append(("callAsync throughput, 8 tasklets", tput, "calls/s", "gevent threadpool.apply", anchor("gevent hub.threadpool", "throughput", "calls/s"), "higher"))
sem = percentile("semaphore_hand-off", "wallClock", "50")

print()
print(f"{'figure':40} {'NetCore':>10} {'anchor':>10}  {'ratio':>8}  anchor")
for what, ours, unit, tool, theirs, better in rows:
    if ours is None or theirs is None:
        print(f"{what:40} {'n/a':>10}")
        continue
    ratio = theirs / ours if better == "lower" else ours / theirs
    label = "x better" if better == "lower" else "of anchor"
    shown = f"{ratio:.2f}x" if better == "lower" or unit == "calls/s" else f"{ratio*100:.0f}%"
    print(f"{what:40} {ours:>10.1f} {theirs:>10.1f}  {shown:>8}  {tool} ({unit}; {label})")
print(f"{'yield between 2 tasklets':40} {yld if yld else float('nan'):>10.1f} {'':>10}  {'':>8}  (ns, no anchor)")
print(f"{'semaphore hand-off round trip, 2 threads':40} {sem if sem else float('nan'):>10.1f} {'':>10}  {'':>8}  (ns, no anchor)")
print(f"\nraw files: {out}")
PYEOF
