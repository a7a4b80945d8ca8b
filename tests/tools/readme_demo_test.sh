#!/usr/bin/env bash
# The README's sample of `make demo` is what the demo prints: the same
# commands, block count, functions and files, line for line (PC values, line
# numbers and coverage figures aside: they move with any edit of the code).
# Usage: readme_demo_test.sh SOURCE-DIR BUILD-DIR
set -uo pipefail
src=$1; build=$2
# Coverage figures (the summary's rows and counts) move with any edit too:
# their numbers and the spaces that align them are masked.
mask() {
  sed -E 's/0x[0-9a-f]{16}/0xPC/g; s/:[0-9]+$/:N/
          /^([^ ]+ +[0-9]+\/[0-9]+ |covered: |binary: )/ {s/[0-9]+(\.[0-9]+)?/N/g; s/ +/ /g}'
}
expected=$(awk '/^\$ ukcov run --coverage [^ ]+ -- kcov_example/ {on = 1} on && /^```/ {exit} on' "$src/README.md" | mask)
[ -n "$expected" ] || { echo "FAIL: no demo sample in $src/README.md"; exit 1; }
actual=$(cd "$src" && bash scripts/demo.sh "$build" | sed "s|$build/|build/|g" | mask) || { echo "FAIL: the demo failed"; exit 1; }
if [ "$expected" != "$actual" ]; then
  echo "FAIL: README.md's demo sample differs from what make demo prints (< README, > demo):"
  diff <(echo "$expected") <(echo "$actual")
  exit 1
fi
echo "readme_demo: the README's sample is the demo's output ($(echo "$actual" | wc -l) lines)"
