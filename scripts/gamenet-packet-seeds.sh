#!/usr/bin/env bash
# Rewrites Fuzz/corpus-gamenet-packet from the real encoder (Fuzz/PacketSeeds/main.swift): run
# it after a change to GameNet's wire format, so the fuzzer starts from valid packets.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(mktemp -d /tmp/gamenet-seeds.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
swiftc -O -module-name PacketSeeds Sources/GameNet/Wire/*.swift Fuzz/PacketSeeds/main.swift -o "$OUT/seeds"
rm -f Fuzz/corpus-gamenet-packet/*
"$OUT/seeds" Fuzz/corpus-gamenet-packet
