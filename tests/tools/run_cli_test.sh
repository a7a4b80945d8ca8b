#!/usr/bin/env bash
# `ukcov run` as a user meets it: exit statuses as a shell reports them,
# stdio passing through, and one clear line for each error.
# Usage: run_cli_test.sh BIN_DIR
set -uo pipefail
bin=$1
ukcov=$bin/ukcov
source "$(dirname "$0")/check.sh"

# The same commands natively and under the sentry give the same status.
same_status() {  # command...
  "$@" >/dev/null 2>&1; local native=$?
  "$ukcov" run -- "$@" >/dev/null 2>&1; local sentry=$?
  [ "$native" -eq "$sentry" ] || { echo "  native $native, sentry $sentry"; return 1; }
}
check "exit status passes through" same_status sh -c 'exit 3'
check "success is 0" same_status true
check "killed by a signal: 128+N" bash -c "'$ukcov' run -- sh -c 'kill -TERM \$\$'; [ \$? -eq 143 ]"
check "stdin and stdout pass through" bash -c "[ \"\$(echo hello | '$ukcov' run -- cat)\" = hello ]"
check "stderr passes through" bash -c "[ \"\$('$ukcov' run -- sh -c 'echo oops >&2' 2>&1 >/dev/null)\" = oops ]"
check "arguments pass through" bash -c "[ \"\$('$ukcov' run -- printf '%s|' a 'b c' '')\" = 'a|b c||' ]"
check "PATH lookup" bash -c "'$ukcov' run -- sh -c 'exit 0'"
mkdir -p "$tmp/mnt"
check "the guest keeps its umask (with --tmpfs too)" bash -c \
  "[ \"\$(umask 027; '$ukcov' run --tmpfs '$tmp/mnt' -- sh -c umask)\" = \"\$(umask 027; sh -c umask)\" ]"
check "--tmpfs: a file made in the mount, and nothing on the host" bash -c \
  "'$ukcov' run --tmpfs '$tmp/mnt' -- sh -c 'echo hi > $tmp/mnt/f && cat $tmp/mnt/f' | grep -qx hi && [ -z \"\$(ls -A '$tmp/mnt')\" ]"
# The host directory under a mount: out of the guest's reach also through a
# call the host runs (execve); with CAP_SYS_ADMIN (CI runs as root) it is
# covered in the guest's own mount namespace.
mkdir -p "$tmp/covered"
printf '#!/bin/sh\necho the host file ran\n' >"$tmp/covered/hello"
chmod +x "$tmp/covered/hello"
if [ "$(id -u)" -eq 0 ]; then
  check "--tmpfs: the host's file under the mount point never runs" bash -c \
    "! '$ukcov' run --tmpfs '$tmp/covered' -- sh -c '$tmp/covered/hello' 2>&1 | grep -q 'host file ran'"
fi
check "--tmpfs on a missing directory: 125, says why" bash -c \
  "'$ukcov' run --tmpfs '$tmp/none' -- true 2>&1 | grep -q 'must be an existing directory'; [ \${PIPESTATUS[0]} -eq 125 ]"
check "--tmpfs with a bad option: 125, says why" bash -c \
  "'$ukcov' run --tmpfs '$tmp/mnt:colour=blue' -- true 2>&1 | grep -q \"unknown tmpfs option 'colour'\"; [ \${PIPESTATUS[0]} -eq 125 ]"

# One line, and the status env(1) and shells use.
one_line_error() {  # status pattern command...
  local want=$1 pattern=$2; shift 2
  "$ukcov" run -- "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  [ "$got" -eq "$want" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "$pattern" "$tmp/err" && [ ! -s "$tmp/out" ] ||
    { echo "  status $got, stderr: $(cat "$tmp/err")"; return 1; }
}
check "missing program: 127" one_line_error 127 "command not found" "$tmp/none"
check "unknown command: 127" one_line_error 127 "command not found" ukcov-no-such-command
touch "$tmp/plain" && chmod 644 "$tmp/plain"
check "not executable: 126" one_line_error 126 "Permission denied" "$tmp/plain"
check "a directory: 126" one_line_error 126 "Permission denied" "$tmp"
check "nested under another listener: 125, says why" one_line_error 125 "already runs under a seccomp listener" "$ukcov" run -- true
check "no command: usage, exit 2" bash -c "'$ukcov' run >/dev/null 2>&1; [ \$? -eq 2 ]"
check "bad --workers: exit 2" bash -c "'$ukcov' run --workers 0 -- true >/dev/null 2>&1; [ \$? -eq 2 ]"
check "a program's options without --: exit 2, suggests --" bash -c \
  "'$ukcov' run ls -la 2>&1 >/dev/null | grep -q 'put -- before'; [ \${PIPESTATUS[0]} -eq 2 ]"
check "--tmpfs size=-1: 125, a bad value" bash -c \
  "'$ukcov' run --tmpfs '$tmp:size=-1' -- true 2>&1 | grep -q \"bad value for tmpfs option 'size': '-1'\"; [ \${PIPESTATUS[0]} -eq 125 ]"
check "--tmpfs nr_inodes=-5 and uid=-1: 125" bash -c \
  "'$ukcov' run --tmpfs '$tmp:nr_inodes=-5' -- true 2>/dev/null; a=\$?; '$ukcov' run --tmpfs '$tmp:uid=-1' -- true 2>/dev/null; b=\$?; [ \$a -eq 125 ] && [ \$b -eq 125 ]"
check "--tmpfs /: 125, says why" bash -c \
  "'$ukcov' run --tmpfs / -- true 2>&1 | grep -q 'root directory cannot be a mount point'; [ \${PIPESTATUS[0]} -eq 125 ]"

# Unprivileged: the sentry needs no privilege. The kcov file is root's
# (debugfs is 0700 root on Linux): an unprivileged guest gets EACCES.
if [ "$(id -u)" -eq 0 ] && setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
  as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
  check "runs as an unprivileged user" bash -c "$(declare -f as_nobody); as_nobody '$ukcov' run -- sh -c 'exit 3'; [ \$? -eq 3 ]"
  check "unprivileged guest: kcov open is EACCES" bash -c \
    "$(declare -f as_nobody); as_nobody '$ukcov' run -- '$bin/guests/kcov_example' 2>&1 | grep -q 'Permission denied'"
fi
exit $fail
