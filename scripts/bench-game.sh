#!/usr/bin/env bash
# Issue 7's figures side by side in one run: game-client (placement on, and --shared-cores)
# against netget's single-connection rate for the same 500 MB from the project's test server.
#   ROUNDS=3 scripts/bench-game.sh
# Prints, per round, the net layer's time per frame (p99, max), the frame-time p99 difference,
# both asset rates, netget's rate; then the medians and the ratio game/netget.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SIZE=500000000
SWIFT=${SWIFT:-swift}
for product in game-client netget test-server; do $SWIFT build -c release --product "$product" >/dev/null; done
BIN=$($SWIFT build -c release --show-bin-path)
OUT=$(mktemp -d /tmp/bench-game.XXXXXX)

. scripts/test-server-lib.sh
start_test_server

# One game-client run: "p99 max diff callAsyncMBps taskletsMBps" on one line.
game_run() {
    "$BIN/game-client" 500 6 "$@" > "$OUT/game.log" 2>&1 || { cat "$OUT/game.log" >&2; exit 1; }
    awk '
        /^net layer time per frame/ { p99 = $(NF-9); max = $(NF-6) }
        /^frame time p99 with - without/ { diff = $(NF-1) }
        /^asset via callAsync/ { workers = $(NF-4) }
        /^asset via tasklets/ { tasklets = $(NF-4) }
        END { print p99, max, diff, workers, tasklets }' "$OUT/game.log"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "round | mode | net p99 ms | net max ms | frame p99 +ms | callAsync MB/s | tasklets MB/s | netget MB/s"
: > "$OUT/placed" ; : > "$OUT/shared" ; : > "$OUT/netget"
for round in $(seq "$ROUNDS"); do
    rm -f "$OUT/asset.bin"
    START=$(date +%s.%N)
    "$BIN/netget" -q -o "$OUT/asset.bin" "$URL/gen/$SIZE?seed=60"
    END=$(date +%s.%N)
    NETGET=$(echo "$START $END $SIZE" | awk '{ printf "%.0f", $3 / ($2 - $1) / 1e6 }')
    echo "$NETGET" >> "$OUT/netget"
    read -r P99 MAX DIFF WORKERS TASKLETS < <(game_run)
    echo "$P99 $MAX $DIFF $WORKERS $TASKLETS" >> "$OUT/placed"
    echo "$round | reserved core | $P99 | $MAX | $DIFF | $WORKERS | $TASKLETS | $NETGET"
    read -r P99 MAX DIFF WORKERS TASKLETS < <(game_run --shared-cores)
    echo "$P99 $MAX $DIFF $WORKERS $TASKLETS" >> "$OUT/shared"
    echo "$round | shared cores  | $P99 | $MAX | $DIFF | $WORKERS | $TASKLETS | -"
done

NETGET_MEDIAN=$(median < "$OUT/netget")
for mode in placed shared; do
    P99=$(cut -d' ' -f1 "$OUT/$mode" | median)
    WORKERS=$(cut -d' ' -f4 "$OUT/$mode" | median)
    echo "$mode: median net p99 $P99 ms (budget 2 ms); median callAsync $WORKERS MB/s;" \
        "netget single connection $NETGET_MEDIAN MB/s;" \
        "ratio $(echo "$WORKERS $NETGET_MEDIAN" | awk '{ printf "%.2f", $1 / $2 }')"
done
