# Porcelain over CMake. The real build is CMakeLists.txt; tests are registered with CTest.
BUILD   ?= build
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

SAN_BUILD ?= build-asan
FUZZ_SECONDS ?= 20
# make install PREFIX=/usr DESTDIR=/tmp/pkg: see docs/systemd.md "make install".
PREFIX  ?= /usr/local
DESTDIR ?=
PROGRAMS = oauth-connect oauth-callback oauth-profile oauth-logout oauth-check oauth-api oauth-fetch

.PHONY: all deps configure build test test-quick test-unit test-sanitize fuzz demo demo-stop install uninstall clean format format-check

all: build

deps:
	@scripts/install-deps

# The build folder is never a make target: its path may hold spaces, which make cannot.
configure:
	@[ -f "$(BUILD)/CMakeCache.txt" ] || cmake -S . -B "$(BUILD)" $(CMAKE_FLAGS)

build: configure
	cmake --build "$(BUILD)" -j $(JOBS)

# Everything: installs what is missing, builds, runs every test (unit and integration),
# then the same under ASan + UBSan with the fuzz targets (test-sanitize).
test: deps
	@$(MAKE) --no-print-directory build
	cd "$(BUILD)" && ctest --output-on-failure -j $(JOBS) --timeout 600
	@$(MAKE) --no-print-directory test-sanitize

# For development: the build and the unit tests only.
test-quick: build
	cd "$(BUILD)" && ctest --output-on-failure -j $(JOBS) -L unit
test-unit: test-quick

# A clang build with AddressSanitizer + UndefinedBehaviorSanitizer (and leak checks)
# of the library, the programs and the tests; runs the unit and integration suites
# and fuzzes each target for FUZZ_SECONDS. Any sanitizer report fails it.
# log_path is quoted twice: for the shell, and for the sanitizers' own option parser
# (a checkout's path may hold spaces).
test-sanitize:
	CC=clang CXX=clang++ cmake -S . -B "$(SAN_BUILD)" -DOAUTHFCGI_SANITIZE=ON -DFUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	cmake --build "$(SAN_BUILD)" -j $(JOBS)
	rm -rf "$(SAN_BUILD)/sanitizer-logs" && mkdir -p "$(SAN_BUILD)/sanitizer-logs"
	cd "$(SAN_BUILD)" && ASAN_OPTIONS="log_path='$(CURDIR)/$(SAN_BUILD)/sanitizer-logs/asan':detect_leaks=1" \
	  UBSAN_OPTIONS="log_path='$(CURDIR)/$(SAN_BUILD)/sanitizer-logs/ubsan':print_stacktrace=1" \
	  ctest --output-on-failure -j $(JOBS) --timeout 1200
	@if [ -n "$$(ls -A "$(SAN_BUILD)/sanitizer-logs")" ]; then \
	  echo "sanitizer reports:"; cat "$(SAN_BUILD)/sanitizer-logs/"*; exit 1; fi
	@echo "sanitizers: no reports"

# Ten minutes per fuzz target (make fuzz FUZZ_SECONDS=60 for less).
fuzz: FUZZ_SECONDS = 600
fuzz:
	CC=clang CXX=clang++ cmake -S . -B "$(SAN_BUILD)" -DOAUTHFCGI_SANITIZE=ON -DFUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	cmake --build "$(SAN_BUILD)" -j $(JOBS)
	cd "$(SAN_BUILD)" && ctest --output-on-failure -L fuzz --timeout 0

# Starts Redis, the dev provider, the programs and nginx (DEMO_PORT, default 8080), walks a login.
demo:
	@BUILD="$(BUILD)" scripts/demo

demo-stop:
	@scripts/demo-stop

# Load test on loopback (wrk): the programs behind nginx against nginx alone, the seeds'
# Flask app and mod_auth_openidc; writes bench/results.md, bench/chart.png and the table
# in docs/benchmarks.md. Its own Release build in build-bench (make bench BUILD=dir for another).
.PHONY: bench
bench:
	@BUILD="$(if $(filter command line,$(origin BUILD)),$(BUILD),build-bench)" BENCH_COMMAND="make bench" scripts/bench

# Builds the five programs only, then installs them, the config example, the nginx and
# Apache snippets and the systemd units (with PREFIX filled in) under $(DESTDIR).
install: configure
	cmake --build "$(BUILD)" -j $(JOBS) --target $(PROGRAMS)
	DESTDIR="$(DESTDIR)" cmake --install "$(BUILD)" --prefix "$(PREFIX)"

# Removes what the last make install wrote (listed, without DESTDIR, in
# $(BUILD)/install_manifest.txt); give the same DESTDIR. Folders stay.
uninstall:
	@if [ -f "$(BUILD)/install_manifest.txt" ]; then \
	  while IFS= read -r f || [ -n "$$f" ]; do \
	    if [ -e "$(DESTDIR)$$f" ] || [ -L "$(DESTDIR)$$f" ]; then rm -f -- "$(DESTDIR)$$f" && echo "removed $(DESTDIR)$$f"; fi; \
	  done <"$(BUILD)/install_manifest.txt"; \
	  rm -f "$(BUILD)/install_manifest.txt"; \
	else echo "uninstall: nothing installed from $(BUILD)"; fi

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf "$(BUILD)" "$(SAN_BUILD)"
