# What the bench-*.sh scripts share (sourced, not run). Sets ROOT, MODE (BENCH=quick|full),
# REPORT_JSONL (where comparisons are appended; a file of its own under .build/bench when a
# script runs alone), PY (python3), and the helpers below.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODE=${BENCH:-full}
case "$MODE" in quick | full) ;; *) echo "BENCH must be quick or full, not $MODE" >&2; exit 2 ;; esac
REPORT_JSONL=${REPORT_JSONL:-$ROOT/.build/bench/$(basename "$0" .sh).jsonl}
BENCH_TMP=${BENCH_TMP:-/tmp/stacklessnet-bench}
BENCH_PORT=${BENCH_PORT:-18280}
BASE=http://127.0.0.1:$BENCH_PORT
export BENCH_TMP BENCH_PORT
mkdir -p "$(dirname "$REPORT_JSONL")" "$BENCH_TMP"

# rounds QUICK FULL: the number of rounds for this mode ($ROUNDS overrides both).
rounds() { if [ -n "${ROUNDS:-}" ]; then echo "$ROUNDS"; elif [ "$MODE" = quick ]; then echo "$1"; else echo "$2"; fi; }

# in_build_lock COMMAND...: a Swift build under $BENCH_BUILD_LOCK when set (a shared machine).
in_build_lock() { ${BENCH_BUILD_LOCK:+flock "$BENCH_BUILD_LOCK"} "$@"; }

# release_product NAME...: builds the products in release; their folder is $BIN. Skipped when
# BENCH_PREBUILT=1 (bench-compare built them all first: no wait for a shared lock per script).
release_product() {
    local product
    if [ "${BENCH_PREBUILT:-0}" != 1 ]; then
        for product in "$@"; do in_build_lock swift build -c release --product "$product" >/dev/null; done
    fi
    BIN=$ROOT/.build/release
}

# need_tools TOOL...: fails with the apt-get line when one is missing (bench-compare installs them).
need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "$tool missing: make bench-deps (or apt-get install it)" >&2; exit 2; }
    done
}

# seconds_of FILE COMMAND...: runs COMMAND (output dropped) and appends its wall seconds to FILE.
seconds_of() {
    local file=$1 start end
    shift
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.6f\n", e - s }' >> "$file"
}

# rate_of FILE NUMERATOR < SECONDS_FILE: writes NUMERATOR / seconds, one a line, to FILE.
rate_of() { awk -v n="$2" '{ printf "%.6f\n", n / $1 }' > "$1"; }

# key_value KEY: the value of KEY=... on the input's `median` line (http-load and ahc-bench).
key_value() { awk -v key="$1" '/^median/ { for (i = 1; i <= NF; i++) if (index($i, key "=") == 1) { sub(key "=", "", $i); print $i } }'; }

# record COMPARISON FIGURE UNIT higher|lower PROJECT_FILE ANCHOR_NAME ANCHOR_FILE [GOAL_RATIO]
record() { python3 "$ROOT/scripts/bench-record.py" "$REPORT_JSONL" "$@"; }

# version_of TOOL: the first line a tool prints of its version, shortened to "name x.y.z".
version_of() {
    case "$1" in
    curl) curl --version | awk 'NR == 1 { print "curl " $2 }' ;;
    wget) wget --version | awk 'NR == 1 { print "wget " $3 }' ;;
    aria2c) aria2c --version | awk 'NR == 1 { print "aria2c " $3 }' ;;
    wrk) wrk --version 2>&1 | awk 'NR == 1 { v = $2; sub("^debian/", "", v); sub("-.*", "", v); print "wrk " v }' ;;
    iperf3) iperf3 --version | awk 'NR == 1 { print "iperf3 " $2 }' ;;
    nginx) nginx -v 2>&1 | sed 's|.*nginx/|nginx |' ;;
    *) echo "$1" ;;
    esac
}

# python_anchor SCRIPT ARGS...: one run of a Python anchor in the bench venv; prints FIGURE<TAB>VALUE.
python_anchor() {
    local python
    python=$("$ROOT/Benchmarks/Anchors/venv.sh")
    (cd "$ROOT/Benchmarks/Anchors/python" && "$python" "$@")
}

# figure NAME < ANCHOR_OUTPUT: the value of one FIGURE<TAB>VALUE line.
figure() { awk -F '\t' -v name="$1" '$1 == name { print $2 }'; }
