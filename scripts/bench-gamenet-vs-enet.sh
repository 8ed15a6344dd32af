#!/usr/bin/env bash
# Issue 17 point 11: GameNet and ENet 1.3.17 side by side, through the same simulated link, in
# one run. Both sides' server and client are separate processes on 127.0.0.1 talking through
# gamenet-bench's relay (GameNet's NetworkSimulator on the real clock; netem is not available),
# which applies the same seeded conditions to both. Rounds alternate GameNet and ENet.
#   ROUNDS=3 scripts/bench-gamenet-vs-enet.sh
#   REPORT_JSONL=/tmp/compare.jsonl ROUNDS=5 scripts/bench-gamenet-vs-enet.sh
# Workloads (one reliable-ordered channel on both; library defaults otherwise, encryption off):
#   (a) 600 messages of 32 bytes at 60 Hz, 25 ms each way (50 ms RTT), 5% loss each way:
#       p50 and p99 of send-to-delivery time (CLOCK_MONOTONIC, shared by the processes)
#   (c) the same run: UDP payload both ways plus 28 bytes of IPv4+UDP header per datagram,
#       per message delivered (the handshake left out, acks and keep-alives counted)
#   (b) BULK_COUNT (4) messages of 1 MiB, 25 ms each way, 1% loss: MB/s from the first send
#       to the last delivery, every byte checked
#   (d) CPU_COUNT (50,000) messages of 32 bytes as fast as they go, perfect link through the
#       relay: user+system CPU of client and server per message (the relay's own left out)
#   (e) 1,000 idle connected peers, each client on its own socket, straight to the server
#       (conditions do not matter to idle peers): the server's RSS and heap growth per peer
#       (from before the host was made to 2 s after the last connect) and its CPU per second
#       over IDLE_SECONDS (10) of idleness
# Each round also runs GameNet with encryption on (ChaCha20-Poly1305, a pre-shared key) for
# (a)-(d), printed as a second table against GameNet plain (not in REPORT_JSONL).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
BULK_COUNT=${BULK_COUNT:-4}
CPU_COUNT=${CPU_COUNT:-50000}
IDLE_PEERS=${IDLE_PEERS:-1000}
IDLE_SECONDS=${IDLE_SECONDS:-10}
SWIFT=${SWIFT:-swift}
SEED=${SEED:-17}

if [ ! -f /usr/include/enet/enet.h ]; then
    if [ "$(id -u)" = 0 ]; then apt-get install -y libenet-dev >/dev/null; else sudo apt-get install -y libenet-dev >/dev/null; fi
fi
ENET_VERSION=$(dpkg-query -W -f='${Version}' libenet-dev 2>/dev/null | sed 's/[+-].*//' || echo "1.3")
# bench-compare built it already (BENCH_PREBUILT=1): a no-op build would still wait for the lock.
[ "${BENCH_PREBUILT:-0}" = 1 ] || flock /tmp/swift-build.lock "$SWIFT" build -c release --product gamenet-bench >/dev/null
BIN=$("$SWIFT" build -c release --show-bin-path)
OUT=$(mktemp -d /tmp/bench-gamenet-enet.XXXXXX)
gcc -O2 -Wall -o "$OUT/enet-bench" Benchmarks/enet/enet-bench.c -lenet
GAMENET="$BIN/gamenet-bench"
ENET="$OUT/enet-bench"
PIDS=()
cleanup() { for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# Ports: one pair per run, from a base picked by this shell's pid.
PORT=$((30000 + ($$ % 500) * 40))
next_port() { PORT=$((PORT + 2)); }

# Waits until a process's log says "ready" (5 s at most).
wait_ready() { for _ in $(seq 100); do grep -q '^ready' "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "not ready: $1" >&2; cat "$1" >&2; exit 1; }

# run LIB WORKLOAD "RELAY ARGS|direct" "ARGS": server, relay, client; prints the server's RESULT
# fields as s_key=value and the client's as c_key=value on one line.
run() {
    local lib=$1 workload=$2 link=$3 args=$4 tool server_port client_port
    [ "$lib" = gamenet ] && tool=$GAMENET || tool=$ENET
    next_port
    server_port=$PORT client_port=$((PORT + 1))
    "$tool" server port=$server_port workload="$workload" $args > "$OUT/server.log" 2>&1 &
    local server_pid=$!
    PIDS+=("$server_pid")
    wait_ready "$OUT/server.log"
    local relay_pid=""
    if [ "$link" = direct ]; then
        client_port=$server_port
    else
        "$GAMENET" relay listen=$client_port port=$server_port seed="$SEED" $link > "$OUT/relay.log" 2>&1 &
        relay_pid=$!
        PIDS+=("$relay_pid")
        wait_ready "$OUT/relay.log"
    fi
    if ! timeout 300 "$tool" client port=$client_port workload="$workload" $args > "$OUT/client.log" 2>&1; then
        echo "$lib $workload: the client failed" >&2; cat "$OUT/client.log" "$OUT/server.log" >&2; exit 1
    fi
    if ! wait "$server_pid"; then echo "$lib $workload: the server failed" >&2; cat "$OUT/server.log" >&2; exit 1; fi
    [ -n "$relay_pid" ] && { kill "$relay_pid"; wait "$relay_pid" 2>/dev/null || true; }
    { grep '^RESULT' "$OUT/server.log" | sed 's/^RESULT //; s/\([a-zA-Z0-9_]*\)=/s_\1=/g'
      grep '^RESULT' "$OUT/client.log" | sed 's/^RESULT //; s/\([a-zA-Z0-9_]*\)=/c_\1=/g'; } | tr '\n' ' '
    echo
}

# field NAME LINE: the value of NAME=... in LINE.
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

LATENCY_LINK="latency_ms=25 loss=0.05"
BULK_LINK="latency_ms=25 loss=0.01"
: > "$OUT/values"
echo "load before: $(uptime)"
for round in $(seq "$ROUNDS"); do
    for lib in gamenet enet; do
        line=$(run "$lib" latency "$LATENCY_LINK" "count=600 hz=60")
        p50=$(field s_p50_ms "$line"); p99=$(field s_p99_ms "$line")
        wire=$(echo "$(field s_bytes "$line") $(field c_bytes "$line") $(field s_datagrams "$line") $(field c_datagrams "$line")" |
            awk '{ printf "%.1f", ($1 + $2 + 28 * ($3 + $4)) / 600 }')
        echo "(a) p50 delivery latency, 32 B at 60 Hz, 50 ms RTT, 5% loss|ms|false|$lib|$round|$p50" >> "$OUT/values"
        echo "(a) p99 delivery latency, 32 B at 60 Hz, 50 ms RTT, 5% loss|ms|false|$lib|$round|$p99" >> "$OUT/values"
        echo "(c) wire bytes per 32-byte message (both ways, IP+UDP headers)|bytes|false|$lib|$round|$wire" >> "$OUT/values"
        line=$(run "$lib" bulk "$BULK_LINK" "count=$BULK_COUNT size=1048576")
        echo "(b) goodput of 1 MiB messages, 50 ms RTT, 1% loss|MB/s|true|$lib|$round|$(field s_goodput_MBps "$line")" >> "$OUT/values"
        line=$(run "$lib" cpu "" "count=$CPU_COUNT")
        cpu=$(echo "$(field s_cpu_us "$line") $(field c_cpu_us "$line")" | awk -v n="$CPU_COUNT" '{ printf "%.3f", ($1 + $2) / n }')
        echo "(d) CPU per 32-byte message, client + server|us|false|$lib|$round|$cpu" >> "$OUT/values"
        line=$(run "$lib" idle direct "peers=$IDLE_PEERS seconds=$IDLE_SECONDS")
        [ "$(field s_connected "$line")" = "$IDLE_PEERS" ] || { echo "$lib idle: $line" >&2; exit 1; }
        echo "(e) server RSS per idle peer ($IDLE_PEERS peers)|bytes|false|$lib|$round|$(field s_rss_per_peer "$line")" >> "$OUT/values"
        echo "(e) server heap per idle peer ($IDLE_PEERS peers)|bytes|false|$lib|$round|$(field s_heap_per_peer "$line")" >> "$OUT/values"
        echo "(e) server CPU per second, $IDLE_PEERS idle peers|ms/s|false|$lib|$round|$(field s_cpu_ms_per_s "$line")" >> "$OUT/values"
        echo "round $round $lib: p50 $p50 ms, p99 $p99 ms, wire $wire B/msg, CPU $cpu us/msg" >&2
    done
    # The cost of encryption: GameNet with ChaCha20-Poly1305 (a pre-shared key), same runs.
    line=$(run gamenet latency "$LATENCY_LINK" "count=600 hz=60 encrypt=1")
    wire=$(echo "$(field s_bytes "$line") $(field c_bytes "$line") $(field s_datagrams "$line") $(field c_datagrams "$line")" |
        awk '{ printf "%.1f", ($1 + $2 + 28 * ($3 + $4)) / 600 }')
    echo "(a) p99 delivery latency, 32 B at 60 Hz, 50 ms RTT, 5% loss|ms|false|crypto|$round|$(field s_p99_ms "$line")" >> "$OUT/values"
    echo "(c) wire bytes per 32-byte message (both ways, IP+UDP headers)|bytes|false|crypto|$round|$wire" >> "$OUT/values"
    line=$(run gamenet bulk "$BULK_LINK" "count=$BULK_COUNT size=1048576 encrypt=1")
    echo "(b) goodput of 1 MiB messages, 50 ms RTT, 1% loss|MB/s|true|crypto|$round|$(field s_goodput_MBps "$line")" >> "$OUT/values"
    line=$(run gamenet cpu "" "count=$CPU_COUNT encrypt=1")
    cpu=$(echo "$(field s_cpu_us "$line") $(field c_cpu_us "$line")" | awk -v n="$CPU_COUNT" '{ printf "%.3f", ($1 + $2) / n }')
    echo "(d) CPU per 32-byte message, client + server|us|false|crypto|$round|$cpu" >> "$OUT/values"
done
echo "load after: $(uptime)"

ENET_NAME="ENet $ENET_VERSION" REPORT_JSONL=${REPORT_JSONL:-} python3 - "$OUT/values" <<'PY'
import json, os, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    figure, unit, hib, lib, rnd, value = line.rstrip("\n").split("|")
    entry = rows.setdefault(figure, {"unit": unit, "hib": hib == "true", "gamenet": [], "enet": [], "crypto": []})
    entry[lib].append(float(value))
def show(v): return f"{statistics.median(v):.3g} [{min(v):.3g}-{max(v):.3g}]"
print(f"{'figure':64} {'gamenet median [min-max]':>26} {'enet median [min-max]':>26}  ratio gamenet/enet")
jsonl = os.environ.get("REPORT_JSONL")
for figure, e in rows.items():
    g, n = statistics.median(e["gamenet"]), statistics.median(e["enet"])
    ratio = g / n if n else float("inf")
    better = (ratio >= 1) if e["hib"] else (ratio <= 1)
    goal = "higher is better" if e["hib"] else "lower is better"
    print(f"{figure + ' (' + e['unit'] + ')':64} {show(e['gamenet']):>26} {show(e['enet']):>26}  {ratio:.2f} ({goal}; {'at or better' if better else 'worse'})")
    if jsonl:
        with open(jsonl, "a") as f:
            f.write(json.dumps({"comparison": "GameNet vs ENet", "figure": figure, "unit": e["unit"],
                "higher_is_better": e["hib"], "project": e["gamenet"], "anchor_name": os.environ["ENET_NAME"],
                "anchor": e["enet"], "goal_ratio": 1.0}) + "\n")
print()
print(f"{'encryption on (ChaCha20-Poly1305, pre-shared key)':64} {'gamenet encrypted':>26} {'gamenet plain':>26}  ratio encrypted/plain")
for figure, e in rows.items():
    if not e["crypto"]:
        continue
    c, g = statistics.median(e["crypto"]), statistics.median(e["gamenet"])
    print(f"{figure + ' (' + e['unit'] + ')':64} {show(e['crypto']):>26} {show(e['gamenet']):>26}  {c / g:.2f}")
PY
rm -rf "$OUT"
