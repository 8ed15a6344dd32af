#!/usr/bin/env bash
# Fuzzes the HTTP/1.1 response parser with libFuzzer and AddressSanitizer for SECONDS (default
# 60), starting from Fuzz/corpus-parser, and prints libFuzzer's summary. Exits non-zero on a
# crash. Kept for `make fuzz-short`; scripts/fuzz.sh runs every target.
#   scripts/fuzz-parser.sh 600
exec "$(dirname "$0")/fuzz.sh" parser "${1:-60}"
