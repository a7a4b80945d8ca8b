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
  libelf-dev binutils                   # ELF facts; addr2line, objdump: symbolising, ukcov cover
  lcov                                  # genhtml and lcov --summary of ukcov cover's tracefiles
  python3                               # bench/report.py, tests
  libseccomp-dev                        # the sentry's filter
  libfuse3-dev                          # the served debugfs (interception mode "served")
  valgrind                              # callgrind instruction counts in bench/
  gnuplot-nox                           # plots in bench/
  afl++                                 # ukcov fuzz: the fuzzing engine
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
# Another apt or dpkg (unattended-upgrades on a fresh machine) may hold the
# locks: wait for it, up to 10 minutes, rather than fail at once.
apt_get() {
  local err deadline=$((SECONDS + 600))
  err=$(mktemp)
  while ! "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 "$@" 2>"$err"; do
    if ! grep -qiE "could not get lock|unable to lock|is held by" "$err" || [ "$SECONDS" -ge "$deadline" ]; then
      cat "$err" >&2; rm -f "$err"; return 1
    fi
    echo "install-deps: another package manager holds the lock; waiting" >&2
    sleep 5
  done
  cat "$err" >&2; rm -f "$err"
}
apt_get update -qq
apt_get install -y -qq --no-install-recommends "${missing[@]}" >&2
