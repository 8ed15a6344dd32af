#!/usr/bin/env bash
# The bench's own nginx on 127.0.0.1:$BENCH_PORT (default 18280), config from nginx.conf.in,
# files in $BENCH_TMP/data (1g.bin, 100k.bin and 1k.bin, random bytes, made once), run state in
# $BENCH_TMP/nginx. `start` refuses a port something else listens on; `stop` ends only the
# nginx that `start` recorded.
#   Benchmarks/Anchors/nginx.sh data|start|stop
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${BENCH_PORT:-18280}
TMP=${BENCH_TMP:-/tmp/stacklessnet-bench}
DATA=$TMP/data
RUN=$TMP/nginx

make_file() {  # make_file NAME BYTES: random bytes, remade only when the size is wrong
    if [ "$(stat -c %s "$DATA/$1" 2>/dev/null || echo 0)" != "$2" ]; then
        head -c "$2" /dev/urandom > "$DATA/$1.part" && mv "$DATA/$1.part" "$DATA/$1"
    fi
}

data() {
    mkdir -p "$DATA"
    chmod 755 "$TMP" "$DATA"
    make_file 1g.bin 1073741824
    make_file 100k.bin 102400
    make_file 1k.bin 1024  # many small responses: the per-request overheads (the hop) dominate
    chmod 644 "$DATA"/*.bin
}

start() {
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        echo "something already listens on 127.0.0.1:$PORT (set BENCH_PORT)" >&2
        return 1
    fi
    mkdir -p "$RUN"/{body,proxy,fastcgi,uwsgi,scgi}
    sed -e "s|@RUN@|$RUN|g" -e "s|@DATA@|$DATA|g" -e "s|@PORT@|$PORT|g" "$HERE/nginx.conf.in" > "$RUN/nginx.conf"
    # The workers run as nobody when started as root: they must reach the files.
    [ "$(id -u)" = 0 ] && sed -i '1i user nobody nogroup;' "$RUN/nginx.conf"
    nginx -q -t -c "$RUN/nginx.conf" -p "$RUN"
    nginx -c "$RUN/nginx.conf" -p "$RUN" -g 'daemon off;' </dev/null >/dev/null 2>&1 &
    echo $! > "$RUN/master.pid"
    for _ in $(seq 100); do
        kill -0 "$(cat "$RUN/master.pid")" 2>/dev/null || { echo "nginx exited: $RUN/error.log" >&2; return 1; }
        curl -sf -o /dev/null "http://127.0.0.1:$PORT/100k.bin" && return 0
        sleep 0.1
    done
    echo "nginx did not answer on 127.0.0.1:$PORT" >&2
    return 1
}

stop() {
    [ -f "$RUN/master.pid" ] || return 0
    local pid
    pid=$(cat "$RUN/master.pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$RUN/master.pid"
}

case "${1:-}" in
data) data ;;
start) start ;;
stop) stop ;;
*) echo "usage: $0 data|start|stop" >&2; exit 2 ;;
esac
