#!/usr/bin/env bash
# netget beside curl, wget and aria2c against the bench's nginx on 127.0.0.1, rounds alternating
# the tools (issue 5's comparisons):
#   1. one 1 GiB file to disk: netget vs curl and wget; netget -x 4 vs aria2c -x4 -s4
#   2. 200 files of 100 KiB: netget -j 16 vs aria2c -j 16, curl --parallel --parallel-max 16, and
#      that curl followed by sync (its files on disk, as netget's are when it exits)
#   3. peak RSS (/usr/bin/time) of the 1 GiB download: netget vs curl
# netget's time includes its fsync and rename (curl, wget and aria2c do not fsync). Appends to
# $REPORT_JSONL; starts its own nginx when none answers.
#   scripts/bench-netget.sh        # BENCH=quick|full (3|5 rounds; ROUNDS overrides)
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
cd "$ROOT"
need_tools nginx curl wget aria2c
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing: apt-get install time" >&2; exit 2; }
N=$(rounds 3 5)
OUT=$(mktemp -d "$BENCH_TMP/netget.XXXXXX")
DISK=$OUT/files
started_nginx=no
cleanup() {
    [ "$started_nginx" = yes ] && Benchmarks/Anchors/nginx.sh stop
    rm -rf "$OUT"
}
trap cleanup EXIT
release_product netget
NETGET=$BIN/netget
if ! curl -sf -o /dev/null "$BASE/100k.bin"; then
    Benchmarks/Anchors/nginx.sh data
    Benchmarks/Anchors/nginx.sh start
    started_nginx=yes
fi

FILES=200
for n in $(seq "$FILES"); do
    echo "$BASE/100k.bin?n=$n" >> "$OUT/list.txt"
    printf '%s\n  out=f%d.bin\n' "$BASE/100k.bin?n=$n" "$n" >> "$OUT/aria.txt"
    printf 'url = "%s"\noutput = "%s/many/f%d.bin"\n' "$BASE/100k.bin?n=$n" "$DISK" "$n" >> "$OUT/curl.cfg"
done
fresh() { rm -rf "$DISK" && mkdir -p "$DISK/many" && sync; }

echo "== netget: 1 GiB to disk, $N rounds"
for _ in $(seq "$N"); do
    fresh && seconds_of "$OUT/curl-1g" curl -sS -o "$DISK/c.bin" "$BASE/1g.bin"
    fresh && seconds_of "$OUT/netget-1g" "$NETGET" -q -o "$DISK/n.bin" "$BASE/1g.bin"
    fresh && seconds_of "$OUT/wget-1g" wget -q -O "$DISK/w.bin" "$BASE/1g.bin"
    fresh && seconds_of "$OUT/aria-1g" aria2c -q -x4 -s4 --allow-overwrite=true --file-allocation=none -d "$DISK" -o a.bin "$BASE/1g.bin"
    fresh && seconds_of "$OUT/netget4-1g" "$NETGET" -q -x 4 -o "$DISK/n4.bin" "$BASE/1g.bin"
done

echo "== netget: $FILES x 100 KiB to disk, $N rounds"
for _ in $(seq "$N"); do
    fresh && seconds_of "$OUT/aria-many" aria2c -q -j 16 --allow-overwrite=true --file-allocation=none -d "$DISK/many" -i "$OUT/aria.txt"
    fresh && seconds_of "$OUT/netget-many" "$NETGET" -q -j 16 -d "$DISK/many" -i "$OUT/list.txt"
    fresh && seconds_of "$OUT/curl-many" curl -sS --parallel --parallel-max 16 -K "$OUT/curl.cfg"
    fresh && seconds_of "$OUT/curlsync-many" sh -c 'curl -sS --parallel --parallel-max 16 -K "$1" && sync' sh "$OUT/curl.cfg"
done

echo "== netget: peak RSS of the 1 GiB download, $N rounds"
for _ in $(seq "$N"); do
    fresh && /usr/bin/time -f %M -a -o "$OUT/rss-netget" "$NETGET" -q -o "$DISK/n.bin" "$BASE/1g.bin"
    fresh && /usr/bin/time -f %M -a -o "$OUT/rss-curl" curl -sS -o "$DISK/c.bin" "$BASE/1g.bin"
done

for name in curl-1g netget-1g wget-1g aria-1g netget4-1g; do rate_of "$OUT/$name.rate" 1073.741824 < "$OUT/$name"; done
for name in aria-many netget-many curl-many curlsync-many; do rate_of "$OUT/$name.rate" "$FILES" < "$OUT/$name"; done
for name in rss-netget rss-curl; do awk '{ printf "%.3f\n", $1 / 1024 }' "$OUT/$name" > "$OUT/$name.mib"; done

C="netget vs curl, wget, aria2c"
CURL=$(version_of curl)
record "$C" "1 GiB to disk" MB/s higher "$OUT/netget-1g.rate" "$CURL" "$OUT/curl-1g.rate" 2
record "$C" "1 GiB to disk" MB/s higher "$OUT/netget-1g.rate" "$(version_of wget)" "$OUT/wget-1g.rate"
record "$C" "1 GiB to disk, 4 connections (netget -x 4)" MB/s higher "$OUT/netget4-1g.rate" "$(version_of aria2c) -x4 -s4" "$OUT/aria-1g.rate" 2
record "$C" "200 x 100 KiB to disk, 16 at once (netget -j 16)" files/s higher "$OUT/netget-many.rate" "$(version_of aria2c) -j 16" "$OUT/aria-many.rate"
record "$C" "200 x 100 KiB to disk, 16 at once (netget -j 16)" files/s higher "$OUT/netget-many.rate" "$CURL --parallel-max 16" "$OUT/curl-many.rate" 1
record "$C" "200 x 100 KiB to disk, 16 at once (netget -j 16)" files/s higher "$OUT/netget-many.rate" "$CURL --parallel-max 16, then sync" "$OUT/curlsync-many.rate" 2
record "$C" "peak RSS, 1 GiB to disk" MiB lower "$OUT/rss-netget.mib" "$CURL" "$OUT/rss-curl.mib"
