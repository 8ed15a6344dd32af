#!/usr/bin/env bash
# The HTTP client (Examples/HTTPLoad: http-load) beside curl, wrk, gevent and AsyncHTTPClient
# (Benchmarks/AHCBench) against the bench's nginx on 127.0.0.1, rounds alternating the tools:
#   1. 1 GiB to memory: Client (loop engine), engine .workers, curl -o /dev/null, AsyncHTTPClient
#   2. 2,000 x 100 KiB over 50 keep-alive connections: Client vs curl --parallel, wrk -t1 -c50,
#      gevent (50 greenlets; also client CPU per request) and AsyncHTTPClient
# Appends to $REPORT_JSONL. Needs the nginx of Benchmarks/Anchors/nginx.sh running (bench-compare
# starts it; alone, this script starts and stops its own).
#   scripts/bench-http.sh        # BENCH=quick|full (3|5 rounds; ROUNDS overrides)
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
cd "$ROOT"
need_tools nginx curl wrk
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
if ! curl -sf -o /dev/null "$BASE/100k.bin"; then
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
    wrk -t1 -c"$CONNECTIONS" -d3s "$BASE/100k.bin" | awk '/^Requests\/sec/ { print $2 }' >> "$OUT/wrk-many"
    "$LOAD" many "$BASE/100k.bin" --requests "$REQUESTS" --connections "$CONNECTIONS" --engine loop > "$OUT/loop.txt"
    key_value rps < "$OUT/loop.txt" >> "$OUT/loop-many"
    key_value cpu_us_per_request < "$OUT/loop.txt" >> "$OUT/loop-cpu"
    python_anchor small_requests.py "$BASE/100k.bin" --requests "$REQUESTS" --connections "$CONNECTIONS" > "$OUT/gevent.txt"
    figure "requests per second" < "$OUT/gevent.txt" >> "$OUT/gevent-many"
    figure "CPU us per request" < "$OUT/gevent.txt" >> "$OUT/gevent-cpu"
    "$AHC" many "$BASE/100k.bin" --requests "$REQUESTS" --connections "$CONNECTIONS" > "$OUT/ahc.txt"
    key_value rps < "$OUT/ahc.txt" >> "$OUT/ahc-many"
    key_value cpu_us_per_request < "$OUT/ahc.txt" >> "$OUT/ahc-cpu"
done
rate_of "$OUT/curl-many" "$REQUESTS" < "$OUT/curl-many-s"

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
