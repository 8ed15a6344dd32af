#!/usr/bin/env bash
# Makes (once) the Python venv the anchors run in: .build/bench-venv of the repository, with
# gevent, greenlet and uvloop from PyPI (requirements.txt). Prints the venv's python.
#   Benchmarks/Anchors/venv.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${BENCH_VENV:-$ROOT/.build/bench-venv}
if ! "$VENV/bin/python" -c 'import gevent, greenlet, uvloop' >/dev/null 2>&1; then
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV" >&2
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt" >&2
fi
echo "$VENV/bin/python"
