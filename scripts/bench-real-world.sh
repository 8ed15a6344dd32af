#!/usr/bin/env bash
# Issue 14's figures, side by side in one sitting, rounds alternating between the tools:
#   1. proxy: a 1 GiB download through squid, netget --proxy vs curl -x (same squid, same origin)
#   2. Happy Eyeballs: a 100 KiB download from a name whose first address (::1) drops SYNs and
#      whose second (127.0.0.1) answers, netget vs curl with the same name; inside a network
#      namespace whose /etc/hosts gives the name both addresses (`ip netns`, so root)
#   3. decompression: a 1 GiB body sent gzip-coded (nginx gzip_static), netget --compressed vs
#      curl --compressed; netget's peak RSS beside it (it must not grow with the body)
# Files land on tmpfs (/dev/shm), so the disk is not what is measured; netget's time includes
# its fsync and rename (nearly free on tmpfs); curl in 3 writes to /dev/null, as the issue names it.
#   scripts/bench-real-world.sh        # ROUNDS=5; needs squid nginx curl python3 (apt) and root
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${ROUNDS:-5}
NETGET=${NETGET:-$ROOT/.build/release/netget}
OUT=$(mktemp -d /tmp/real-world-bench.XXXXXX)
SHM=$(mktemp -d /dev/shm/real-world-bench.XXXXXX)
DATA=${DATA:-/tmp/real-world-bench-data}
NS=snbench$$
PIDS=()

for tool in squid nginx curl python3 ip; do
    command -v "$tool" >/dev/null || { echo "$tool missing: apt-get install -y squid nginx curl" >&2; exit 2; }
done
[ -x "$NETGET" ] || { echo "build netget first: swift build -c release --product netget" >&2; exit 2; }

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "/etc/netns/$NS" "$OUT" "$SHM"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # host port
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing listens on $1:$2" >&2
    exit 1
}
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc -l; }

# --- Data: 1 GiB of random bytes; 1 GiB of log-like text and its gzip (made once, kept) ---
mkdir -p "$DATA"
[ -s "$DATA/1g.bin" ] || head -c 1073741824 /dev/urandom > "$DATA/1g.bin"
[ -s "$DATA/100k.bin" ] || head -c 102400 /dev/urandom > "$DATA/100k.bin"
if [ ! -s "$DATA/text.log.gz" ]; then
    python3 - "$DATA/text.log" <<'PY'
import random, sys
random.seed(14)
words = [b"GET", b"POST", b"/index.html", b"/api/v1/items", b"200", b"304", b"404", b"curl/7.88", b"Mozilla/5.0"]
with open(sys.argv[1], "wb") as f:
    written = 0
    while written < 1 << 30:
        line = b"127.0.0.%d - - [02/Dec/2026:03:%02d:%02d] " % (random.randrange(256), random.randrange(60), random.randrange(60))
        line += b" ".join(random.choice(words) for _ in range(8)) + b" %d\n" % random.randrange(1 << 20)
        f.write(line)
        written += len(line)
PY
    truncate -s 1073741824 "$DATA/text.log"
    gzip -1 -k -c "$DATA/text.log" > "$DATA/text.log.gz"
fi
TEXT_SHA=$(sha256sum "$DATA/text.log" | cut -d' ' -f1)

# --- Origin: nginx on loopback, gzip_static for the text ---
ORIGIN_PORT=$(free_port)
mkdir -p "$OUT/nginx"
sed -e "s#@PORT@#$ORIGIN_PORT#g" -e "s#@ROOT@#$DATA#g" -e "s#@DIR@#$OUT/nginx#g" \
    scripts/bench-real-world/nginx.conf > "$OUT/nginx/nginx.conf"
nginx -c "$OUT/nginx/nginx.conf" -p "$OUT/nginx" -g 'daemon off;' 2> "$OUT/nginx/stderr" &
PIDS+=($!)
wait_port 127.0.0.1 "$ORIGIN_PORT"
ORIGIN=http://127.0.0.1:$ORIGIN_PORT

# --- squid, forwarding only (no cache), on loopback ---
SQUID_PORT=$(free_port)
mkdir -p "$OUT/squid"
sed -e "s#@PORT@#$SQUID_PORT#g" -e "s#@DIR@#$OUT/squid#g" scripts/bench-real-world/squid.conf > "$OUT/squid/squid.conf"
squid -N -f "$OUT/squid/squid.conf" > "$OUT/squid/stdout" 2>&1 &
PIDS+=($!)
wait_port 127.0.0.1 "$SQUID_PORT"
PROXY=http://127.0.0.1:$SQUID_PORT

median() { sort -n | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.3f [%.3f-%.3f]", m, v[1], v[NR]}'; }
med() { sort -n | awk '{v[NR]=$1} END {print (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }

# --- 1. Through squid ---
for round in $(seq "$ROUNDS"); do
    t=$(now); "$NETGET" -q --proxy "$PROXY" -o "$SHM/netget.bin" "$ORIGIN/1g.bin"; elapsed "$t" >> "$OUT/proxy-netget"
    cmp -s "$SHM/netget.bin" "$DATA/1g.bin" || { echo "netget through squid: wrong bytes" >&2; exit 1; }
    rm -f "$SHM/netget.bin"
    t=$(now); curl -sf -x "$PROXY" -o "$SHM/curl.bin" "$ORIGIN/1g.bin"; elapsed "$t" >> "$OUT/proxy-curl"
    rm -f "$SHM/curl.bin"
done

# --- 2. Happy Eyeballs: ::1 drops SYNs (a full accept queue), 127.0.0.1 answers ---
HE_PORT=$(free_port)
ip netns add "$NS"
ip -n "$NS" link set lo up
mkdir -p "/etc/netns/$NS"
printf '::1 he.bench.test\n127.0.0.1 he.bench.test\n' > "/etc/netns/$NS/hosts"
ip netns exec "$NS" python3 - "$HE_PORT" "$DATA/100k.bin" > "$OUT/he-server.log" 2>&1 <<'PY' &
import http.server, socket, sys, threading
port, path = int(sys.argv[1]), sys.argv[2]
body = open(path, "rb").read()
# [::1]:port: backlog 0 and one connection never accepted fill the queue; Linux then drops SYNs.
dead = socket.socket(socket.AF_INET6)
dead.bind(("::1", port))
dead.listen(0)
filler = socket.socket(socket.AF_INET6)
filler.connect(("::1", port))
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("listening", flush=True)
server.serve_forever()
PY
PIDS+=($!)
for _ in $(seq 200); do grep -q listening "$OUT/he-server.log" && break; sleep 0.05; done
grep -q listening "$OUT/he-server.log" || { echo "HE server: $(cat "$OUT/he-server.log")" >&2; exit 1; }
HE_URL=http://he.bench.test:$HE_PORT/100k.bin
for round in $(seq "$ROUNDS"); do
    t=$(now); ip netns exec "$NS" "$NETGET" -q -o "$SHM/he-netget.bin" "$HE_URL"; elapsed "$t" >> "$OUT/he-netget"
    cmp -s "$SHM/he-netget.bin" "$DATA/100k.bin" || { echo "netget Happy Eyeballs: wrong bytes" >&2; exit 1; }
    rm -f "$SHM/he-netget.bin"
    t=$(now); ip netns exec "$NS" curl -sf -o /dev/null "$HE_URL"; elapsed "$t" >> "$OUT/he-curl"
    t=$(now); ip netns exec "$NS" curl -sf --happy-eyeballs-timeout-ms 250 -o /dev/null "$HE_URL"; elapsed "$t" >> "$OUT/he-curl250"
done

# --- 3. A 1 GiB gzip body, decoded ---
for round in $(seq "$ROUNDS"); do
    t=$(now)
    /usr/bin/time -f %M -o "$OUT/rss" "$NETGET" -q --compressed -o "$SHM/text.log" "$ORIGIN/text.log"
    elapsed "$t" >> "$OUT/gzip-netget"
    cat "$OUT/rss" >> "$OUT/gzip-netget-rss"
    [ "$(sha256sum "$SHM/text.log" | cut -d' ' -f1)" = "$TEXT_SHA" ] || { echo "netget --compressed: wrong bytes" >&2; exit 1; }
    rm -f "$SHM/text.log"
    t=$(now); curl -sf --compressed -o /dev/null "$ORIGIN/text.log"; elapsed "$t" >> "$OUT/gzip-curl"
done

ratio() { echo "scale=2; $(med < "$OUT/$2") / $(med < "$OUT/$1")" | bc -l; }
echo "seconds, median [min-max] of $ROUNDS rounds; ratio = anchor time / netget time (above 1: netget faster)"
printf '%-52s %-26s %-26s %s\n' figure netget anchor ratio
printf '%-52s %-26s %-26s %s\n' "1 GiB through squid (anchor: curl -x)" "$(median < "$OUT/proxy-netget")" "$(median < "$OUT/proxy-curl")" "$(ratio proxy-netget proxy-curl)x"
printf '%-52s %-26s %-26s %s\n' "100 KiB, first address dead (anchor: curl)" "$(median < "$OUT/he-netget")" "$(median < "$OUT/he-curl")" "$(ratio he-netget he-curl)x"
printf '%-52s %-26s %-26s %s\n' "  same, curl --happy-eyeballs-timeout-ms 250" "$(median < "$OUT/he-netget")" "$(median < "$OUT/he-curl250")" "$(ratio he-netget he-curl250)x"
printf '%-52s %-26s %-26s %s\n' "1 GiB gzip body decoded (anchor: curl --compressed)" "$(median < "$OUT/gzip-netget")" "$(median < "$OUT/gzip-curl")" "$(ratio gzip-netget gzip-curl)x"
echo "netget peak RSS while decoding 1 GiB (KiB), per round: $(tr '\n' ' ' < "$OUT/gzip-netget-rss")"
echo "gzip body: $(stat -c %s "$DATA/text.log.gz") bytes coded, 1073741824 decoded"
