#!/usr/bin/env bash
# Differential fuzzing of the HTTP/1.1 response path for SECONDS (default 60): each input is
# parsed whole, byte by byte, at seeded random splits, and with body bytes read directly and
# through ResponseDecoder as the engines do; all must agree (Fuzz/ResponsePathFuzzer.swift states
# the invariant). The same as `scripts/fuzz.sh response-path SECONDS`.
#   scripts/fuzz-response-path.sh 600
exec "$(dirname "$0")/fuzz.sh" response-path "${1:-60}"
