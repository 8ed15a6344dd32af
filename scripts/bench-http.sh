#!/usr/bin/env bash
# The HTTP client (Examples/HTTPLoad: http-load) beside curl, wrk, gevent and AsyncHTTPClient
# (Benchmarks/AHCBench) against the bench's nginx on 127.0.0.1, rounds alternating the tools:
#   1. 1 GiB to memory: Client (loop engine), engine .workers, curl -o /dev/null, AsyncHTTPClient
#   2. 2,000 x 100 KiB over 50 keep-alive connections: Client vs curl --parallel, wrk -t1 -c50,
#      gevent (50 greenlets; also client CPU per request) and AsyncHTTPClient; the Client called
#      from tasklets of its loop and from plain Tasks (every request hops to the client's loop);
#      client CPU per request beside wrk's own (its user + system time over its run, from
#      /usr/bin/time, over the requests it completed)
#   3. the hop: 1 KiB responses (per-request costs dominate), one connection, from a tasklet and
#      from a plain Task: the hop's cost per request (CPU and wall) beside the in-tasklet figure
# Appends to $REPORT_JSONL. Needs the nginx of Benchmarks/Anchors/nginx.sh running (bench-compare
# starts it; alone, this script starts and stops its own).
#   scripts/bench-http.sh        # BENCH=quick|full (3|5 rounds; ROUNDS overrides)
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
cd "$ROOT"
need_tools nginx curl wrk /usr/bin/time
N=$(rounds 3 5)
OUT=$(mktemp -d "$BENCH_TMP/http.XXXXXX")
started_nginx=no
cleanup() {
    [ "$started_nginx" = yes ] && Benchmarks/Anchors/nginx.sh stop
    rm -rf "$OUT"
}
trap cleanup EXIT
release_product http-load
LOAD=$BIN/http-load
[ "${BENCH_PREBUILT:-0}" = 1 ] || (cd Benchmarks/AHCBench && in_build_lock swift build -c release >/dev/null)
AHC=$ROOT/Benchmarks/AHCBench/.build/release/ahc-bench
if ! curl -sf -o /dev/null "$BASE/1k.bin"; then
    Benchmarks/Anchors/nginx.sh data
    Benchmarks/Anchors/nginx.sh start
    started_nginx=yes
fi
REQUESTS=2000
CONNECTIONS=50
for _ in $(seq "$REQUESTS"); do printf 'url = "%s/100k.bin"\noutput = "/dev/null"\n' "$BASE"; done > "$OUT/curl-many.cfg"

echo "== HTTP: 1 GiB to memory, $N rounds"
for _ in $(seq "$N"); do
    curl -sS -o /dev/null -w '%{speed_download}\n' "$BASE/1g.bin" | awk '{ print $1 / 1e6 }' >> "$OUT/curl-1g"
    "$LOAD" download "$BASE/1g.bin" --engine loop | key_value mbps >> "$OUT/loop-1g"
    "$AHC" download "$BASE/1g.bin" | key_value mbps >> "$OUT/ahc-1g"
    "$LOAD" download "$BASE/1g.bin" --engine workers | key_value mbps >> "$OUT/workers-1g"
done

echo "== HTTP: $REQUESTS x 100 KiB over $CONNECTIONS keep-alive connections, $N rounds"
for _ in $(seq "$N"); do
    seconds_of "$OUT/curl-many-s" curl -sS --parallel --parallel-max "$CONNECTIONS" -K "$OUT/curl-many.cfg"
    /usr/bin/time -f '%U %S' -o "$OUT/wrk-time" wrk -t1 -c"$CONNECTIONS" -d3s "$BASE/100k.bin" > "$OUT/wrk.txt"
    awk '/^Requests\/sec/ { print $2 }' "$OUT/wrk.txt" >> "$OUT/wrk-many"
    # wrk's own CPU per request: its user + system seconds over the requests it completed.
    awk -v time="$OUT/wrk-time" '/ requests in / { n = $1 } END { getline cpu < time; split(cpu, t, " ")
        if (n > 0) printf "%.3f\n", (t[1] + t[2]) / n * 1e6 }' "$OUT/wrk.txt" >> "$OUT/wrk-cpu"
    "$LOAD" many "$BASE/100k.bin" --requests "$REQUESTS" --connections "$CONNECTIONS" --engine loop > "$OUT/loop.txt"
    key_value rps < "$OUT/loop.txt" >> "$OUT/loop-many"
    key_value cpu_us_per_request < "$OUT/loop.txt" >> "$OUT/loop-cpu"
    "$LOAD" many "$BASE/100k.bin" --requests "$REQUESTS" --connections "$CONNECTIONS" --engine loop --from task > "$OUT/task.txt"
    key_value rps < "$OUT/task.txt" >> "$OUT/task-many"
    key_value cpu_us_per_request < "$OUT/task.txt" >> "$OUT/task-cpu"
    python_anchor small_requests.py "$BASE/100k.bin" --requests "$REQUESTS" --connections "$CONNECTIONS" > "$OUT/gevent.txt"
    figure "requests per second" < "$OUT/gevent.txt" >> "$OUT/gevent-many"
    figure "CPU us per request" < "$OUT/gevent.txt" >> "$OUT/gevent-cpu"
    "$AHC" many "$BASE/100k.bin" --requests "$REQUESTS" --connections "$CONNECTIONS" > "$OUT/ahc.txt"
    key_value rps < "$OUT/ahc.txt" >> "$OUT/ahc-many"
    key_value cpu_us_per_request < "$OUT/ahc.txt" >> "$OUT/ahc-cpu"
done
rate_of "$OUT/curl-many" "$REQUESTS" < "$OUT/curl-many-s"

# The hop alone: small bodies on one connection, so a request is little more than its round trip
# and the hop (a tasklet spawned on the client's loop, the head and the body back over a channel,
# the plain task woken on the cooperative pool) is a large part of it.
HOP_REQUESTS=$(rounds 5000 10000)
echo "== HTTP: the hop, $HOP_REQUESTS x 1 KiB over 1 connection, from a tasklet and from a plain Task, $N rounds"
for _ in $(seq "$N"); do
    for from in tasklet task; do
        "$LOAD" many "$BASE/1k.bin" --requests "$HOP_REQUESTS" --connections 1 --engine loop --from "$from" > "$OUT/hop-$from.txt"
        key_value rps < "$OUT/hop-$from.txt" | awk '{ printf "%.3f\n", 1e6 / $1 }' >> "$OUT/hop-$from-wall"
        key_value cpu_us_per_request < "$OUT/hop-$from.txt" >> "$OUT/hop-$from-cpu"
    done
done
# difference A B > OUT: round by round, A minus B (the rounds ran side by side).
difference() { paste "$1" "$2" | awk '{ printf "%.3f\n", $1 - $2 }'; }
difference "$OUT/hop-task-wall" "$OUT/hop-tasklet-wall" > "$OUT/hop-wall"
difference "$OUT/hop-task-cpu" "$OUT/hop-tasklet-cpu" > "$OUT/hop-cpu"
difference "$OUT/task-cpu" "$OUT/loop-cpu" > "$OUT/hop-many-cpu"

C="HTTP vs curl, wrk, gevent, AsyncHTTPClient"
CURL=$(version_of curl)
record "$C" "1 GiB to memory, Client (loop engine)" MB/s higher "$OUT/loop-1g" "$CURL -o /dev/null" "$OUT/curl-1g" 1
record "$C" "1 GiB to memory, engine .workers" MB/s higher "$OUT/workers-1g" "$CURL -o /dev/null" "$OUT/curl-1g" 0.8
record "$C" "1 GiB to memory, Client (loop engine)" MB/s higher "$OUT/loop-1g" "AsyncHTTPClient 1.37 (1 loop)" "$OUT/ahc-1g"
record "$C" "2,000 x 100 KiB, 50 keep-alive connections" req/s higher "$OUT/loop-many" "$CURL --parallel" "$OUT/curl-many" 1.5
record "$C" "2,000 x 100 KiB, 50 keep-alive connections" req/s higher "$OUT/loop-many" "$(version_of wrk) -t1 -c50" "$OUT/wrk-many" 0.9
record "$C" "2,000 x 100 KiB, 50 keep-alive connections" req/s higher "$OUT/loop-many" "gevent, 50 greenlets" "$OUT/gevent-many"
record "$C" "2,000 x 100 KiB, 50 keep-alive connections" req/s higher "$OUT/loop-many" "AsyncHTTPClient 1.37 (1 loop)" "$OUT/ahc-many"
record "$C" "client CPU per 100 KiB request" "CPU us" lower "$OUT/loop-cpu" "gevent, 50 greenlets" "$OUT/gevent-cpu" 1.98
record "$C" "client CPU per 100 KiB request" "CPU us" lower "$OUT/loop-cpu" "AsyncHTTPClient 1.37 (1 loop)" "$OUT/ahc-cpu"
AHC_NAME="AsyncHTTPClient 1.37 (1 loop)"
# `wrk --version` exits 1 (it prints its usage too): in an assignment that status would end the script.
WRK="$(version_of wrk || true) -t1 -c50"
record "$C" "2,000 x 100 KiB, 50 connections, Client from a plain Task" req/s higher "$OUT/task-many" "$AHC_NAME" "$OUT/ahc-many" 2
record "$C" "client CPU per 100 KiB request, Client from a plain Task" "CPU us" lower "$OUT/task-cpu" "$AHC_NAME" "$OUT/ahc-cpu" 2
# Goal: at most 1.1x wrk's CPU per request, i.e. wrk's / ours >= 1/1.1.
record "$C" "client CPU per 100 KiB request (tasklets), wrk's own CPU as anchor" "CPU us" lower "$OUT/loop-cpu" "$WRK (its user + sys)" "$OUT/wrk-cpu" 0.909
record "$C" "client CPU per 100 KiB request, Client from a plain Task, wrk's own CPU as anchor" "CPU us" lower "$OUT/task-cpu" "$WRK (its user + sys)" "$OUT/wrk-cpu" 0.909

H="HTTP: the hop from a plain Task (the in-tasklet call as anchor)"
TASKLET="in a tasklet of the client's loop (same rounds)"
record "$H" "1 KiB requests, 1 connection: wall us per request, from a plain Task" "us" lower "$OUT/hop-task-wall" "$TASKLET" "$OUT/hop-tasklet-wall"
record "$H" "1 KiB requests, 1 connection: CPU us per request, from a plain Task" "CPU us" lower "$OUT/hop-task-cpu" "$TASKLET" "$OUT/hop-tasklet-cpu"
# The hop's own cost (from a plain Task minus in a tasklet) beside the whole in-tasklet request:
# the ratio is how many times the in-tasklet request costs what the hop adds.
REQUEST="the whole in-tasklet request (same rounds)"
record "$H" "hop cost per 1 KiB request, wall (from-Task minus in-tasklet)" "us" lower "$OUT/hop-wall" "$REQUEST" "$OUT/hop-tasklet-wall"
record "$H" "hop cost per 1 KiB request, CPU (from-Task minus in-tasklet)" "CPU us" lower "$OUT/hop-cpu" "$REQUEST" "$OUT/hop-tasklet-cpu"
record "$H" "hop cost per 100 KiB request, 50 connections, CPU (from-Task minus in-tasklet)" "CPU us" lower "$OUT/hop-many-cpu" "$REQUEST" "$OUT/loop-cpu"
