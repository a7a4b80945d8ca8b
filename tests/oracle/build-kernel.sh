#!/usr/bin/env bash
# Builds the oracle kernel: Debian's linux-source-6.1 with tinyconfig plus
# tests/oracle/kernel.config (kcov, comparisons, what a static program needs).
# The result is cached outside the clone, keyed by the source package's
# version and the configuration, so a second run takes a moment:
#   $UKCOV_ORACLE_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/ukcov-oracle)/<key>/
#     bzImage   the kernel qemu boots
#     vmlinux   its symbols (for reading its PCs)
#     config    the .config it was built from
# Prints the cache directory on stdout; progress and errors on stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/kernel.config
tarball=/usr/src/linux-source-6.1.tar.xz
# Bump when the recipe below changes in a way that changes the kernel.
recipe=1

die() { echo "oracle kernel: $*" >&2; exit 1; }
[ -f "$tarball" ] || die "$tarball is missing (apt-get install linux-source-6.1; scripts/install-deps.sh does it)"
for tool in gcc make flex bison bc xz; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (scripts/install-deps.sh installs it)"
done

version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) || die "linux-source-6.1 is not installed as a package"
gccver=$(gcc -dumpfullversion)
key=$( { echo "recipe=$recipe source=$version gcc=$gccver"; grep -v '^\s*#' "$fragment"; } | sha256sum | cut -c1-16)
cache=${UKCOV_ORACLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ukcov-oracle}
out=$cache/linux-$version-$key
mkdir -p "$cache"

# One builder at a time per key; the others wait and then find it built.
exec 9>"$out.lock"
flock 9
if [ -f "$out/bzImage" ] && [ -f "$out/vmlinux" ]; then
  echo "$out"; exit 0
fi

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
echo "oracle kernel: building Linux $version (key $key) in $work; about 7 minutes on 2 cores" >&2
tar -xJf "$tarball" -C "$work"
src=$work/linux-source-6.1
log=$work/build.log
mk() { make -C "$src" ARCH=x86_64 -j"$(nproc)" "$@" >>"$log" 2>&1 || { tail -40 "$log" >&2; die "make $* failed (log above)"; }; }
mk tinyconfig
(cd "$src" && ./scripts/kconfig/merge_config.sh -m .config "$fragment" >>"$log" 2>&1) || die "merge_config failed"
mk olddefconfig
# Every option asked for must be in the result: a dependency that Kconfig
# dropped silently would give a kernel without what a suite expects.
missing=()
while IFS= read -r line; do
  case $line in ''|\#*) continue ;; esac
  opt=${line%%=*}; val=${line#*=}
  if [ "$val" = n ]; then
    grep -qx "$opt=y" "$src/.config" && missing+=("$line")
  else
    grep -qx "$opt=$val" "$src/.config" || missing+=("$line")
  fi
done <"$fragment"
[ ${#missing[@]} -eq 0 ] || die "Kconfig did not keep: ${missing[*]}"
mk bzImage
mkdir -p "$out.tmp"
cp "$src/arch/x86/boot/bzImage" "$src/vmlinux" "$out.tmp/"
cp "$src/.config" "$out.tmp/config"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "oracle kernel: built in $(( $(date +%s) - start )) s: $out" >&2
echo "$out"
