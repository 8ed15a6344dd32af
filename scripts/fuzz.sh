#!/usr/bin/env bash
# Builds one libFuzzer target (with AddressSanitizer) from the few self-contained source files
# it needs, runs it for SECONDS (default 60) from its seeds in Fuzz/corpus-TARGET, keeps what
# it finds in .build-fuzz/TARGET/corpus (crash inputs in .build-fuzz/TARGET/), and prints
# libFuzzer's final summary. Exits non-zero on a crash, a leak, a timeout or a build error.
#   scripts/fuzz.sh parser 600
#   scripts/fuzz.sh response-path 600
#   scripts/fuzz.sh content-disposition 120
#   scripts/fuzz.sh file-name 120
#   scripts/fuzz.sh resume-meta 120
#   scripts/fuzz.sh netrc 120
#   scripts/fuzz.sh http-date 120
#   scripts/fuzz.sh url-list 120
#   scripts/fuzz.sh gamenet-packet 120
#   scripts/fuzz.sh gamenet-reassembly 120
#   scripts/fuzz.sh gamenet-connect-token 120
#   scripts/fuzz.sh http-url 120
#   scripts/fuzz.sh request-head 120
#   scripts/fuzz.sh chunked-body 120
#   scripts/fuzz.sh content-range 120
#   scripts/fuzz.sh retry-after 120
#   scripts/fuzz.sh proxy-handshake 120
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/fuzz.sh parser|response-path|content-disposition|file-name|resume-meta|netrc|http-date|url-list|gamenet-packet|gamenet-reassembly|gamenet-connect-token|http-url|request-head|chunked-body|content-range|retry-after|proxy-handshake [SECONDS]"
TARGET=${1:?$usage}
SECONDS_TO_RUN=${2:-60}
EXTRA=()
FLAGS=()
# Set for a target whose sources `import NetCore` for a self-contained file or two: the module
# NetCore is then built from those and Fuzz/Support/NetCoreStandIn.swift (see there).
NETCORE_SOURCES=()
case "$TARGET" in
    parser)
        MODULE=FuzzParser
        SOURCES=(Sources/HTTPClient/HTTPResponseParser.swift Sources/HTTPClient/HTTPHeaders.swift
                 Sources/HTTPClient/HTTPParseError.swift Sources/ContentCoding/*.swift Fuzz/ParserFuzzer.swift)
        FLAGS=(-I Sources/CZlib -I Sources/CBrotli -I Sources/CZstd)
        MAX_LEN=4096 ;;
    response-path)
        MODULE=FuzzResponsePath
        SOURCES=(Sources/HTTPClient/HTTPResponseParser.swift Sources/HTTPClient/HTTPHeaders.swift
                 Sources/HTTPClient/HTTPParseError.swift Sources/HTTPClient/ResponseDecoder.swift
                 Fuzz/ResponsePathFuzzer.swift)
        MAX_LEN=4096
        EXTRA=(-dict=Fuzz/response-path.dict) ;;
    content-disposition)
        MODULE=FuzzContentDisposition
        SOURCES=(Sources/HTTPClient/Download/ContentDisposition.swift Sources/HTTPClient/Download/DownloadFileName.swift
                 Fuzz/FileNameInvariants.swift Fuzz/ContentDispositionFuzzer.swift)
        MAX_LEN=4096
        EXTRA=(-dict=Fuzz/content-disposition.dict) ;;
    file-name)
        MODULE=FuzzFileName
        SOURCES=(Sources/HTTPClient/Download/DownloadFileName.swift Fuzz/FileNameInvariants.swift Fuzz/FileNameFuzzer.swift)
        MAX_LEN=2048 ;;
    resume-meta)
        MODULE=FuzzResumeMeta
        SOURCES=(Sources/netget/ResumeMeta.swift Fuzz/ResumeMetaFuzzer.swift)
        MAX_LEN=2048 ;;
    netrc)
        MODULE=FuzzNetrc
        SOURCES=(Sources/HTTPClient/Netrc.swift Fuzz/NetrcFuzzer.swift)
        MAX_LEN=2048 ;;
    http-date)
        MODULE=FuzzHTTPDate
        SOURCES=(Sources/HTTPClient/HTTPDate.swift Fuzz/HTTPDateFuzzer.swift)
        MAX_LEN=128 ;;
    url-list)
        MODULE=FuzzURLList
        # HTTPResponseParser.swift for the trimmingCharacters(in:) the list parser shares with it.
        SOURCES=(Sources/netget/URLList.swift Sources/netget/Checksum.swift Sources/HTTPClient/HTTPResponseParser.swift
                 Sources/HTTPClient/HTTPHeaders.swift Sources/HTTPClient/HTTPParseError.swift Fuzz/URLListFuzzer.swift)
        FLAGS=(-I Sources/COpenSSL -lcrypto)
        MAX_LEN=4096 ;;
    gamenet-packet)
        MODULE=FuzzGameNetPacket
        SOURCES=(Sources/GameNet/Wire/*.swift Fuzz/PacketFuzzer.swift)
        MAX_LEN=1400 ;;
    gamenet-reassembly)
        MODULE=FuzzGameNetReassembly
        SOURCES=(Sources/GameNet/Fragments/Reassembler.swift Fuzz/ReassemblyFuzzer.swift)
        MAX_LEN=4096 ;;
    gamenet-connect-token)
        MODULE=FuzzGameNetConnectToken
        SOURCES=(Sources/GameNet/Wire/*.swift Sources/GameNet/Crypto/ConnectToken.swift Sources/GameNet/Crypto/GameNetKey.swift
                 Fuzz/ConnectTokenFuzzer.swift)
        MAX_LEN=512 ;;
    http-url)
        MODULE=FuzzHTTPURL
        SOURCES=(Sources/HTTPClient/HTTPURL.swift Sources/HTTPClient/HTTPCredential.swift Fuzz/HTTPClientErrorStandIn.swift
                 Fuzz/HTTPURLFuzzer.swift)
        NETCORE_SOURCES=(Sources/NetCore/Base64.swift Fuzz/Support/NetCoreStandIn.swift)
        MAX_LEN=2048
        EXTRA=(-dict=Fuzz/http-url.dict) ;;
    request-head)
        MODULE=FuzzRequestHead
        SOURCES=(Sources/HTTPTestServer/RequestHead.swift Fuzz/RequestHeadFuzzer.swift)
        MAX_LEN=4096 ;;
    chunked-body)
        MODULE=FuzzChunkedBody
        SOURCES=(Sources/HTTPTestServer/ChunkedBodyDecoder.swift Fuzz/ChunkedBodyFuzzer.swift)
        MAX_LEN=4096 ;;
    content-range)
        MODULE=FuzzContentRange
        SOURCES=(Sources/HTTPClient/RangeTypes.swift Fuzz/HTTPClientErrorStandIn.swift Fuzz/ContentRangeFuzzer.swift)
        MAX_LEN=256 ;;
    retry-after)
        MODULE=FuzzRetryAfter
        SOURCES=(Sources/HTTPClient/RetryAfter.swift Sources/HTTPClient/HTTPDate.swift Sources/HTTPClient/HTTPResponseParser.swift
                 Sources/HTTPClient/HTTPHeaders.swift Sources/HTTPClient/HTTPParseError.swift Fuzz/RetryAfterFuzzer.swift)
        MAX_LEN=256 ;;
    proxy-handshake)
        MODULE=FuzzProxyHandshake
        SOURCES=(Sources/HTTPClient/Proxy/ProxyHandshake.swift Sources/HTTPClient/Proxy/HTTPProxy.swift
                 Sources/HTTPClient/Proxy/ProxyError.swift Sources/HTTPClient/HTTPURL.swift Sources/HTTPClient/HTTPCredential.swift
                 Sources/HTTPClient/HTTPResponseParser.swift Sources/HTTPClient/HTTPHeaders.swift Sources/HTTPClient/HTTPParseError.swift
                 Fuzz/HTTPClientErrorStandIn.swift Fuzz/Support/TrimmingTrailingSpace.swift Fuzz/ProxyHandshakeFuzzer.swift)
        NETCORE_SOURCES=(Sources/NetCore/Base64.swift Fuzz/Support/NetCoreStandIn.swift)
        MAX_LEN=1024 ;;
    *)
        echo "scripts/fuzz.sh: unknown target '$TARGET'" >&2
        echo "$usage" >&2
        exit 2 ;;
esac
OUT=.build-fuzz/$TARGET
SEEDS=Fuzz/corpus-$TARGET
mkdir -p "$OUT/corpus"
if [ ${#NETCORE_SOURCES[@]} -gt 0 ]; then
    mkdir -p "$OUT/netcore"
    if ! swiftc -O -parse-as-library -sanitize=fuzzer,address -package-name StacklessNet -module-name NetCore -wmo \
            -emit-module -emit-module-path "$OUT/netcore/NetCore.swiftmodule" -c "${NETCORE_SOURCES[@]}" \
            -o "$OUT/netcore/NetCore.o" >"$OUT/netcore-build.log" 2>&1; then
        cat "$OUT/netcore-build.log" >&2
        exit 1
    fi
    FLAGS+=(-I "$OUT/netcore" "$OUT/netcore/NetCore.o")
fi
# The linker warns about every ASan symbol it cannot export: keep that in a file, show it on failure.
if ! swiftc -O -parse-as-library -sanitize=fuzzer,address -package-name StacklessNet -module-name "$MODULE" "${FLAGS[@]}" "${SOURCES[@]}" \
        -o "$OUT/fuzz-$TARGET" >"$OUT/build.log" 2>&1; then
    grep -v "Cannot export local symbol" "$OUT/build.log" >&2
    exit 1
fi
LOG=$OUT/fuzz.log
status=0
# Swift's own backtracer reads the crashed process's memory in a way ASan reports as a second
# crash that hides the first: let libFuzzer and ASan report instead.
SWIFT_BACKTRACE=enable=no "$OUT/fuzz-$TARGET" -max_total_time="$SECONDS_TO_RUN" -max_len="$MAX_LEN" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 ${EXTRA[@]+"${EXTRA[@]}"} -artifact_prefix="$OUT/" "$OUT/corpus" "$SEEDS" >"$LOG" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    tail -n 60 "$LOG"
    echo "scripts/fuzz.sh: $TARGET failed (exit $status); the whole log is $LOG" >&2
    exit "$status"
fi
# The final summary: the DONE status line, the stats, and "Done N runs in S second(s)".
grep -E '^#[0-9]+[[:space:]]+DONE|^stat::|^Done [0-9]+ runs' "$LOG"
