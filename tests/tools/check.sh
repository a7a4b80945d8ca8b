# Sourced by the shell tests of tests/tools: `check DESCRIPTION COMMAND...`
# runs the command, prints "ok:" or "FAIL:", and remembers a failure in
# $fail (exit with it); $tmp is a scratch directory removed at exit.
fail=0
check() {
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
