#!/usr/bin/env bash
# make demo: the kernel documentation's kcov example, unmodified, under the
# sentry; its coverage symbolised to the sentry's own source.
# Usage: scripts/demo.sh [BUILD-DIR]  (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build}/bin
pcs=$(mktemp)
trap 'rm -f "$pcs"' EXIT
echo "\$ ukcov run -- kcov_example    # Documentation/dev-tools/kcov.rst: open, INIT_TRACE, mmap, ENABLE, read(-1, NULL, 0), DISABLE"
"$bin/ukcov" run -- "$bin/guests/kcov_example" >"$pcs"
echo "The guest's read(-1, NULL, 0) ran $(wc -l <"$pcs") blocks of the sentry:"
echo "\$ ukcov symbolize"
"$bin/ukcov" symbolize <"$pcs"
