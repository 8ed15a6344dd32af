# The two commands: `make demo` and `make test`. Both install what is missing first.
SWIFT ?= swift
APT_PACKAGES := libev-dev libssl-dev zlib1g-dev libbrotli-dev libzstd-dev
# The HTTP client's integration tests run against nginx (an independent peer) when it is installed.
TEST_APT_PACKAGES := nginx tinyproxy microsocks haproxy
# The interop matrix's servers and proxies (scripts/interop.sh installs the same list when run alone).
INTEROP_APT_PACKAGES := nginx apache2 lighttpd lighttpd-mod-openssl h2o caddy haproxy squid tinyproxy openssl
# The anchors of `make bench-compare` (the Python ones come from PyPI into .build/bench-venv).
BENCH_APT_PACKAGES := nginx curl wget aria2 wrk iperf3 time python3-venv
# BENCH=quick (a few minutes once built) or full: the rounds of `make bench-compare`.
BENCH ?= full
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The ThreadSanitizer pass: concurrency suites at a size that fits CI's time.
TSAN_FILTER := StressTests|HappyEyeballsTests|ChannelTests|LoopTests|TimerTests|LockTests|CrossThreadCancellationTests|WorkerPoolTests|ResolverTests|WorkersEngineStressTests|LoopLimitsTests|ConnectionPoolBoundsTests|WorkerPoolPlacementTests|NetgetCrashResumeTests|NetgetGroupCommitTests|NetgetHostileCaseTests|ClientMetricsTests|RequestLoggingTests|AnyTaskCalls
TSAN_STRESS_VALUES ?= 20000
DEMO_MIB ?= 1024

.PHONY: all deps deps-test install-missing build lint format man docs doc-coverage test test-debug interop test-tsan soak-ci \
	fuzz-short fuzz-long demo bench bench-build bench-compare bench-readme bench-readme-check clean

all: build

## deps: install the Debian packages that are missing (apt-get update only when needed).
deps:
	@$(MAKE) --no-print-directory install-missing PACKAGES="$(APT_PACKAGES)"

deps-test:
	@$(MAKE) --no-print-directory install-missing PACKAGES="$(APT_PACKAGES) $(TEST_APT_PACKAGES)"

install-missing:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

## lint: swift-format (it ships with the toolchain) checks every Swift file against .swift-format;
## any finding fails. `make format` rewrites the files in place.
LINT_PATHS := Package.swift Sources Tests Examples Fuzz Benchmarks/Package.swift Benchmarks/Benchmarks Benchmarks/AHCBench/Package.swift \
	Benchmarks/AHCBench/Sources
lint:
	$(SWIFT) format lint --strict --parallel --recursive $(LINT_PATHS)

format:
	$(SWIFT) format --in-place --parallel --recursive $(LINT_PATHS)

## test: the lint, the documentation (make docs) and its coverage (make doc-coverage), every test,
## the interop matrix, the soak, a short fuzz of each decoder, and the concurrency suites again under
## ThreadSanitizer; the benchmark packages built (not run), and the README's performance table
## checked against the last bench report.
test: lint docs doc-coverage test-debug interop soak-ci fuzz-short test-tsan bench-build bench-readme-check

## docs: the DocC archives of every library module (swift-docc-plugin; each module's catalog is
## Sources/MODULE/MODULE.docc), failing on any warning DocC prints (a broken ``symbol`` link, a
## bad topic). `make doc-coverage` (in `make test`, after this) checks that every public symbol has a
## doc comment. The archives land in .build/plugins/Swift-DocC/outputs.
DOC_MODULES := NetCore Workers NetTLS HTTPClient ContentCoding GameNet HTTPTestServer
docs: deps
	@mkdir -p .build
	$(SWIFT) package generate-documentation $(foreach m,$(DOC_MODULES),--target $(m)) >.build/docs.log 2>&1; \
		status=$$?; cat .build/docs.log; exit $$status
	@if grep -q 'warning:' .build/docs.log; then \
		echo "make docs: DocC printed warnings (above; all in .build/docs.log)"; grep 'warning:' .build/docs.log; exit 1; fi

## doc-coverage: every public symbol of the library modules has a doc comment
## (scripts/doc-coverage.py over the symbol graphs; DOC_COVERAGE_MODULES=NetCore,GameNet for some).
## dump-symbol-graph builds the library modules in debug in .build, the build test-debug then
## reuses (it compiles only the test targets on top), so with that build current the step takes
## about 10 s (measured: 10.5 s, 6.3 s of it SwiftPM's build step finding nothing to compile).
DOC_COVERAGE_MODULES ?= $(subst $(eval) ,$(comma),$(DOC_MODULES))
comma := ,
doc-coverage: deps
	@# The graphs are made anew (a stale one would hide a change). dump-symbol-graph also tries the
	@# test-only modules (StacklessNetPackageTests) and fails on them when the tests are not built:
	@# its status is not the verdict; the checker's is, and it fails when a library's graph is missing.
	@mkdir -p .build
	rm -rf .build/*/symbolgraph
	-$(SWIFT) package dump-symbol-graph --minimum-access-level public >.build/symbolgraph.log 2>&1
	python3 scripts/doc-coverage.py --modules '$(DOC_COVERAGE_MODULES)'

test-debug: deps-test
	$(SWIFT) build --build-tests
	$(SWIFT) test

## interop: netget (the debug build test-debug made) against nginx, apache2, lighttpd, h2o, caddy,
## haproxy, squid and tinyproxy from Debian on loopback ports, every download checked with SHA-256
## (scripts/interop.sh; configs in scripts/interop/). A server that does not start fails it.
interop: deps
	@$(MAKE) --no-print-directory install-missing PACKAGES="$(INTEROP_APT_PACKAGES)"
	$(SWIFT) build --product netget
	INTEROP_PACKAGES="$(INTEROP_APT_PACKAGES)" NETGET=$(CURDIR)/.build/debug/netget scripts/interop.sh

test-tsan: deps
	TSAN_OPTIONS="suppressions=$(CURDIR)/.tsan-suppressions halt_on_error=1" \
	NETCORE_STRESS_VALUES=$(TSAN_STRESS_VALUES) $(SWIFT) test --scratch-path .build-tsan \
		--sanitize=thread --filter '$(TSAN_FILTER)'

## soak-ci: a 60-second soak with faults on, both engines, every byte verified (Examples/Soak;
## the debug build that test-debug made). The report lands in .build/soak-report.{json,html}.
soak-ci: test-debug
	.build/debug/soak --duration 60 --min-mib 8 --max-mib 32 \
		--json .build/soak-report.json --html .build/soak-report.html

## fuzz-short: a short libFuzzer run of every decoder of bytes from the network or the disk
## (scripts/fuzz.sh TARGET SECONDS; `make fuzz-long` runs each for 10 minutes).
FUZZ_TARGETS := parser response-path content-disposition file-name resume-meta netrc http-date url-list gamenet-packet \
	gamenet-reassembly gamenet-connect-token http-url request-head chunked-body content-range retry-after proxy-handshake
FUZZ_SECONDS ?= 15
fuzz-short: deps
	@for target in $(FUZZ_TARGETS); do echo "fuzz $$target, $(FUZZ_SECONDS) s"; scripts/fuzz.sh $$target $(FUZZ_SECONDS) || exit 1; done

fuzz-long: deps
	@for target in $(FUZZ_TARGETS); do echo "fuzz $$target, 600 s"; scripts/fuzz.sh $$target 600 || exit 1; done

## demo: netget downloads 1 GiB from the project's test server on 127.0.0.1 over 4 connections,
## with a progress bar, and verifies its SHA-256 (scripts/demo.sh).
demo: deps
	SWIFT=$(SWIFT) scripts/demo.sh $(DEMO_MIB)

## bench: the NetCore benchmarks (package-benchmark), in Benchmarks/.
bench: deps
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark

## bench-build: the benchmark packages built in debug and not run, so that they cannot rot (CI):
## Benchmarks/ (package-benchmark) and Benchmarks/AHCBench (AsyncHTTPClient, the HTTP anchor).
bench-build: deps
	cd Benchmarks && $(SWIFT) build
	cd Benchmarks/AHCBench && $(SWIFT) build

## bench-compare: every side-by-side comparison the issues name (scripts/bench-compare.sh), with its
## own nginx on loopback and the anchors installed when missing; BENCH=quick for a short run.
## Writes Benchmarks/report/bench-report.{json,html}; `make bench-readme` then updates the README.
bench-compare: deps
	@$(MAKE) --no-print-directory install-missing PACKAGES="$(BENCH_APT_PACKAGES)"
	BENCH=$(BENCH) SWIFT=$(SWIFT) scripts/bench-compare.sh

## bench-readme: the README's performance table, generated from the last report.
bench-readme:
	python3 scripts/bench-report.py readme-write Benchmarks/report/bench-report.json README.md

## bench-readme-check: fails when the README's performance table is not the last report's.
bench-readme-check:
	python3 scripts/bench-report.py readme-check Benchmarks/report/bench-report.json README.md

## man: docs/netget.1 from netget's own option definitions, by swift-argument-parser's generate-manual
## plugin (it runs `netget --experimental-dump-help`; works offline: the plugin comes with the dependency).
man: deps
	$(SWIFT) package generate-manual --configuration debug --authors StacklessNet
	mkdir -p docs && cp .build/plugins/GenerateManual/outputs/netget/netget.1 docs/netget.1

clean:
	rm -rf .build .build-tsan .build-fuzz Benchmarks/.build Benchmarks/AHCBench/.build
