# Sourced by scripts that need the project's test server: starts "$BIN/test-server" on a free
# port of 127.0.0.1, logs to "$OUT/server.log", and sets URL (http://127.0.0.1:PORT) and SERVER
# (its pid). A trap stops it and removes "$OUT" on exit. Needs BIN and OUT set.
start_test_server() {
    "$BIN/test-server" --port 0 > "$OUT/server.log" 2>&1 &
    SERVER=$!
    trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$OUT"' EXIT
    for _ in $(seq 100); do
        grep -q "listening on" "$OUT/server.log" 2>/dev/null && break
        sleep 0.05
    done
    URL=$(sed -n 's/^listening on //p' "$OUT/server.log")
    [ -n "$URL" ] || { echo "the test server did not start: $(cat "$OUT/server.log")" >&2; exit 1; }
}
