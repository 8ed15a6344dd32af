#!/usr/bin/env bash
# Every side-by-side comparison the issues name, in one sitting, and the report:
#   NetCore vs gevent/greenlet/uvloop/iperf3 (bench-netcore.sh); HTTP vs curl, wrk, gevent,
#   AsyncHTTPClient (bench-http.sh); netget vs curl, wget, aria2c (bench-netget.sh); the game
#   frame figures (bench-game.sh); GameNet vs ENet (bench-gamenet-vs-enet.sh, when present).
# Builds what it runs (release), makes the Python venv, starts its own nginx on 127.0.0.1 and
# stops it, then writes Benchmarks/report/bench-report.{json,html} (BENCH_REPORT_DIR overrides).
# `make bench-compare` installs the Debian packages first.
#   scripts/bench-compare.sh        # BENCH=quick (about 10 min once built) | full (the default)
# BENCH_BUILD_LOCK=FILE runs each Swift build under flock FILE (a machine shared with others).
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
cd "$ROOT"
REPORT_DIR=${BENCH_REPORT_DIR:-$ROOT/Benchmarks/report}
export REPORT_JSONL=$ROOT/.build/bench/compare.jsonl
rm -f "$REPORT_JSONL"
mkdir -p "$(dirname "$REPORT_JSONL")"
need_tools nginx curl wget aria2c wrk iperf3

build_start=$(date +%s)
echo "== building (release): netget http-load game-client test-server, Benchmarks/AHCBench, Benchmarks/"
release_product netget http-load game-client test-server
(cd Benchmarks/AHCBench && in_build_lock swift build -c release >/dev/null)
(cd Benchmarks && in_build_lock swift build -c release --product NetCoreBenchmarks >/dev/null)
Benchmarks/Anchors/venv.sh >/dev/null
Benchmarks/Anchors/nginx.sh data
echo "   builds, venv and data: $(($(date +%s) - build_start)) s"
export BENCH_PREBUILT=1

start=$(date +%s)
python3 scripts/bench-report.py facts > "$ROOT/.build/bench/machine-start.json"
echo "== machine at start: $(cat "$ROOT/.build/bench/machine-start.json")"
Benchmarks/Anchors/nginx.sh start
trap 'Benchmarks/Anchors/nginx.sh stop' EXIT
echo "   nginx $(nginx -v 2>&1 | sed 's|.*/||') on $BASE"

scripts/bench-netcore.sh
scripts/bench-http.sh
scripts/bench-netget.sh
scripts/bench-game.sh
if [ -x scripts/bench-gamenet-vs-enet.sh ]; then
    scripts/bench-gamenet-vs-enet.sh
else
    echo "== GameNet vs ENet: scripts/bench-gamenet-vs-enet.sh is not in this tree yet (issue 13/17); skipped"
fi

Benchmarks/Anchors/nginx.sh stop
trap - EXIT
python3 scripts/bench-report.py facts > "$ROOT/.build/bench/machine-end.json"
seconds=$(($(date +%s) - start))
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit+changes"
python3 scripts/bench-report.py build "$REPORT_JSONL" "$ROOT/.build/bench/machine-start.json" \
    "$ROOT/.build/bench/machine-end.json" "$REPORT_DIR" --commit "$commit" --mode "$MODE" --seconds "$seconds"
echo
echo "== every figure beside its anchor (median (min-max) of the rounds; ratio = times better than the anchor)"
python3 - "$REPORT_DIR/bench-report.json" <<'PYEOF'
import json, os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "scripts"))
from bench_stats import describe
for row in json.load(open(sys.argv[1]))["comparisons"]:
    print(describe(row))
PYEOF
echo "== machine at end: $(cat "$ROOT/.build/bench/machine-end.json")"
echo "== BENCH=$MODE measured in $((seconds / 60)) min $((seconds % 60)) s (after $(( start - build_start )) s of builds)"
