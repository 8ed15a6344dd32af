#!/usr/bin/env bash
# NetCore's benchmarks (Benchmarks/, ordo-one/benchmark) beside their anchors in one sitting,
# rounds alternating: each round runs the suite once (the compared benchmarks; p50 of each is
# that round's figure), then the Python anchors once (gevent, greenlet, uvloop; the venv in
# .build/bench-venv), then iperf3 over loopback. Appends to $REPORT_JSONL (bench-record.py).
#   scripts/bench-netcore.sh        # BENCH=quick|full (3|5 rounds; ROUNDS overrides)
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
cd "$ROOT"
need_tools iperf3
N=$(rounds 3 5)
OUT=$(mktemp -d "$BENCH_TMP/netcore.XXXXXX")
iperf_server=""
cleanup() {
    if [ -n "$iperf_server" ]; then
        kill "$iperf_server" 2>/dev/null || true
        wait "$iperf_server" 2>/dev/null || true  # 143: the TERM it was sent
    fi
    rm -rf "$OUT"
}
trap cleanup EXIT
IPERF_SECONDS=$([ "$MODE" = quick ] && echo 2 || echo 5)
IPERF_PORT=$((BENCH_PORT + 1))
FILTER='channel ping-pong.*|parked tasklets.*|plain thread -> parked.*|1 GiB over loopback.*|callAsync no-op.*'

# p50 NAME_PART METRIC_PART DIR: the median of one benchmark metric from the suite's TSV files
# (histogramPercentiles; a header like "wallClock (K)" scales the column by 1,000).
p50() {
    python3 - "$@" <<'PYEOF'
import glob, os, sys
name, metric, folder = sys.argv[1:4]
for path in glob.glob(os.path.join(folder, "*.tsv")):
    base = os.path.basename(path)
    if name in base and metric in base:
        rows = [line.rstrip("\n").split("\t") for line in open(path)]
        header = rows[0][1]
        scale = next((factor for unit, factor in (("(K)", 1e3), ("(M)", 1e6), ("(G)", 1e9)) if unit in header), 1)
        print(next(float(r[1]) * scale for r in rows[1:] if r[0] == "50"))
        break
PYEOF
}

python_anchor switch.py greenlet --trips 1000 >/dev/null  # makes the venv now, not in round 1
iperf3 -s -p "$IPERF_PORT" >/dev/null 2>&1 &
iperf_server=$!
# Ready when a client gets through (a bare connect would count as a test and fail it).
for _ in $(seq 50); do timeout 5 iperf3 -c 127.0.0.1 -p "$IPERF_PORT" -n 64K >/dev/null 2>&1 && break; sleep 0.1; done
echo "== NetCore vs gevent, greenlet, uvloop, iperf3: $N rounds"
for round in $(seq "$N"); do
    rm -rf "$OUT/suite" && mkdir -p "$OUT/suite"
    (cd Benchmarks && in_build_lock swift package --allow-writing-to-package-directory benchmark \
        --filter "$FILTER" --format histogramPercentiles --path "$OUT/suite" --no-progress --time-units nanoseconds >/dev/null)
    p50 channel_ping-pong wallClock "$OUT/suite" >> "$OUT/pingpong"
    p50 parked_tasklets its_socket "$OUT/suite" >> "$OUT/parked"
    p50 wake-up_latency latency "$OUT/suite" | awk '{ print $1 / 1000 }' >> "$OUT/wakeup"
    p50 loopback_TCP MB_s "$OUT/suite" >> "$OUT/loopback"
    p50 callAsync_no-op_round_trip latency "$OUT/suite" | awk '{ print $1 / 1000 }' >> "$OUT/call50"
    python3 - "$OUT/suite" >> "$OUT/call99" <<'PYEOF'
import glob, os, sys
for path in glob.glob(os.path.join(sys.argv[1], "*callAsync_no-op_round_trip*latency*.tsv")):
    rows = [line.rstrip("\n").split("\t") for line in open(path)]
    header = rows[0][1]
    scale = next((factor for unit, factor in (("(K)", 1e3), ("(M)", 1e6)) if unit in header), 1)
    print(next(float(r[1]) * scale for r in rows[1:] if r[0] == "99") / 1000)
PYEOF
    p50 callAsync_no-op_throughput calls_s "$OUT/suite" >> "$OUT/calls"

    python_anchor switch.py gevent-channel | figure "ns per round trip" >> "$OUT/gevent-pingpong"
    python_anchor switch.py greenlet | figure "ns per round trip" >> "$OUT/greenlet-pingpong"
    python_anchor parked.py gevent | figure "bytes per parked coroutine with its socket" >> "$OUT/gevent-parked"
    python_anchor parked.py uvloop | figure "bytes per parked coroutine with its socket" >> "$OUT/uvloop-parked"
    python_anchor wakeup.py | figure "wake-up p50 us" >> "$OUT/gevent-wakeup"
    python_anchor threadcall.py gevent > "$OUT/gevent-call"
    figure "round trip p50 us" < "$OUT/gevent-call" >> "$OUT/gevent-call50"
    figure "round trip p99 us" < "$OUT/gevent-call" >> "$OUT/gevent-call99"
    figure "calls per second" < "$OUT/gevent-call" >> "$OUT/gevent-calls"
    python_anchor threadcall.py uvloop | figure "round trip p50 us" >> "$OUT/uvloop-call50"

    timeout $((IPERF_SECONDS + 30)) iperf3 -c 127.0.0.1 -p "$IPERF_PORT" -t "$IPERF_SECONDS" -J > "$OUT/iperf3.json" || true
    python3 -c 'import json, sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8e6)' \
        < "$OUT/iperf3.json" >> "$OUT/iperf3" || echo "iperf3 failed: $(head -c 300 "$OUT/iperf3.json")" >&2
    echo "  round $round of $N done"
done

C="NetCore vs gevent/greenlet/uvloop/iperf3"
record "$C" "channel ping-pong round trip, 2 tasklets" ns lower "$OUT/pingpong" "gevent Channel" "$OUT/gevent-pingpong" 10
record "$C" "channel ping-pong round trip, 2 tasklets" ns lower "$OUT/pingpong" "greenlet.switch (raw)" "$OUT/greenlet-pingpong" 1
record "$C" "memory per parked tasklet + its socket (9,900)" B lower "$OUT/parked" "gevent greenlet in recv" "$OUT/gevent-parked"
record "$C" "memory per parked tasklet + its socket (9,900)" B lower "$OUT/parked" "uvloop task in sock_recv" "$OUT/uvloop-parked"
record "$C" "plain thread -> parked tasklet wake-up, p50" us lower "$OUT/wakeup" "gevent ev_async" "$OUT/gevent-wakeup"
record "$C" "1 GiB loopback TCP read, one tasklet" MB/s higher "$OUT/loopback" "$(version_of iperf3) raw loopback" "$OUT/iperf3" 0.9
record "$C" "callAsync no-op round trip, p50" us lower "$OUT/call50" "gevent threadpool.apply" "$OUT/gevent-call50" 3
record "$C" "callAsync no-op round trip, p50" us lower "$OUT/call50" "uvloop run_in_executor" "$OUT/uvloop-call50" 3
record "$C" "callAsync no-op round trip, p99" us lower "$OUT/call99" "gevent threadpool.apply" "$OUT/gevent-call99"
record "$C" "callAsync no-op throughput, 8 tasklets" calls/s higher "$OUT/calls" "gevent threadpool.apply" "$OUT/gevent-calls" 5
