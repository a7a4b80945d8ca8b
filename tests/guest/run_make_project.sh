#!/usr/bin/env bash
# A new user's first loop in a scratch filesystem: write a two-file C
# project, build it with make (cc, as, ld and make itself all exec'd from the
# host, their outputs written to the mount), run what was built from the
# mount, clean, and build again in parallel. Once natively in a fresh
# directory of the host's tmpfs, once under `ukcov run --tmpfs`; the outputs
# must be identical, and nothing may reach the host directory under the mount.
# Usage: run_make_project.sh UKCOV
set -uo pipefail
ukcov=$1
native_dir=$(mktemp -d /dev/shm/ukcov-native.XXXXXX)
mount_dir=$(mktemp -d /dev/shm/ukcov-mount.XXXXXX)
out=$(mktemp -d)
trap 'rm -rf "$native_dir" "$mount_dir" "$out"' EXIT
command -v make >/dev/null && command -v cc >/dev/null || { echo "FAIL: make and cc are needed (scripts/install-deps.sh)"; exit 1; }

cat >"$out/project.sh" <<'SCRIPT'
set -e
cd "$1"
cat >main.c <<'C'
#include <stdio.h>
int add(int, int);
int main(int argc, char** argv) { printf("%s: 2+3=%d\n", argv[0], add(2, 3)); return 0; }
C
cat >add.c <<'C'
int add(int a, int b) { return a + b; }
C
printf 'hello: main.o add.o\n\t$(CC) -o $@ main.o add.o\n%%.o: %%.c\n\t$(CC) -c -o $@ $<\ncheck: hello\n\t./hello\n\t$(CURDIR)/hello\nclean:\n\trm -f hello *.o\n' >Makefile
make --no-print-directory check
test -x hello && echo "built: $(ls)"
make --no-print-directory clean
make --no-print-directory -j2 check >/dev/null
./hello | sed "s|$1|DIR|"
SCRIPT

sh "$out/project.sh" "$native_dir" 2>&1 | sed "s|$native_dir|DIR|g" >"$out/native"
echo "native: exit ${PIPESTATUS[0]} ($(wc -l <"$out/native") lines)"
timeout 120 "$ukcov" run ${UKCOV_RUN_OPTIONS:-} --tmpfs "$mount_dir" -- sh "$out/project.sh" "$mount_dir" 2>&1 \
  | sed "s|$mount_dir|DIR|g" >"$out/sentry"
echo "sentry: exit ${PIPESTATUS[0]} ($(wc -l <"$out/sentry") lines)"
[ -z "$(ls -A "$mount_dir")" ] || { echo "FAIL: the build wrote to the host directory under the mount"; exit 1; }
grep -q '^DIR/hello: 2+3=5$' "$out/native" || { echo "FAIL: the project did not build natively:"; cat "$out/native"; exit 1; }
if diff -u "$out/native" "$out/sentry"; then
  echo "make project: $(wc -l <"$out/native") lines, identical natively and under the sentry"
  exit 0
fi
echo "FAIL: differences (- native, + sentry)"
exit 1
