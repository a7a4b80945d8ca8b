# The two set-up commands of the README, and their parts.
#   make demo   install what is missing, build, run the bundled demo
#   make test   install what is missing, build every configuration CI checks,
#               run every test in each
SHELL := /bin/bash
JOBS ?= $(shell nproc)
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
CLANG := -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++

.PHONY: all deps build demo test check bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@[ -f build/CMakeCache.txt ] || cmake -S . -B build $(GENERATOR) $(CLANG) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	@cmake --build build -j$(JOBS)

demo: build
	@bash scripts/demo.sh

# Every configuration: clang (default), gcc 12, ASan+UBSan, TSan, the counters backend (clang).
test: deps
	@bash scripts/test-all.sh

# Just the default build's tests, for a quick edit-compile-test loop.
check: build
	@ctest --test-dir build --output-on-failure -j$(JOBS)

bench: build
	@bash bench/run.sh

clean:
	rm -rf build build-gcc build-asan build-tsan build-counters build-*.configure.log
