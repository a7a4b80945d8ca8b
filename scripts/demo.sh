#!/usr/bin/env bash
# make demo: the kernel documentation's kcov example, unmodified, under the
# sentry; the coverage it read symbolised to the sentry's own source; and
# the whole run's coverage of the sentry, summarised (docs/coverage.md).
# Usage: scripts/demo.sh [BUILD-DIR]  (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$build/bin
pcs=$(mktemp)
trap 'rm -f "$pcs"' EXIT
echo "\$ ukcov run --coverage $build/demo.cov -- kcov_example    # Documentation/dev-tools/kcov.rst: open, INIT_TRACE, mmap, ENABLE, read(-1, NULL, 0), DISABLE"
"$bin/ukcov" run --coverage "$build/demo.cov" -- "$bin/guests/kcov_example" >"$pcs"
echo "The guest's read(-1, NULL, 0) ran $(wc -l <"$pcs") blocks of the sentry:"
echo "\$ ukcov symbolize"
"$bin/ukcov" symbolize <"$pcs"
echo "\$ ukcov cover $build/demo.cov    # the whole run: every block of the sentry it ran, of all of them"
"$bin/ukcov" cover "$build/demo.cov" --lcov "$build/demo.info"
echo "HTML: genhtml --demangle-cpp --prefix \"\$PWD\" $build/demo.info -o $build/demo-html"
