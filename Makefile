# kvring — one Makefile for the whole tree.
#
#   make            build libraries, kvnode, kvctl, kvbench, kvcheck, tests and benchmarks into build/
#   make test       build and run every test suite (unit + real-process cluster tests)
#   make bench      build the benchmark binaries (build/micro_bench, build/engine_bench)
#   make asan       build into build/asan with ASan+UBSan and run the tests
#   make tsan       build into build/tsan with TSan and run the threaded tests
#   make cluster    start a local cluster on loopback (see README.md)
#   make sim        the deterministic simulator over SEEDS seeds (300; SEED= the first)
#   make soak       the nemesis: 5 real kvnodes under random faults for SECONDS (60) from
#                   SEED (random, printed), history checked (DISK_FULL=1, KEEP=1; docs/testing.md)
#   make fuzz       build the libFuzzer targets (test/fuzz/, clang, ASan+UBSan) into
#                   build/fuzz and run each for SECONDS seconds (60); prints executions
#   make fuzz-ci    the same, 2 s per target (what CI runs)
#   make fuzz-corpus  regenerate the seed corpus test/fuzz/corpus/ from the encoders
#                   and the docs (inputs a run found, found-*, are kept)
#   make check      clang -fsyntax-only -Wthread-safety -Werror over the sources that lock
#                   (make check-all: over every source)
#   make soak-fd    the failure detector's 10-minute false-down soak (bench/run-false-downs.sh;
#                   DURATION=seconds overrides; not part of make test)
#   make clean
#
# Sources are discovered: every <pkg>/*.cc goes into build/lib/libkv<pkg>.a, every
# test/<pkg>/*.cc into build/test/<pkg>_test. Adding a file needs no edit here.

# Plain `make` builds everything (the package rules below would otherwise make the
# first library they define the default goal).
.DEFAULT_GOAL := all

BUILD ?= build
SAN ?=
CXX ?= g++
NPROC := $(shell nproc 2>/dev/null || echo 2)
MAKEFLAGS += --no-print-directory
ifeq ($(filter -j% --jobserver%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(NPROC)
endif

OPT ?= -O2
SANFLAGS :=
ifeq ($(SAN),asan)
  OPT := -O1
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ifeq ($(SAN),tsan)
  OPT := -O1
  SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
endif
# The libFuzzer build (make fuzz): clang only; the libraries are instrumented for
# coverage (fuzzer-no-link), the targets link libFuzzer's main. Line tables only:
# stack traces need no more, and it halves the compile time.
ifeq ($(SAN),fuzz)
  OPT := -O1
  SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
              -gline-tables-only
endif

# Test code (test/**) compiles at TEST_OPT: what it tests is the libraries' code (at
# OPT), and gtest's macros make test files by far the slowest to compile (a repl test
# at -O2 -g: 13 s of CPU, at -O1 -g1: 7 s; under ASan at -O1 -g: 30 s, at -O0 -g1:
# 10 s). -g1 keeps line tables: backtraces and sanitizer reports still name lines.
TEST_OPT := -O1 -g1
ifneq ($(filter asan tsan,$(SAN)),)
  TEST_OPT := -O0 -g1
  SANFLAGS += -g1
endif
ifeq ($(SAN),fuzz)
  TEST_OPT :=
endif

# Debug info: line tables, function names and globals (-g1), enough for perf, gdb
# backtraces and sanitizer reports, at ~60 % of -g's compile time (coordinator.cc:
# 7.7 s at -O2 -g, 4.7 s at -O2 -g1). `make DEBUGINFO=-g` for locals in gdb.
DEBUGINFO ?= -g1
CXXFLAGS := -std=c++20 $(OPT) $(DEBUGINFO) -Wall -Wextra -Werror -Wno-missing-field-initializers \
            -MMD -MP -I. -pthread $(SANFLAGS) $(EXTRA_CXXFLAGS)
LDFLAGS := -pthread $(SANFLAGS)
SYSLIBS := -llz4 -lssl -lcrypto

# Library packages, in link order (users before what they use).
PKGS := node repl ring net lsm base
LIBS := $(foreach p,$(PKGS),$(BUILD)/lib/libkv$(p).a)

objs_of = $(patsubst %.cc,$(BUILD)/obj/%.o,$(1))

define pkg_lib
$(1)_SRCS := $(wildcard $(1)/*.cc)
$(BUILD)/lib/libkv$(1).a: $$(call objs_of,$$($(1)_SRCS)) | $(BUILD)/lib
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach p,$(PKGS),$(eval $(call pkg_lib,$(p))))

# Everything under cmd/ except each binary's main.cc, so tests can link it
# (test/cmd/ tests kvbench's histogram, kvnode's config parsing, ...).
CMDLIB_SRCS := $(filter-out %/main.cc,$(wildcard cmd/*/*.cc))
CMDLIB := $(BUILD)/lib/libkvcmd.a
$(CMDLIB): $(call objs_of,$(CMDLIB_SRCS)) | $(BUILD)/lib
	@rm -f $@
	ar rcs $@ $^

# Helpers shared by test suites (temp dirs, free ports, child processes).
TESTUTIL_SRCS := $(wildcard test/util/*.cc)
TESTUTIL := $(BUILD)/lib/libkvtestutil.a
$(TESTUTIL): $(call objs_of,$(TESTUTIL_SRCS)) | $(BUILD)/lib
	@rm -f $@
	ar rcs $@ $^

# The binaries allocate through jemalloc: +15-20% kvnode throughput over glibc
# malloc, measured (docs/performance.md). Sanitizer builds keep their own
# allocator; MALLOC= builds with glibc's.
MALLOC ?= jemalloc
BIN_LIBS := $(if $(SAN),,$(if $(filter jemalloc,$(MALLOC)),-ljemalloc))
BINS := kvnode kvctl kvbench
define bin_rule
$(BUILD)/$(1): $(BUILD)/obj/cmd/$(1)/main.o $(CMDLIB) $(LIBS)
	$(CXX) $(LDFLAGS) -o $$@ $$^ $(SYSLIBS) $(BIN_LIBS)
endef
$(foreach b,$(BINS),$(eval $(call bin_rule,$(b))))

# The history checker (docs/history.md): test/checker/main.cc over the test helpers;
# the simulator (docs/testing.md, "The simulator"): test/sim/main.cc.
# The nemesis (docs/testing.md, "The nemesis"): test/nemesis/main.cc, real kvnodes under faults.
TOOLS := $(if $(wildcard test/checker/main.cc),$(BUILD)/kvcheck) $(if $(wildcard test/sim/main.cc),$(BUILD)/kvsim) \
         $(if $(wildcard test/nemesis/main.cc),$(BUILD)/kvnemesis)
$(BUILD)/kvcheck: $(BUILD)/obj/test/checker/main.o $(TESTUTIL) $(LIBS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(SYSLIBS)
$(BUILD)/kvsim: $(BUILD)/obj/test/sim/main.o $(TESTUTIL) $(CMDLIB) $(LIBS)
	$(CXX) $(LDFLAGS) -o $@ $^ -lgtest $(SYSLIBS)
$(BUILD)/kvnemesis: $(BUILD)/obj/test/nemesis/main.o $(TESTUTIL) $(CMDLIB) $(LIBS) | $(BUILD)/kvnode
	$(CXX) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) -lgtest $(SYSLIBS)

# Fuzz targets (docs/testing.md, "Fuzzing"): every test/fuzz/*.cc is one libFuzzer
# binary build/fuzz/fuzzers/<name>, built only in the SAN=fuzz build, from the
# library sources it needs (scripts/fuzz-sources.sh follows its includes): far
# fewer than every library, which keeps `make fuzz-ci` short.
FUZZ_NAMES := $(basename $(notdir $(wildcard test/fuzz/*.cc)))
FUZZ_BINS := $(foreach f,$(FUZZ_NAMES),$(BUILD)/fuzzers/$(f))
ifeq ($(SAN),fuzz)
define fuzz_rule
$(BUILD)/fuzzers/$(1): $(BUILD)/obj/test/fuzz/$(1).o $(call objs_of,$(shell scripts/fuzz-sources.sh test/fuzz/$(1).cc))
	@mkdir -p $$(dir $$@)
	$(CXX) $(LDFLAGS) -fsanitize=fuzzer -o $$@ $$^ $(SYSLIBS)
endef
$(foreach f,$(FUZZ_NAMES),$(eval $(call fuzz_rule,$(f))))
endif
# The seed corpus generator (make fuzz-corpus): the ordinary build.
$(BUILD)/fuzz_corpus_gen: $(BUILD)/obj/test/fuzz/corpus_gen/main.o $(LIBS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(SYSLIBS)

TEST_PKGS := base lsm net ring repl node cmd cluster
define test_rule
$(1)_TEST_SRCS := $(wildcard test/$(1)/*.cc)
$(BUILD)/test/$(1)_test: $$(call objs_of,$$($(1)_TEST_SRCS)) $(TESTUTIL) $(CMDLIB) $(LIBS) | $(BUILD)/test
	$(CXX) $(LDFLAGS) -o $$@ $$(filter %.o %.a,$$^) -lgtest -lgtest_main $(SYSLIBS)
endef
$(foreach t,$(TEST_PKGS),$(eval $(call test_rule,$(t))))
# SKIP_SUITES leaves suites out of a build and run: make asan SKIP_SUITES=cluster.
TESTS := $(foreach t,$(filter-out $(SKIP_SUITES),$(TEST_PKGS)),$(if $(wildcard test/$(t)/*.cc),$(BUILD)/test/$(t)_test))
# Suites that run the binaries: building one of them alone rebuilds what it runs.
$(BUILD)/test/cluster_test $(BUILD)/test/cmd_test: $(BUILD)/kvnode $(BUILD)/kvctl $(BUILD)/kvbench
$(BUILD)/test/repl_test: $(TOOLS)
$(BUILD)/test/cluster_test: $(BUILD)/kvnemesis

# Benchmarks: Google Benchmark micro-benchmarks and the db_bench-style driver.
MICRO_SRCS := $(wildcard bench/*_bench.cc)
ENGINE_BENCH_SRCS := $(wildcard bench/engine_bench/*.cc)
PEER_CXXFLAGS :=
PEER_LIBS :=
ifneq ($(wildcard /usr/include/leveldb/db.h),)
  PEER_CXXFLAGS += -DKV_HAVE_LEVELDB
  PEER_LIBS += -lleveldb
endif
ifneq ($(wildcard /usr/include/rocksdb/db.h),)
  PEER_CXXFLAGS += -DKV_HAVE_ROCKSDB
  PEER_LIBS += -lrocksdb
endif
$(BUILD)/obj/bench/engine_bench/%.o: CXXFLAGS += $(PEER_CXXFLAGS)
$(BUILD)/micro_bench: $(call objs_of,$(MICRO_SRCS)) $(LIBS)
	$(CXX) $(LDFLAGS) -o $@ $^ -lbenchmark -lbenchmark_main $(SYSLIBS)
$(BUILD)/engine_bench: $(call objs_of,$(ENGINE_BENCH_SRCS)) $(LIBS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(PEER_LIBS) $(SYSLIBS)
BENCHES := $(if $(MICRO_SRCS),$(BUILD)/micro_bench) $(if $(ENGINE_BENCH_SRCS),$(BUILD)/engine_bench)

$(BUILD)/obj/test/%.o: CXXFLAGS += $(TEST_OPT)
$(BUILD)/obj/%.o: %.cc | deps
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c -o $@ $<

$(BUILD)/lib $(BUILD)/test:
	@mkdir -p $@

.PHONY: all deps test bench asan tsan cluster soak-fd sim soak clean build-tests deps-clang fuzz fuzz-ci fuzz-bins fuzz-corpus check check-all
all: $(LIBS) $(foreach b,$(BINS),$(if $(wildcard cmd/$(b)/main.cc),$(BUILD)/$(b))) $(TESTS) $(TOOLS) $(BENCHES)

deps:
	@scripts/deps.sh
deps-clang: deps
	@scripts/deps.sh clang

build-tests: $(TESTS) $(TOOLS) $(foreach b,$(BINS),$(if $(wildcard cmd/$(b)/main.cc),$(BUILD)/$(b)))

# TEST_FILTER narrows a run: make test TEST_FILTER='Wal*'
test: build-tests
	@scripts/run-tests.sh $(BUILD) $(TESTS)

bench: $(BENCHES) $(BUILD)/kvbench

asan:
	@$(MAKE) BUILD=build/asan SAN=asan test

# TSan runs the suites with threads of their own (engine, event loop, RPC client).
tsan:
	@$(MAKE) BUILD=build/tsan SAN=tsan build-tests
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" scripts/run-tests.sh build/tsan \
	  $(foreach t,base lsm net ring repl node cmd cluster,$(if $(wildcard test/$(t)/*.cc),build/tsan/test/$(t)_test))

cluster: $(foreach b,$(BINS),$(BUILD)/$(b))
	@scripts/local-cluster.sh

# 600 s of saturating load on 5 local nodes; fails if any member is ever seen down.
soak-fd: $(foreach b,$(BINS),$(BUILD)/$(b))
	@DURATION="$${DURATION:-600}" KVNODE=$(BUILD)/kvnode KVCTL=$(BUILD)/kvctl KVBENCH=$(BUILD)/kvbench \
	  bench/run-false-downs.sh

# SEEDS seeds of the simulator from SEED (default: one from the clock), each run twice
# (determinism); the first failing seed is printed with its reproduction.
sim: $(BUILD)/kvsim
	@$(BUILD)/kvsim --seeds $${SEEDS:-300} --twice $${SEED:+--seed $$SEED} --dir $(BUILD)/sim-failures

# The nemesis on real kvnodes for SECONDS (60) from SEED (default: one from the clock,
# printed); as root inside a private network namespace with network faults.
# DISK_FULL=1 adds disk-full faults on a tmpfs data dir; POWER_LOSS=1 power-loss faults
# (the nodes then run --sync always); KEEP=1 keeps the run directory.
soak: $(BUILD)/kvnemesis $(BUILD)/kvnode
	@$(BUILD)/kvnemesis --seconds $(or $(SECONDS),60) $(if $(SEED),--seed $(SEED)) \
	  $(if $(DISK_FULL),--disk-full) $(if $(POWER_LOSS),--power-loss --sync always) $(if $(KEEP),--keep)
# SECONDS seconds of libFuzzer per target (60), one target at a time, each over its
# checked-in seeds and its own working corpus in build/fuzz/corpus/; a crash stops
# the run with the input and its reproduction line (scripts/run-fuzz.sh).
fuzz: deps-clang
	@$(MAKE) BUILD=build/fuzz SAN=fuzz CXX=$(CLANG_CXX) fuzz-bins
	@scripts/run-fuzz.sh build/fuzz $(or $(SECONDS),60) $(FUZZ_NAMES)
fuzz-ci:
	@$(MAKE) fuzz SECONDS=2
fuzz-bins: $(FUZZ_BINS)
fuzz-corpus: $(BUILD)/fuzz_corpus_gen
	@find test/fuzz/corpus -type f ! -name 'found-*' -delete 2>/dev/null; $(BUILD)/fuzz_corpus_gen test/fuzz/corpus docs

# The static checks: clang's thread-safety analysis (GUARDED_BY and friends of
# base/thread_annotations.h) and its warnings, compiling nothing. `make check`
# (CI) covers the sources that lock a base::Mutex or carry annotations, they or
# their header (about 20, under a minute); `make check-all` every source (a few
# minutes: clang's other warnings over the tests and benches too).
CLANG_CXX ?= clang++
ALL_SRCS := $(wildcard base/*.cc lsm/*.cc net/*.cc ring/*.cc repl/*.cc node/*.cc cmd/*/*.cc test/*/*.cc \
              test/fuzz/corpus_gen/*.cc bench/*.cc bench/*/*.cc)
ifneq ($(filter check,$(MAKECMDGOALS)),)
LOCKING_SRCS := $(shell for f in $(ALL_SRCS); do h=$${f%.cc}.h; [ -f $$h ] || h=; \
                  grep -qE 'base/mutex\.h|base::Mutex|GUARDED_BY|LOCKS_REQUIRED' $$f $$h && echo $$f; done)
endif
check: $(patsubst %.cc,build/check/%.ok,$(LOCKING_SRCS))
check-all: $(patsubst %.cc,build/check/%.ok,$(ALL_SRCS))
build/check/%.ok: %.cc | deps-clang
	@mkdir -p $(dir $@)
	$(CLANG_CXX) -std=c++20 -fsyntax-only -Wall -Wextra -Werror -Wno-missing-field-initializers \
	  -Wthread-safety -MMD -MP -MT $@ -MF $(basename $@).d -I. $(PEER_CXXFLAGS) $<
	@touch $@

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
ifneq ($(filter check check-all,$(MAKECMDGOALS)),)
-include $(shell find build/check -name '*.d' 2>/dev/null)
endif
