#!/usr/bin/env bash
# Builds every configuration CI checks and runs every test in each:
#   build       clang, RelWithDebInfo (the default build, also `make demo`'s)
#   build-gcc   gcc 12: the project must build and pass with it too
#   build-asan  clang + AddressSanitizer + UndefinedBehaviorSanitizer
#   build-tsan  clang + ThreadSanitizer
#   build-counters  clang, the counters coverage backend
# First it builds the Linux kcov oracle's kernel (tests/oracle/, cached
# outside the clone: minutes the first time on a machine, then a moment),
# which every configuration's kcov suites are compared against.
# Ends with one line "test: N passed, M failed" over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)

configs=(
  "build|-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo"
  "build-gcc|-DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=RelWithDebInfo"
  "build-asan|-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DUKCOV_SANITIZE=address,undefined -DUKCOV_BUILD_BENCH=OFF"
  "build-tsan|-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUKCOV_SANITIZE=thread -DUKCOV_BUILD_BENCH=OFF"
  "build-counters|-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUKCOV_COVERAGE=counters -DUKCOV_BUILD_BENCH=OFF"
)

# Sanitizer reports fail the test that triggers them.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

passed=0
failed=0
echo "=== the oracle kernel (tests/oracle/build-kernel.sh)"
if ! kernel=$(tests/oracle/build-kernel.sh); then
  echo "=== the oracle kernel did not build: every kcov suite will fail"
  failed=$((failed + 1))
else
  echo "=== the oracle kernel: $kernel"
fi
for entry in "${configs[@]}"; do
  dir=${entry%%|*}
  read -r -a flags <<<"${entry#*|}"
  echo "=== $dir: ${flags[*]}"
  if ! cmake -S . -B "$dir" "${generator[@]}" "${flags[@]}" >"$dir.configure.log" 2>&1; then
    cat "$dir.configure.log"
    failed=$((failed + 1)); continue
  fi
  if ! cmake --build "$dir" -j"$jobs"; then
    echo "=== $dir: build failed"
    failed=$((failed + 1)); continue
  fi
  log="$dir/ctest.log"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" 2>&1 | tee "$log"
  # ctest's summary: "100% tests passed, 0 tests failed out of 154"
  summary=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$log" | tail -1)
  if [ -z "$summary" ]; then
    echo "=== $dir: no ctest summary"
    failed=$((failed + 1)); continue
  fi
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
  bad=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$summary")
  passed=$((passed + total - bad))
  failed=$((failed + bad))
done
rm -f build*.configure.log
echo "test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
