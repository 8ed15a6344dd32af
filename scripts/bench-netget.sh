#!/usr/bin/env bash
# netget beside curl, wget and aria2c against nginx on 127.0.0.1 (issue 5's figures), in one
# sitting, rounds alternating between the tools; prints medians and ratios:
#   1. one 1 GiB file to disk: netget vs curl and wget; netget -x 4 vs aria2c -x4 -s4
#   2. 200 files of 100 KiB: netget -j 16 vs aria2c -j 16, curl --parallel --parallel-max 16, and
#      that curl followed by sync (its files on disk, as netget's are when it exits)
#   3. peak RSS of netget's 1 GiB download (/usr/bin/time), and of a 4 GiB one (must not grow)
# netget's time includes its fsync and rename (curl, wget and aria2c do not fsync).
#   scripts/bench-netget.sh          # ROUNDS=5; needs nginx curl wget aria2 (apt); BUILD_LOCK optional
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ANCHORS=${ANCHORS:-$ROOT/../shared/anchors}
ROUNDS=${ROUNDS:-5}
PORT=${PORT:-18080}
BASE=http://127.0.0.1:$PORT
OUT=$(mktemp -d /tmp/netget-bench.XXXXXX)
DISK=${DISK:-$OUT/files}
mkdir -p "$DISK"

for tool in nginx curl wget aria2c; do
    command -v "$tool" >/dev/null || { echo "$tool missing: apt-get install -y nginx curl wget aria2" >&2; exit 2; }
done
"$ANCHORS/nginx.sh" data
started_nginx=no
if ! curl -sf -o /dev/null "$BASE/100k.bin"; then
    PORT=$PORT "$ANCHORS/nginx.sh" start
    started_nginx=yes
fi
trap '[ "$started_nginx" = yes ] && "$ANCHORS/nginx.sh" stop; rm -rf "$DISK"; true' EXIT

# BUILD_LOCK=FILE: build under flock FILE (a machine shared with other builds).
${BUILD_LOCK:+flock "$BUILD_LOCK"} swift build -c release --product netget >/dev/null
NETGET=$ROOT/.build/release/netget

# A 4 GiB file for the does-memory-grow check (sparse: nginx serves zeros).
[ -f /tmp/anchors-data/4g.bin ] || truncate -s 4G /tmp/anchors-data/4g.bin
chmod 644 /tmp/anchors-data/4g.bin

: > "$OUT/list.txt"; : > "$OUT/aria.txt"; : > "$OUT/curl.cfg"
for n in $(seq 200); do
    echo "$BASE/100k.bin?n=$n" >> "$OUT/list.txt"
    printf '%s\n  out=f%d.bin\n' "$BASE/100k.bin?n=$n" "$n" >> "$OUT/aria.txt"
    printf 'url = "%s"\noutput = "%s/f%d.bin"\n' "$BASE/100k.bin?n=$n" "$DISK/many" "$n" >> "$OUT/curl.cfg"
done

timed() {  # timed FILE command...: appends the wall seconds of the command to FILE
    local file=$1; shift
    local start end
    sync
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "$start $end" | awk '{print $2-$1}' >> "$file"
}
clean() { rm -rf "$DISK"/*; mkdir -p "$DISK/many"; }

echo "== 1 GiB to disk, $ROUNDS rounds"
for _ in $(seq "$ROUNDS"); do
    clean; timed "$OUT/curl-1g" curl -sS -o "$DISK/c.bin" "$BASE/1g.bin"
    clean; timed "$OUT/wget-1g" wget -q -O "$DISK/w.bin" "$BASE/1g.bin"
    clean; timed "$OUT/aria-1g" aria2c -q -x4 -s4 --allow-overwrite=true --file-allocation=none -d "$DISK" -o a.bin "$BASE/1g.bin"
    clean; timed "$OUT/netget-1g" "$NETGET" -q -o "$DISK/n.bin" "$BASE/1g.bin"
    clean; timed "$OUT/netget4-1g" "$NETGET" -q -x 4 -o "$DISK/n4.bin" "$BASE/1g.bin"
done

echo "== 200 x 100 KiB, $ROUNDS rounds"
for _ in $(seq "$ROUNDS"); do
    clean; timed "$OUT/aria-many" aria2c -q -j 16 --allow-overwrite=true --file-allocation=none -d "$DISK/many" -i "$OUT/aria.txt"
    clean; timed "$OUT/curl-many" curl -sS --parallel --parallel-max 16 -K "$OUT/curl.cfg"
    clean; timed "$OUT/curlsync-many" sh -c 'curl -sS --parallel --parallel-max 16 -K "$1" && sync' sh "$OUT/curl.cfg"
    clean; timed "$OUT/netget-many" "$NETGET" -q -j 16 -d "$DISK/many" -i "$OUT/list.txt"
done

echo "== peak RSS"
clean; /usr/bin/time -f "%M" -o "$OUT/rss-1g" "$NETGET" -q -o "$DISK/n.bin" "$BASE/1g.bin"
clean; /usr/bin/time -f "%M" -o "$OUT/rss-4g" "$NETGET" -q -o "$DISK/n.bin" "$BASE/4g.bin"
clean; /usr/bin/time -f "%M" -o "$OUT/rss-1g-x4" "$NETGET" -q -x 4 -o "$DISK/n.bin" "$BASE/1g.bin"

python3 - "$OUT" <<'PYEOF'
import os, statistics, sys
out = sys.argv[1]
def med(name):
    path = os.path.join(out, name)
    values = [float(v) for v in open(path).read().split()] if os.path.exists(path) else []
    return statistics.median(values) if values else None
GiB = 1073741824
def rate(name): 
    t = med(name); return None if not t else GiB / t / 1e6
def per_s(name):
    t = med(name); return None if not t else 200 / t
def r(a, b): return "n/a" if a is None or b is None else f"{a / b:.2f}x"
c, w, a, n, n4 = rate("curl-1g"), rate("wget-1g"), rate("aria-1g"), rate("netget-1g"), rate("netget4-1g")
print()
print("1 GiB from nginx to disk (median MB/s)")
for label, v in [("curl", c), ("wget", w), ("aria2c -x4 -s4", a), ("netget", n), ("netget -x 4", n4)]:
    print(f"  {label:18s} {v:8.0f} MB/s" if v else f"  {label:18s} n/a")
print(f"  netget vs curl: {r(n, c)} (target >= 2x); vs wget: {r(n, w)}; netget -x 4 vs aria2c -x4: {r(n4, a)} (target >= 2x)")
am, cm, csm, nm = per_s("aria-many"), per_s("curl-many"), per_s("curlsync-many"), per_s("netget-many")
print()
print("200 x 100 KiB to disk (median files/s)")
for label, v in [("aria2c -j 16", am), ("curl --parallel 16", cm), ("curl ... && sync", csm), ("netget -j 16", nm)]:
    print(f"  {label:18s} {v:8.0f} files/s" if v else f"  {label:18s} n/a")
print(f"  netget vs aria2c: {r(nm, am)}; vs curl --parallel: {r(nm, cm)} (target >= 1.0x); vs curl --parallel && sync: {r(nm, csm)} (target >= 2x)")
print()
for name, label in [("rss-1g", "1 GiB"), ("rss-4g", "4 GiB"), ("rss-1g-x4", "1 GiB -x 4")]:
    path = os.path.join(out, name)
    if os.path.exists(path):
        kib = int(open(path).read().split()[-1])
        print(f"  peak RSS, netget {label}: {kib / 1024:.1f} MiB (target < 32 MiB, not growing with size)")
PYEOF
