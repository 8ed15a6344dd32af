#!/usr/bin/env bash
# The interop matrix (issue 14 point 6): netget against real servers and proxies from Debian,
# every download checked with SHA-256.
#
#   scripts/interop.sh            # what `make interop` and `make test` run
#   NETGET=.build/release/netget scripts/interop.sh
#   INTEROP_KEEP=1 scripts/interop.sh   # keep the run directory (configs, logs) for a look
#
# It installs what is missing (apt-get, sudo unless root), makes a private CA (root ->
# intermediate -> leaf for 127.0.0.1, localhost and the origin's name) in a temporary run
# directory, fills in the configs from scripts/interop/ (@NAME@ placeholders) and starts each
# server in the foreground on free loopback ports, its pid, logs and cache in the run directory:
#   origins   nginx (TLS 1.3 only), apache2 (TLS 1.2 only), lighttpd, h2o, caddy, and haproxy
#             (TLS 1.2 only) in front of nginx
#   proxies   squid (the only one that resolves ORIGIN_NAME, from its hosts_file) and tinyproxy
#             chained to squid
# The servers that Debian's packages may start on their own (ports 80, 443, 3128, 8888) are
# neither used nor touched. Every daemon the script started is stopped on exit, failure included.
#
# Each origin: both engines over HTTP and HTTPS (netget gets only the root CA, so the server
# must send the intermediate), -x 4, and -c from a truncated .part (it must resume, not start
# over). Then: a 401 without and with -u (nginx, apache2); gzip from nginx and zstd from caddy
# with --compressed; plain HTTP through each proxy to ORIGIN_NAME (--proxy, and http_proxy from
# the environment); HTTPS to ORIGIN_NAME through a CONNECT tunnel with -x 4; and the controls
# that show the proxy is what makes it work (direct, --noproxy '*' and --proxy '' fail).
#
# Output: one line per case, `PASS|FAIL|KNOWN server case detail`, then a total line. Exit
# status 1 if any case failed or any server did not start (that is a failure, never a skip).
#
# INTEROP_KNOWN_FAILURES: a space-separated list of "server/case" names (as printed, e.g.
# "h2o/https-loop") whose failure is a known, reported bug: such a case still runs, and a failure
# prints KNOWN and does not fail the run; if it passes, the line says it can leave the list.
# Empty by default: no case is known to fail.
set -u -o pipefail
umask 022

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONFIGS=$ROOT/scripts/interop
NETGET=${NETGET:-$ROOT/.build/debug/netget}
INTEROP_KNOWN_FAILURES=${INTEROP_KNOWN_FAILURES:-}
ORIGIN_NAME=origin.interop.test
# The Makefile passes its INTEROP_APT_PACKAGES; run alone, the script installs the same list.
PACKAGES=${INTEROP_PACKAGES:-nginx apache2 lighttpd lighttpd-mod-openssl h2o caddy haproxy squid tinyproxy openssl}
DATA_MIB=8

# Proxies from the caller's environment must not steer the direct cases.
unset http_proxy https_proxy all_proxy no_proxy HTTPS_PROXY ALL_PROXY NO_PROXY HTTP_PROXY

passed=0 failed=0 known=0
declare -A PIDS=()      # server -> pid of the foreground daemon
declare -A PORTS=()     # e.g. PORTS[nginx.http], PORTS[nginx.tls], PORTS[squid.proxy]
declare -A STARTED=()   # server -> 1 once it listens

report() {  # report PASS|FAIL SERVER CASE DETAIL
    local verdict=$1 server=$2 name=$3 detail=$4
    if [ "$verdict" = FAIL ] && [[ " $INTEROP_KNOWN_FAILURES " == *" $server/$name "* ]]; then
        verdict=KNOWN
        detail="$detail (in INTEROP_KNOWN_FAILURES)"
    elif [ "$verdict" = PASS ] && [[ " $INTEROP_KNOWN_FAILURES " == *" $server/$name "* ]]; then
        detail="$detail (passes: take $server/$name out of INTEROP_KNOWN_FAILURES)"
    fi
    case $verdict in
        PASS) passed=$((passed + 1)) ;;
        KNOWN) known=$((known + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
    printf '%-5s %-9s %-22s %s\n' "$verdict" "$server" "$name" "$detail"
}

die() { echo "interop: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Setup: packages, run directory, ports, data, certificates.

install_missing() {
    local missing="" package sudo=""
    for package in $PACKAGES; do dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"; done
    [ -z "$missing" ] && return 0
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "interop: installing$missing"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null ||
        die "apt-get install$missing failed"
}

# A loopback port nothing listens on, from a range that moves with the pid (others may run
# the script at the same time), into PORT; ports handed out in this run are never handed out
# again. (Not $(...): the counter must survive the call.)
next_port=$((18000 + ($$ % 500) * 20))
free_port() {
    while :; do
        PORT=$next_port
        next_port=$((next_port + 1))
        [ "$next_port" -gt 29999 ] && next_port=18000
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || return 0   # refused: nothing listens
    done
}

# Fills in a template: every @NAME@ for which a variable SUBST_NAME is set (values may hold
# newlines and any character, so no sed).
render() {  # render TEMPLATE OUTPUT
    local text name
    text=$(<"$1") || return 1
    for name in ${!SUBST_@}; do text=${text//"@${name#SUBST_}@"/"${!name}"}; done
    if [[ $text =~ @[A-Z_]+@ ]]; then
        START_WHY="$1: no value for ${BASH_REMATCH[0]}"
        return 1
    fi
    printf '%s\n' "$text" >"$2"
}

make_ca() {
    local dir=$WORK/tls
    mkdir -p "$dir"
    cd "$dir" || return 1
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${ec[@]}" -keyout root.key -out root.pem -days 2 -subj "/CN=StacklessNet interop root CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null &&
    openssl req "${ec[@]}" -keyout intermediate.key -out intermediate.csr -subj "/CN=StacklessNet interop intermediate CA" \
        2>/dev/null &&
    printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign" \
        "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >intermediate.ext &&
    openssl x509 -req -in intermediate.csr -CA root.pem -CAkey root.key -CAcreateserial -days 2 \
        -extfile intermediate.ext -out intermediate.pem 2>/dev/null &&
    openssl req "${ec[@]}" -keyout leaf.key -out leaf.csr -subj "/CN=127.0.0.1" 2>/dev/null &&
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:$ORIGIN_NAME" \
        "authorityKeyIdentifier=keyid" >leaf.ext &&
    openssl x509 -req -in leaf.csr -CA intermediate.pem -CAkey intermediate.key -CAcreateserial -days 2 \
        -extfile leaf.ext -out leaf.pem 2>/dev/null &&
    cat leaf.pem intermediate.pem >chain.pem &&
    cat chain.pem leaf.key >haproxy.pem &&
    openssl verify -CAfile root.pem -untrusted intermediate.pem leaf.pem >/dev/null &&
    ! openssl verify -CAfile root.pem leaf.pem >/dev/null 2>&1 &&   # the leaf alone does not verify
    printf 'alice:%s\n' "$(openssl passwd -apr1 's3cr%t')" >htpasswd &&
    chmod 644 ./*.key ./*.pem htpasswd   # daemons that drop to nobody read them
    local rc=$?
    cd "$ROOT" || return 1
    return $rc
}

make_data() {
    mkdir -p "$WWW/private"
    head -c $((DATA_MIB << 20)) /dev/urandom >"$WWW/data.bin"
    seq 1 700000 | sed 's/$/ interop line, compressible/' >"$WWW/text.txt"   # about 24 MiB -> ~3 MiB coded
    head -c $((2 << 20)) /dev/urandom >"$WWW/private/secret.bin"
    DATA_SHA=$(sha256sum "$WWW/data.bin" | cut -d' ' -f1)
    DATA_SIZE=$(stat -c %s "$WWW/data.bin")
    TEXT_SHA=$(sha256sum "$WWW/text.txt" | cut -d' ' -f1)
    TEXT_SIZE=$(stat -c %s "$WWW/text.txt")
    SECRET_SHA=$(sha256sum "$WWW/private/secret.bin" | cut -d' ' -f1)
}

# ---------------------------------------------------------------------------------------------
# Daemons: one start function per server, one generic launcher, one cleanup.

# launch SERVER PORT COMMAND...: starts COMMAND in the background (its output in the server's
# run directory), then waits up to 10 s for PORT to accept while the process lives; else sets
# START_WHY and fails.
launch() {
    local server=$1 port=$2
    shift 2
    "$@" >"$WORK/$server/stdout.log" 2>&1 9>&- &
    PIDS[$server]=$!
    local tries
    for tries in $(seq 100); do
        kill -0 "${PIDS[$server]}" 2>/dev/null || break
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            STARTED[$server]=1
            return 0
        fi
        sleep 0.1
    done
    START_WHY="did not listen on 127.0.0.1:$port within 10 s"
    kill -0 "${PIDS[$server]}" 2>/dev/null || START_WHY="exited before listening on 127.0.0.1:$port"
    local log
    log=$(cat "$WORK/$server"/*.log 2>/dev/null | grep -v '^$' | tail -n 3 | tr '\n' ' ' | cut -c1-300)
    START_WHY="$START_WHY: $log"
    return 1
}

# prepare SERVER TEMPLATE OUTPUT [PORTNAMES...]: the server's run directory, its ports
# (PORTS[SERVER.name] and SUBST_NAME_PORT), and its config from the template.
prepare() {
    local server=$1 template=$2 output=$3
    shift 3
    mkdir -p "$WORK/$server"
    chmod 777 "$WORK/$server"   # daemons that drop to nobody/proxy write their logs here
    SUBST_RUN=$WORK/$server
    local name
    for name in "$@"; do
        free_port
        PORTS[$server.$name]=$PORT
        printf -v "SUBST_${name^^}_PORT" '%s' "${PORTS[$server.$name]}"
    done
    render "$CONFIGS/$template" "$WORK/$server/$output"
}

as_root() { [ "$(id -u)" = 0 ] && printf '%s' "$1"; }

start_nginx() {
    SUBST_NGINX_USER=$(as_root "user nobody nogroup;")
    prepare nginx nginx.conf nginx.conf http tls || return 1
    launch nginx "${PORTS[nginx.http]}" /usr/sbin/nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf"
}

start_apache2() {
    SUBST_APACHE_USER=$(as_root $'User www-data\nGroup www-data')
    prepare apache2 apache2.conf apache2.conf http tls || return 1
    launch apache2 "${PORTS[apache2.http]}" /usr/sbin/apache2 -f "$WORK/apache2/apache2.conf" -D FOREGROUND
}

start_lighttpd() {
    SUBST_LIGHTTPD_USER=$(as_root $'server.username = "nobody"\nserver.groupname = "nogroup"')
    prepare lighttpd lighttpd.conf lighttpd.conf http tls || return 1
    launch lighttpd "${PORTS[lighttpd.http]}" /usr/sbin/lighttpd -D -f "$WORK/lighttpd/lighttpd.conf"
}

start_h2o() {
    SUBST_H2O_USER=$(as_root "user: nobody")
    prepare h2o h2o.conf h2o.conf http tls || return 1
    launch h2o "${PORTS[h2o.http]}" /usr/bin/h2o -c "$WORK/h2o/h2o.conf"
}

start_caddy() {
    prepare caddy Caddyfile Caddyfile http tls || return 1
    # caddy keeps state under $HOME and $XDG_*: all of it in the run directory.
    launch caddy "${PORTS[caddy.http]}" env HOME="$WORK/caddy" XDG_DATA_HOME="$WORK/caddy/data" \
        XDG_CONFIG_HOME="$WORK/caddy/config" /usr/bin/caddy run --config "$WORK/caddy/Caddyfile" --adapter caddyfile
}

start_haproxy() {
    [ -n "${STARTED[nginx]:-}" ] || { START_WHY="its origin (nginx) did not start"; return 1; }
    SUBST_ORIGIN_PORT=${PORTS[nginx.http]}
    prepare haproxy haproxy.cfg haproxy.cfg http tls || return 1
    launch haproxy "${PORTS[haproxy.http]}" /usr/sbin/haproxy -db -f "$WORK/haproxy/haproxy.cfg"
}

start_squid() {
    SUBST_ORIGIN_NAME=$ORIGIN_NAME
    SUBST_SQUID_USER=$(as_root "cache_effective_user proxy")
    prepare squid squid.conf squid.conf proxy || return 1
    render "$CONFIGS/squid-hosts" "$WORK/squid/hosts"
    launch squid "${PORTS[squid.proxy]}" /usr/sbin/squid -N -f "$WORK/squid/squid.conf"
}

start_tinyproxy() {
    [ -n "${STARTED[squid]:-}" ] || { START_WHY="its upstream (squid) did not start"; return 1; }
    SUBST_UPSTREAM_PORT=${PORTS[squid.proxy]}
    SUBST_TINYPROXY_USER=$(as_root $'User nobody\nGroup nogroup')
    prepare tinyproxy tinyproxy.conf tinyproxy.conf proxy || return 1
    launch tinyproxy "${PORTS[tinyproxy.proxy]}" /usr/bin/tinyproxy -d -c "$WORK/tinyproxy/tinyproxy.conf"
}

cleanup() {
    local server pid
    for server in "${!PIDS[@]}"; do
        pid=${PIDS[$server]}
        kill -TERM "$pid" 2>/dev/null
    done
    for server in "${!PIDS[@]}"; do
        pid=${PIDS[$server]}
        # A daemon that is still busy with a client after 5 s is killed.
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ -n "${INTEROP_KEEP:-}" ]; then
        echo "interop: run directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}

# ---------------------------------------------------------------------------------------------
# Cases: one runner. Each runs netget with --json -q, its stdout, stderr and status kept for the
# checks, in a directory of its own.

# fetch SERVER CASE COMMAND...: runs COMMAND (netget, maybe behind `env VAR=...`) in a fresh
# directory; sets OUT (the file netget writes: out.bin), JSON, ERR, RC.
fetch() {
    CASE_DIR=$WORK/cases/$1-$2
    mkdir -p "$CASE_DIR"
    shift 2
    OUT=$CASE_DIR/out.bin
    (cd "$CASE_DIR" && timeout 60 "$@" --json -q -o out.bin >stdout 2>stderr)
    RC=$?
    JSON=$(cat "$CASE_DIR/stdout")
    ERR=$(grep -v '^netcore watchdog' "$CASE_DIR/stderr" | tr '\n' ' ' | cut -c1-240)
    [ "$RC" = 124 ] && ERR="killed after 60 s. $ERR"
}

json_field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$JSON" | tr -d '"'; }

# expect_file SERVER CASE SHA: the case passed if netget succeeded and the file has SHA.
expect_file() {
    local server=$1 name=$2 want=$3 got
    if [ "$RC" != 0 ]; then
        report FAIL "$server" "$name" "exit $RC: $ERR"
        return 1
    fi
    got=$(sha256sum "$OUT" 2>/dev/null | cut -d' ' -f1)
    if [ "$got" != "$want" ]; then
        report FAIL "$server" "$name" "sha256 ${got:-missing} != $want"
        return 1
    fi
    [ -z "${SKIP_PASS:-}" ] && report PASS "$server" "$name" "$(stat -c %s "$OUT") bytes, sha256 ok${EXTRA:+, $EXTRA}"
    return 0
}

# expect_failure SERVER CASE TEXT: the case passed if netget failed, said TEXT, and left no file.
expect_failure() {
    local server=$1 name=$2 text=$3
    if [ "$RC" = 0 ]; then
        report FAIL "$server" "$name" "netget succeeded, expected a failure with '$text'"
    elif [ -e "$OUT" ]; then
        report FAIL "$server" "$name" "exit $RC but out.bin exists"
    elif ! grep -qi -- "$text" <<<"$ERR$JSON"; then
        report FAIL "$server" "$name" "exit $RC without '$text': $ERR"
    else
        report PASS "$server" "$name" "exit $RC: $(sed 's/^netget: //' <<<"$ERR" | cut -c1-120)"
    fi
}

download() {  # download SERVER CASE SHA NETGET-ARGS...
    local server=$1 name=$2 sha=$3
    shift 3
    fetch "$server" "$name" "$NETGET" --retries 0 "$@"
    expect_file "$server" "$name" "$sha"
}

# resume SERVER CASE NETGET-ARGS...: a .part with the first half of data.bin, then -c: the file
# must be right and netget must have resumed (resumed-from in its JSON), not started over.
resume() {
    local server=$1 name=$2
    shift 2
    CASE_DIR=$WORK/cases/$server-$name
    mkdir -p "$CASE_DIR"
    head -c $((DATA_SIZE / 2)) "$WWW/data.bin" >"$CASE_DIR/out.bin.part"
    fetch "$server" "$name" "$NETGET" --retries 0 -c "$@"
    local from
    from=$(json_field resumed-from)
    if [ "$RC" = 0 ] && { [ -z "$from" ] || [ "$from" -le 0 ] || [ "$from" -gt $((DATA_SIZE / 2)) ]; }; then
        report FAIL "$server" "$name" "did not resume from the .part of $((DATA_SIZE / 2)) bytes: resumed-from=${from:-none}"
        return 1
    fi
    EXTRA="resumed from $from of $((DATA_SIZE / 2))" expect_file "$server" "$name" "$DATA_SHA"
}

# The cases every origin gets.
origin_cases() {  # origin_cases SERVER
    local server=$1 http="http://127.0.0.1:${PORTS[$1.http]}" https="https://127.0.0.1:${PORTS[$1.tls]}"
    local tls=(--cacert "$WORK/tls/root.pem")
    download "$server" http-loop "$DATA_SHA" "$http/data.bin"
    download "$server" http-workers "$DATA_SHA" --engine workers "$http/data.bin"
    download "$server" https-loop "$DATA_SHA" "${tls[@]}" "$https/data.bin"
    download "$server" https-workers "$DATA_SHA" "${tls[@]}" --engine workers "$https/data.bin"
    download "$server" x4-https-loop "$DATA_SHA" "${tls[@]}" -x 4 "$https/data.bin"
    download "$server" x4-http-workers "$DATA_SHA" -x 4 --engine workers "$http/data.bin"
    resume "$server" resume-http-loop "$http/data.bin"
    resume "$server" resume-https-workers "${tls[@]}" --engine workers "$https/data.bin"
}

# tls_pin SERVER VERSION: the server refuses the other TLS version (so its cases used VERSION).
tls_pin() {
    local server=$1 version=$2 other
    [ "$version" = 1.2 ] && other=1.3 || other=1.2
    local port=${PORTS[$server.tls]}
    if ! openssl s_client -connect "127.0.0.1:$port" "-tls${version/./_}" </dev/null >/dev/null 2>&1; then
        report FAIL "$server" "tls-$version-only" "openssl s_client -tls${version/./_} failed"
    elif openssl s_client -connect "127.0.0.1:$port" "-tls${other/./_}" </dev/null >/dev/null 2>&1; then
        report FAIL "$server" "tls-$version-only" "TLS $other was accepted too"
    else
        report PASS "$server" "tls-$version-only" "TLS $version accepted, $other refused"
    fi
}

# unauthorized SERVER: /private/ answers 401 without credentials and opens with -u.
auth_cases() {
    local server=$1 url="http://127.0.0.1:${PORTS[$1.http]}/private/secret.bin"
    fetch "$server" 401-without-user "$NETGET" --retries 0 "$url"
    expect_failure "$server" 401-without-user 401
    fetch "$server" 401-wrong-user "$NETGET" --retries 0 -u alice:wrong "$url"
    expect_failure "$server" 401-wrong-user 401
    download "$server" 401-user-loop "$SECRET_SHA" -u 'alice:s3cr%t' "$url"
    download "$server" 401-user-workers "$SECRET_SHA" --engine workers -x 4 -u 'alice:s3cr%t' "$url"
}

# compressed SERVER CASE CODING LOGPATTERN NETGET-ARGS...: --compressed decodes text.txt to its
# bytes, and the server's access log shows (LOGPATTERN, grep -E) that it sent CODING.
compressed() {
    local server=$1 name=$2 coding=$3 pattern=$4
    shift 4
    fetch "$server" "$name" "$NETGET" --retries 0 --compressed "$@"
    SKIP_PASS=1 expect_file "$server" "$name" "$TEXT_SHA" || return 1
    if ! grep -qE -- "$pattern" "$WORK/$server/access.log"; then
        report FAIL "$server" "$name" "decoded right, but the access log shows no $coding: was it coded?"
        return 1
    fi
    report PASS "$server" "$name" "$TEXT_SIZE bytes decoded from $coding, sha256 ok"
}

proxy_cases() {
    local squid="http://127.0.0.1:${PORTS[squid.proxy]}" tiny="http://127.0.0.1:${PORTS[tinyproxy.proxy]}"
    local origin="http://$ORIGIN_NAME:${PORTS[nginx.http]}/data.bin"
    local secure="https://$ORIGIN_NAME:${PORTS[nginx.tls]}/data.bin"
    local tls=(--cacert "$WORK/tls/root.pem")
    # Controls: the name resolves through the proxies only.
    fetch direct no-proxy "$NETGET" --retries 0 --connect-timeout 5 "$origin"
    expect_failure direct no-proxy "$ORIGIN_NAME"
    if [ -n "${STARTED[squid]:-}" ]; then
        download squid http-loop "$DATA_SHA" --proxy "$squid" "$origin"
        download squid http-workers-x4 "$DATA_SHA" --proxy "$squid" --engine workers -x 4 "$origin"
        download squid connect-x4-loop "$DATA_SHA" --proxy "$squid" "${tls[@]}" -x 4 "$secure"
        download squid connect-x4-workers "$DATA_SHA" --proxy "$squid" "${tls[@]}" --engine workers -x 4 "$secure"
        fetch squid env-http_proxy "env" "http_proxy=$squid" "$NETGET" --retries 0 "$origin"
        expect_file squid env-http_proxy "$DATA_SHA"
        fetch squid env-https_proxy "env" "https_proxy=$squid" "$NETGET" --retries 0 "${tls[@]}" -x 4 "$secure"
        expect_file squid env-https_proxy "$DATA_SHA"
        fetch squid env-noproxy-star env "http_proxy=$squid" "$NETGET" --retries 0 --noproxy '*' "$origin"
        expect_failure squid env-noproxy-star "$ORIGIN_NAME"
        fetch squid env-no_proxy env "http_proxy=$squid" "no_proxy=.interop.test" "$NETGET" --retries 0 "$origin"
        expect_failure squid env-no_proxy "$ORIGIN_NAME"
        fetch squid env-proxy-empty env "http_proxy=$squid" "$NETGET" --retries 0 --proxy '' "$origin"
        expect_failure squid env-proxy-empty "$ORIGIN_NAME"
        if grep -q "$ORIGIN_NAME" "$WORK/squid/access.log"; then
            report PASS squid access-log "the requests for $ORIGIN_NAME are in squid's log"
        else
            report FAIL squid access-log "no request for $ORIGIN_NAME in squid's access log"
        fi
    fi
    if [ -n "${STARTED[tinyproxy]:-}" ]; then
        fetch tinyproxy env-http_proxy env "http_proxy=$tiny" "$NETGET" --retries 0 "$origin"
        expect_file tinyproxy env-http_proxy "$DATA_SHA"
        download tinyproxy http-workers-x4 "$DATA_SHA" --proxy "$tiny" --engine workers -x 4 "$origin"
        download tinyproxy connect-x4-loop "$DATA_SHA" --proxy "$tiny" "${tls[@]}" -x 4 "$secure"
    fi
}

# ---------------------------------------------------------------------------------------------

[ -x "$NETGET" ] || die "no netget at $NETGET: build it first (swift build --product netget)"
install_missing
WORK=$(mktemp -d /tmp/stacklessnet-interop.XXXXXX) || die "mktemp failed"
chmod 755 "$WORK"
trap cleanup EXIT
trap 'exit 130' INT TERM
WWW=$WORK/www
SUBST_WWW=$WWW
SUBST_TLS=$WORK/tls
started_at=$(date +%s)
make_ca || die "making the private CA failed (openssl)"
make_data

# A server that does not start is a failed case (with its log's last lines), never a skip.
for server in nginx apache2 lighttpd h2o caddy haproxy squid tinyproxy; do
    START_WHY="its config could not be written"
    "start_$server" || report FAIL "$server" start "$START_WHY"
done

for server in nginx apache2 lighttpd h2o caddy haproxy; do
    [ -n "${STARTED[$server]:-}" ] && origin_cases "$server"
done
[ -n "${STARTED[nginx]:-}" ] && tls_pin nginx 1.3
[ -n "${STARTED[apache2]:-}" ] && tls_pin apache2 1.2
[ -n "${STARTED[haproxy]:-}" ] && tls_pin haproxy 1.2
for server in nginx apache2; do
    [ -n "${STARTED[$server]:-}" ] && auth_cases "$server"
done
if [ -n "${STARTED[nginx]:-}" ]; then   # verification is on: without the root CA, no download
    fetch nginx https-untrusted "$NETGET" --retries 0 "https://127.0.0.1:${PORTS[nginx.tls]}/data.bin"
    expect_failure nginx https-untrusted certificate
fi
[ -n "${STARTED[nginx]:-}" ] && compressed nginx gzip gzip 'text.txt.* ce="gzip"' "http://127.0.0.1:${PORTS[nginx.http]}/text.txt"
[ -n "${STARTED[caddy]:-}" ] && compressed caddy zstd zstd '"Content-Encoding":\["zstd"\]' --engine workers "https://127.0.0.1:${PORTS[caddy.tls]}/text.txt" \
    --cacert "$WORK/tls/root.pem"
[ -n "${STARTED[caddy]:-}" ] && compressed caddy gzip gzip '"Content-Encoding":\["gzip"\]' -H 'Accept-Encoding: gzip' \
    "http://127.0.0.1:${PORTS[caddy.http]}/text.txt"
[ -n "${STARTED[nginx]:-}" ] && proxy_cases

total=$((passed + failed + known))
echo "total: $total cases, $passed passed, $failed failed, $known known failures ($(($(date +%s) - started_at)) s)"
[ "$failed" = 0 ]
