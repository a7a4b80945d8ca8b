#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds two consumers from
# it, as another project would: one with find_package(ukcov) and
# ukcov_instrument(), one in C with pkg-config against libukcov.so.
# Usage: run.sh BUILD_DIR SOURCE_DIR C_COMPILER CXX_COMPILER
set -euo pipefail
build=$1 src=$2 cc=$3 cxx=$4
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/include/ukcov/ukcov.h"
test -x "$prefix/bin/ukcov"

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S "$src/tests/install/consumer" -B "$prefix/consumer" "${generator[@]}" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$prefix/consumer" >/dev/null
"$prefix/consumer/consumer"

pc_dir=$(dirname "$(find "$prefix" -name ukcov.pc | head -1)")
export PKG_CONFIG_PATH=$pc_dir
read -r -a flags <<<"$(pkg-config --cflags --libs ukcov)"
"$cc" -std=c11 -o "$prefix/pkgconfig_consumer" "$src/tests/install/consumer/pkgconfig_consumer.c" "${flags[@]}"
LD_LIBRARY_PATH=$(dirname "$(find "$prefix" -name 'libukcov.so' | head -1)") "$prefix/pkgconfig_consumer"
echo "install_test: both consumers built and ran"
