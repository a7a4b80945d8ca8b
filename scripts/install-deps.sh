#!/usr/bin/env bash
# Installs the Debian 12 packages ukcov needs, only those missing.
# Used by `make demo` and `make test`; safe to run again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  clang lld libclang-rt-14-dev          # default compiler; sanitizer runtimes
  g++                                   # the gcc build CI also checks
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libfmt-dev
  libdw-dev libelf-dev elfutils         # DWARF symbolisation
  python3                               # bench/report.py, tests
  libseccomp-dev                        # the sentry's filter
  valgrind                              # callgrind instruction counts in bench/
  gnuplot-nox                           # plots in bench/
  # The Linux kcov oracle (tests/oracle/): a real kernel to diff against
  linux-source-6.1 flex bison bc xz-utils libelf-dev  # its source and build
  qemu-system-x86 busybox-static cpio                 # booting it with an initramfs
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
