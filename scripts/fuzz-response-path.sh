#!/usr/bin/env bash
# Differential fuzzing of the HTTP/1.1 response path with libFuzzer and AddressSanitizer for
# SECONDS (default 60): each input is parsed whole, byte by byte, at seeded random splits, and
# with body bytes read directly and through ResponseDecoder as the engines do; all must agree (Fuzz/ResponsePathFuzzer.swift
# states the invariant). Starts from Fuzz/response-path-corpus and Fuzz/corpus, prints
# libFuzzer's final lines (or the disagreement and the saved input), exits non-zero on a crash.
#   scripts/fuzz-response-path.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
OUT=.build-fuzz
mkdir -p "$OUT/corpus-response-path"
# The linker warns about every ASan helper symbol; the log keeps them out of the summary.
if ! swiftc -O -parse-as-library -sanitize=fuzzer,address -module-name FuzzResponsePath \
    Sources/HTTPClient/HTTPResponseParser.swift Sources/HTTPClient/HTTPHeaders.swift \
    Sources/HTTPClient/HTTPParseError.swift Sources/HTTPClient/ResponseDecoder.swift Fuzz/ResponsePathFuzzer.swift -o "$OUT/fuzz-response-path" >"$OUT/response-path-build.log" 2>&1; then
    grep -v "Cannot export local symbol" "$OUT/response-path-build.log" >&2
    exit 1
fi
# The Swift runtime's backtracer and ASan's handler fight over a crash (it hung here): ASan reports.
status=0
SWIFT_BACKTRACE=enable=no "$OUT/fuzz-response-path" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -rss_limit_mb=2048 \
    -dict=Fuzz/response-path.dict -artifact_prefix="$OUT/response-path-" "$OUT/corpus-response-path" Fuzz/response-path-corpus Fuzz/corpus \
    >"$OUT/response-path-run.log" 2>&1 || status=$?
grep -aE '^#[0-9]+[[:space:]]+DONE|^Done|response path fuzzer:|  (whole|bytewise|split|direct|decoder):|ERROR|SUMMARY|Test unit written|Base64' \
    "$OUT/response-path-run.log" || true
exit "$status"
