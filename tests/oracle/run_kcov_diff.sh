#!/usr/bin/env bash
# A kcov guest suite's differential test: its output on the oracle kernel
# (written by run-oracle.sh into ORACLE_DIR/NAME.{out,rc}) against its output
# under `ukcov run`, line for line, with the listed exceptions
# (tests/oracle/exceptions) applied. Both sides must also exit 0.
# Usage: run_kcov_diff.sh UKCOV ORACLE_DIR NAME [OPTIONS] PROGRAM [ARGS...]
#   --tmpfs          PROGRAM's first argument is a directory: an emulated
#                    tmpfs is mounted there under the sentry (on the oracle it
#                    was a fresh directory of the guest's tmpfs)
#   --without F      run the sentry as on a kernel without host feature F
#                    (`ukcov run --without`); the sentry's side is then named
#                    sentry-no-F in tests/oracle/exceptions
#   --intercept M    run the sentry in interception mode M (`ukcov run
#                    --intercept`): every mode must give the oracle's output
#   --on-oracle      do not run anything here: the sentry's side is the
#                    suite's run under `ukcov run` inside the oracle kernel
#                    (ORACLE_DIR/NAME.sentry.{out,rc}; Linux 6.1 has no
#                    PIDFD_THREAD: side sentry-no-pidfd-thread)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ukcov=$1; oracle=$2; name=$3; shift 3
tmpfs=0
side=sentry
run_options=()
on_oracle=0
while [ $# -gt 0 ]; do
  case $1 in
    --tmpfs) tmpfs=1; shift ;;
    --intercept) run_options+=(--intercept "$2"); shift 2 ;;
    --on-oracle) on_oracle=1; side=sentry-no-pidfd-thread; shift ;;
    --without)  # only a missing feature that changes answers names the side
      run_options+=(--without "$2")
      [ "$2" = sync-wake-up ] || side=sentry-no-$2
      shift 2 ;;
    *) break ;;
  esac
done
# UKCOV_RUN_OPTIONS: more options for the sentry's runs here (e.g.
# --coverage DIR/%p.cov, docs/coverage.md).
read -r -a extra <<<"${UKCOV_RUN_OPTIONS:-}"
run_options+=("${extra[@]}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -f "$oracle/$name.rc" ] || { echo "FAIL: no oracle result for $name in $oracle (did the oracle_boot test run?)"; exit 1; }
oracle_rc=$(cat "$oracle/$name.rc")
cp "$oracle/$name.out" "$work/oracle"

if [ $on_oracle -eq 1 ]; then
  [ -f "$oracle/$name.sentry.rc" ] || { echo "FAIL: no run of $name under the sentry in $oracle"; exit 1; }
  cp "$oracle/$name.sentry.out" "$work/sentry"
  sentry_rc=$(cat "$oracle/$name.sentry.rc")
elif [ $tmpfs -eq 1 ]; then
  mount_dir=$(mktemp -d /dev/shm/ukcov-mount.XXXXXX)
  trap 'rm -rf "$work" "$mount_dir"' EXIT
  timeout 250 "$ukcov" run "${run_options[@]}" --tmpfs "$mount_dir" -- "$1" "$mount_dir" "${@:2}" >"$work/sentry" 2>&1
  sentry_rc=$?
  [ -z "$(ls -A "$mount_dir")" ] || { echo "FAIL: the emulated tmpfs wrote to the host directory under it"; exit 1; }
else
  timeout 250 "$ukcov" run "${run_options[@]}" -- "$@" >"$work/sentry" 2>&1
  sentry_rc=$?
fi

# Lines that are only a PC (kcov.rst's example prints its buffer) compare as
# "a PC in the kernel text range", consecutive ones as one.
normalize() {
  awk '/^0x[0-9a-f]+$/ {
         pc = (length($0) == 18 && $0 >= "0xffffffff80000000" && $0 < "0xffffffffff000000") ? "<PC in the kernel text range>" : "<PC outside the kernel text range: " $0 ">"
         if (pc != last) print pc; last = pc; next }
       { last = ""; print }' "$1"
}
normalize "$work/oracle" >"$work/oracle.n"
normalize "$work/sentry" >"$work/sentry.n"

# The exceptions: where the side named prints "SECTION: not in this kernel",
# SECTION's lines on both sides reduce to that one line.
while read -r suite section entry_side reason; do
  [ "$suite" = "$name" ] || continue
  case $entry_side in  # "sentry" entries hold for every sentry side
    oracle) lacking=oracle.n ;;
    sentry | "$side") lacking=sentry.n ;;
    *) continue ;;
  esac
  grep -qxF "$section: not in this kernel" "$work/$lacking" || continue
  echo "exception: $section is not in the $entry_side's kernel ($reason): checked on the other side only"
  for f in oracle.n sentry.n; do
    awk -v s="$section: " -v absent="$section: not in this kernel" \
      'index($0, s) == 1 { if (!done) print absent; done = 1; next } { print }' "$work/$f" >"$work/x" && mv "$work/x" "$work/$f"
  done
done < <(grep -v '^\s*#' "$here/exceptions" | grep -v '^\s*$')

echo "oracle: exit $oracle_rc ($(wc -l <"$work/oracle") lines); $side: exit $sentry_rc ($(wc -l <"$work/sentry") lines)"
status=0
if ! diff -u --label oracle --label sentry "$work/oracle.n" "$work/sentry.n" >"$work/diff"; then
  echo "FAIL: $name differs (- oracle kernel, + ukcov run${run_options[*]:+ ${run_options[*]}}):"
  cat "$work/diff"
  status=1
fi
if [ "$oracle_rc" != 0 ] || [ "$sentry_rc" != 0 ]; then
  echo "FAIL: both sides must exit 0"
  [ "$oracle_rc" != 0 ] && { echo "--- oracle output:"; cat "$work/oracle"; }
  [ "$sentry_rc" != 0 ] && { echo "--- sentry output:"; cat "$work/sentry"; }
  status=1
fi
where="ukcov run${run_options[*]:+ ${run_options[*]}}"
[ $on_oracle -eq 1 ] && where="ukcov run on that kernel"
[ $status -eq 0 ] && echo "$name: $(wc -l <"$work/oracle.n") lines, identical on Linux $(cat "$oracle/kernel" 2>/dev/null) and under $where"
exit $status
