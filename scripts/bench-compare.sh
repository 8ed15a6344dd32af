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

# The commit measured, taken before anything runs; the report files themselves do not count as
# changes (a second run in one tree would otherwise be labelled +changes by the first's report).
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- . ':(exclude)Benchmarks/report' 2>/dev/null || commit="$commit+changes"

build_start=$(date +%s)
echo "== building (release): netget http-load game-client test-server gamenet-bench, Benchmarks/AHCBench, Benchmarks/"
release_product netget http-load game-client test-server gamenet-bench
(cd Benchmarks/AHCBench && in_build_lock swift build -c release >/dev/null)
(cd Benchmarks && in_build_lock swift build -c release --product NetCoreBenchmarks >/dev/null)
# The benchmark plugin's own tool (BenchmarkTool and its dependencies, built by the plugin on first
# use): built here, not in bench-netcore.sh's first round, which is inside the measured time.
(cd Benchmarks && in_build_lock swift package --allow-writing-to-package-directory benchmark list >/dev/null)
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

# timed SCRIPT: runs one of the bench scripts and says how long it took (the 10-minute budget of quick).
timed() {
    local began=$(date +%s)
    "$@"
    echo "   $(basename "$1"): $(($(date +%s) - began)) s, load $(cut -d ' ' -f 1-3 /proc/loadavg)"
}
timed scripts/bench-netcore.sh
timed scripts/bench-http.sh
timed scripts/bench-netget.sh
timed scripts/bench-game.sh
if [ -x scripts/bench-gamenet-vs-enet.sh ]; then
    # Quick: one round (about 1.6 min each on 2 cores); full: its default of 3. ROUNDS overrides.
    ROUNDS=$(rounds 1 3) timed scripts/bench-gamenet-vs-enet.sh
else
    echo "== GameNet vs ENet: scripts/bench-gamenet-vs-enet.sh is not in this tree yet (issue 13/17); skipped"
fi

Benchmarks/Anchors/nginx.sh stop
trap - EXIT
python3 scripts/bench-report.py facts > "$ROOT/.build/bench/machine-end.json"
seconds=$(($(date +%s) - start))
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
