#!/usr/bin/env bash
# Fuzzes the HTTP/1.1 response parser with libFuzzer and AddressSanitizer for SECONDS (default
# 60), starting from Fuzz/corpus, and prints libFuzzer's summary. Exits non-zero on a crash.
#   scripts/fuzz-parser.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
OUT=.build-fuzz
mkdir -p "$OUT/corpus"
swiftc -O -parse-as-library -sanitize=fuzzer,address -module-name FuzzParser \
    Sources/HTTPClient/HTTPResponseParser.swift Sources/HTTPClient/HTTPHeaders.swift \
    Sources/HTTPClient/HTTPParseError.swift Fuzz/ParserFuzzer.swift -o "$OUT/fuzz-parser"
"$OUT/fuzz-parser" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -rss_limit_mb=2048 \
    -artifact_prefix="$OUT/" "$OUT/corpus" Fuzz/corpus 2>&1 | tail -n 12
