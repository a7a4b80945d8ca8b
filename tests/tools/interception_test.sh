#!/usr/bin/env bash
# The interception modes (docs/sentry.md, "Interception modes"): which mode
# a run takes, what each traps (counted by `ukcov run --stats`), and the
# errors of a mode that cannot be had. The kcov suites run in both modes
# (tests/guest: guest_NAME and guest_NAME_all or _served), and the tmpfs
# suites too (_served); this is what tells the modes apart.
# Usage: interception_test.sh UKCOV
set -uo pipefail
ukcov=$1
source "$(dirname "$0")/check.sh"

trapped() {  # options... -- command...: the calls the run trapped
  "$ukcov" run --stats "$@" 2>&1 >/dev/null | sed -n 's/.*: \([0-9]*\) calls trapped.*/\1/p'
}

check "--intercept all: the mode all" bash -c "'$ukcov' run --stats --intercept all -- true 2>&1 | grep -q 'interception all:'"
check "--tmpfs: auto takes all" bash -c "mkdir -p '$tmp/m' && '$ukcov' run --stats --tmpfs '$tmp/m' -- true 2>&1 | grep -q 'interception all:'"
check "--intercept bogus: 2, names the modes" bash -c \
  "'$ukcov' run --intercept bogus -- true 2>&1 | grep -q 'all, served, auto'; [ \${PIPESTATUS[0]} -eq 2 ]"

# Every byte of dd bs=1 is a read and a write of host files: all traps each,
# served none of them.
all=$(trapped --intercept all -- dd if=/dev/zero of=/dev/null bs=1 count=2000)
check "all: dd bs=1 count=2000 traps every read and write ($all)" test "${all:-0}" -ge 4000

# Both backends alike (the counters backend served kcov_semantics only once
# the sentry's own FUSE requests stopped queueing behind a guest's).
if [ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] && [ -d /sys/kernel/debug ]; then
  check "auto, as root with /dev/fuse: served" bash -c "'$ukcov' run --stats -- true 2>&1 | grep -q 'interception served:'"
  served=$(trapped --intercept served -- dd if=/dev/zero of=/dev/null bs=1 count=2000)
  check "served: dd bs=1 count=2000 traps almost nothing ($served)" test "${served:-99999}" -lt 100
  check "served: /sys/kernel/debug is the sentry's FUSE mount, in the guest's namespace only" bash -c \
    "'$ukcov' run -- grep -q ' /sys/kernel/debug .* fuse.ukcov ' /proc/self/mountinfo && ! grep -q fuse.ukcov /proc/self/mountinfo"
  check "served: the kcov device is there, 0600, root's" bash -c \
    "[ \"\$('$ukcov' run -- stat -c '%a %u %F' /sys/kernel/debug/kcov)\" = '600 0 regular empty file' ]"
  # Asked for, with --tmpfs: the mount is a FUSE mount of the sentry's too,
  # and the host's files stay untrapped while it is there.
  mkdir -p "$tmp/m"
  check "served with --tmpfs: the mode served" bash -c \
    "'$ukcov' run --stats --intercept served --tmpfs '$tmp/m' -- true 2>&1 | grep -q 'interception served:'"
  check "served with --tmpfs: the mount is the sentry's FUSE mount, in the guest's namespace only" bash -c \
    "'$ukcov' run --intercept served --tmpfs '$tmp/m' -- grep -q ' $tmp/m .* fuse.ukcov ' /proc/self/mountinfo &&
     ! grep -q ' $tmp/m ' /proc/self/mountinfo"
  served=$(trapped --intercept served --tmpfs "$tmp/m" -- dd if=/dev/zero of=/dev/null bs=1 count=2000)
  check "served with --tmpfs: dd bs=1 count=2000 on host files traps almost nothing ($served)" \
    test "${served:-99999}" -lt 100
  check "served with --tmpfs: what is written there is the mount's, not the host directory's" bash -c \
    "[ \"\$('$ukcov' run --intercept served --tmpfs '$tmp/m' -- sh -c 'echo hi >$tmp/m/f && cat $tmp/m/f')\" = hi ] &&
     [ -z \"\$(ls -A '$tmp/m')\" ]"
else
  check "auto without root or /dev/fuse: all" bash -c "'$ukcov' run --stats -- true 2>&1 | grep -q 'interception all:'"
  check "--intercept served without root or /dev/fuse: 125, says why" bash -c \
    "'$ukcov' run --intercept served -- true >/dev/null 2>&1; [ \$? -eq 125 ]"
fi
exit $fail
