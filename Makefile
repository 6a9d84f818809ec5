# The front door. `make run` and `make test` install what is missing (Debian, as root),
# build with CMake, and run the demo or the whole test suite. `make run` installs and builds
# only what the demo needs (`deps`: the library and the CLI, no tests or benchmarks); every
# other target installs the rest too (`deps-test`). scripts/check-deps.sh checks the split.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSQLPOOL_WERROR=ON

.PHONY: all deps deps-test deps-check build run test test-list test-unit test-asan test-tsan test-valgrind test-install format \
        format-check bench clean

all: build

deps:
	@sh scripts/install-deps.sh run

deps-test:
	@sh scripts/install-deps.sh test

# `make run` asks for no test package, and its configure step passes without them.
deps-check:
	sh scripts/check-deps.sh

# Everything: the library, the CLI, the tests and the benchmarks (CMAKE_FLAGS may turn parts
# off: it comes last).
build: deps-test
	cmake -S . -B $(BUILD) -DSQLPOOL_TESTS=ON -DSQLPOOL_BENCH=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The demo: only the library and the CLI, so only the packages of `deps`.
run: deps
	cmake -S . -B $(BUILD) -DSQLPOOL_TESTS=OFF -DSQLPOOL_BENCH=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target sqlpool_cli
	./$(BUILD)/sqlpool run --input data/sample_input.txt --output data/output_summary.json

# The whole suite, PostgreSQL included (a throwaway cluster lives for the runs that need it),
# then a short run of each fuzz target.
test: build deps-check format-check lint docs man-check test-list
	sh scripts/with-pg.sh $(MAKE) --no-print-directory test-unit test-asan test-tsan \
	    test-valgrind test-install
	$(MAKE) --no-print-directory fuzz-smoke

# The test list's checks (tests/testlist.cmake) fail where they should, on a fixture.
test-list: deps-test
	sh scripts/check-test-list.sh

test-unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps-test
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSQLPOOL_WERROR=ON \
	      -DSQLPOOL_SANITIZE=address,undefined -DSQLPOOL_BENCH=OFF >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# The concurrency-heavy tests again under ThreadSanitizer (clang's), the CLI's multi-threaded
# bench and its metrics server included (the tests run the TSan-built CLI).
TSAN_LABELS = pool|release|concurrency|slots|maintain|stmt|pg|bench|benchpg|metrics|resize|hooks|fork|nested|single_writer|async|pgasync|group_commit
test-tsan: deps-test
	CC=clang cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSQLPOOL_WERROR=ON \
	      -DSQLPOOL_SANITIZE=thread -DSQLPOOL_BENCH=OFF >/dev/null
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	    ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) -L '$(TSAN_LABELS)'

# Install into a temporary prefix and build and run examples/ against it, through pkg-config
# and through find_package(sqlpool); the PostgreSQL example needs scripts/with-pg.sh.
test-install: build
	sh scripts/test-install.sh $(BUILD)

# Memcheck over `sqlpool run` and the unit test programs: zero errors, zero leaks.
test-valgrind: build
	sh scripts/valgrind-tests.sh $(BUILD)

# Every C file of the project (git's list when there is one, else the tree's).
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null | grep . || \
                 find include src cli tests bench -name '*.[ch]' 2>/dev/null)

format: deps-test
	clang-format -i $(FORMAT_FILES)

format-check: deps-test
	@test -n "$(FORMAT_FILES)" || { echo "format-check: no C files found" >&2; exit 1; }
	clang-format --dry-run -Werror $(FORMAT_FILES)

# Figures for the README (minutes; never part of make test).
bench: build
	bash bench/run.sh $(BUILD)
	sh bench/run_pg.sh $(BUILD)
	$(BUILD)/bench/bench_async
	sh scripts/with-pg.sh $(BUILD)/bench/bench_async --no-sqlite

# libFuzzer targets (clang): each runs for FUZZ_SECONDS (fuzz-smoke: FUZZ_SMOKE_SECONDS) on a
# temporary copy of its seed corpus in fuzz/corpus/; see fuzz/run.sh.
FUZZ_BUILD         ?= build-fuzz
FUZZ_SECONDS       ?= 300
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_CONFIGURE = CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
                 -DSQLPOOL_WERROR=ON -DSQLPOOL_FUZZ=ON -DSQLPOOL_TESTS=OFF -DSQLPOOL_BENCH=OFF \
                 -DSQLPOOL_SANITIZE=fuzzer-no-link,address,undefined >/dev/null && \
                 cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_labels fuzz_dsn fuzz_options
.PHONY: fuzz fuzz-smoke

fuzz: deps-test
	$(FUZZ_CONFIGURE)
	sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-smoke: deps-test
	$(FUZZ_CONFIGURE)
	FUZZ_SEED=$${FUZZ_SEED:-1} sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS)

# clang-tidy (.clang-tidy: bugprone-*, clang-analyzer-*, cert-err33-c) through the compile
# database of $(LINT_BUILD), and cppcheck, over the library and the CLI; any finding fails.
LINT_BUILD ?= build-lint
LINT_FILES  = $(wildcard src/*.c cli/*.c)
.PHONY: lint
lint: deps-test
	cmake -S . -B $(LINT_BUILD) -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DSQLPOOL_TESTS=OFF >/dev/null
	@for f in $(wildcard src/*.c src/*.h); do n=$$(wc -l < $$f); [ $$n -le 700 ] || \
	    { echo "lint: $$f has $$n lines; a library file stays under 700 (split it by concept)" >&2; \
	      exit 1; }; done
	run-clang-tidy -quiet -p $(LINT_BUILD) -j $(JOBS) $(addprefix $(CURDIR)/,$(LINT_FILES))
	cppcheck --enable=warning,performance,portability --error-exitcode=1 --inline-suppr -q \
	    -j $(JOBS) -I include -I src --suppress=missingIncludeSystem $(LINT_FILES)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) build-bench $(FUZZ_BUILD) $(LINT_BUILD)

# The API reference from include/sqlpool.h (Doxygen, docs/Doxyfile; any warning fails the
# build) into $(DOC_BUILD)/html/index.html.
DOC_BUILD ?= build-doc
.PHONY: docs
# The man pages render without a warning.
man-check: deps-test
	groff -man -Tutf8 -ww -z docs/man/sqlpool.1 docs/man/sqlpool.3

docs: deps-test
	@command -v doxygen >/dev/null || { echo "docs: doxygen is not installed" >&2; exit 1; }
	{ cat docs/Doxyfile; echo 'OUTPUT_DIRECTORY = $(DOC_BUILD)'; } | doxygen -
