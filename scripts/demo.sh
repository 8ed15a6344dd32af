#!/usr/bin/env bash
# make demo: the project's main job. Builds netget and the test server in release mode, starts
# the server on 127.0.0.1, downloads a generated 1 GiB file over 4 connections (-x 4) with a
# progress bar, verifies its SHA-256, prints the rate, and stops the server.
#   scripts/demo.sh [MiB]      (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${1:-1024}
SIZE=$((MIB * 1048576))
SEED=42
SWIFT=${SWIFT:-swift}
$SWIFT build -c release --product netget
$SWIFT build -c release --product test-server
BIN=$($SWIFT build -c release --show-bin-path)
OUT=$(mktemp -d /tmp/netget-demo.XXXXXX)

. scripts/test-server-lib.sh
start_test_server

echo "test server: $URL; computing the expected SHA-256 of $MIB MiB of generated content..."
EXPECTED=$("$BIN/test-server" sha256 "$SIZE" "$SEED")
echo "expected SHA-256: $EXPECTED"
echo "netget -x 4 --sha256 ... -o $OUT/demo.bin $URL/gen/$SIZE?seed=$SEED"
START=$(date +%s.%N)
"$BIN/netget" -x 4 --sha256 "$EXPECTED" -o "$OUT/demo.bin" "$URL/gen/$SIZE?seed=$SEED"
END=$(date +%s.%N)
ACTUAL=$(stat -c %s "$OUT/demo.bin")
[ "$ACTUAL" = "$SIZE" ] || { echo "size mismatch: $ACTUAL bytes, expected $SIZE" >&2; exit 1; }
echo "$START $END $SIZE" | awk '{ printf "verified: %d bytes, SHA-256 matched, %.2f s, %.0f MB/s (written to disk and fsync-ed)\n", $3, $2-$1, $3/($2-$1)/1e6 }'
