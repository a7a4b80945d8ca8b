#!/usr/bin/env bash
# Boots the oracle kernel (tests/oracle/build-kernel.sh, a real Linux 6.1
# with kcov) under qemu and runs programs in it, one after another, as root,
# with debugfs at /sys/kernel/debug, each in a fresh directory of a tmpfs.
#
# Usage: run-oracle.sh OUTDIR JOB...
#   JOB is NAME=PROGRAM [ARG...] (one shell word per job, split on spaces).
#   PROGRAM, and every ARG that is an absolute path to a host file, is packed
#   into the initramfs at the same path, with the shared libraries it needs.
#   In ARGs, @TMPDIR@ is a fresh empty directory of the guest's tmpfs.
#   A job whose NAME ends in ".sentry" runs where debugfs is not mounted (a
#   mount namespace of its own): the sentry (`ukcov run`) serves kcov there,
#   and a call it passed to the kernel would find no kcov rather than the
#   real one.
# Writes OUTDIR/NAME.out (stdout and stderr) and OUTDIR/NAME.rc (exit status,
# or "timeout"), and OUTDIR/console.log (the kernel's console). Exits 0 when
# every job ran to an exit status, 1 with a one-line reason otherwise.
# Environment: UKCOV_ORACLE_TIMEOUT (seconds for the whole boot, default 900),
# UKCOV_ORACLE_JOB_TIMEOUT (seconds per job, default 300).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "oracle: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: run-oracle.sh OUTDIR NAME=PROGRAM[ ARGS]..."
out=$1; shift
total_timeout=${UKCOV_ORACLE_TIMEOUT:-900}
job_timeout=${UKCOV_ORACLE_JOB_TIMEOUT:-300}

qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 is missing (apt-get install qemu-system-x86; scripts/install-deps.sh does it)"
busybox=/bin/busybox
[ -x "$busybox" ] && { ldd "$busybox" 2>&1 || true; } | grep -q "not a dynamic" \
  || die "a static busybox is missing (apt-get install busybox-static)"
command -v cpio >/dev/null || die "cpio is missing (apt-get install cpio)"
kernel=$("$here/build-kernel.sh") || die "no oracle kernel (build-kernel.sh failed, above)"

mkdir -p "$out"
rm -f "$out"/*.out "$out"/*.rc "$out/console.log"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,jobs,scratch}

# A program and the shared objects it loads, at their host paths.
pack() {
  local file=$1
  [ -f "$file" ] || die "$file: no such program"
  mkdir -p "$root$(dirname "$file")"
  cp -L "$file" "$root$file"
  local lib
  for lib in $(ldd "$file" 2>/dev/null | grep -o '/[^ ]*' || true); do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

cp "$busybox" "$root/bin/busybox"
names=()
for job in "$@"; do
  name=${job%%=*}; cmd=${job#*=}
  [[ $name =~ ^[A-Za-z0-9_.-]+$ ]] && [ "$name" != "$job" ] || die "bad job '$job' (want NAME=PROGRAM [ARGS])"
  read -r -a words <<<"$cmd"
  pack "${words[0]}"
  for word in "${words[@]:1}"; do
    [[ $word == /* ]] && [ -f "$word" ] && pack "$word"
  done
  names+=("$name")
  printf '%s\n' "$cmd" >"$root/jobs/$name"
done

cat >"$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /scratch
ulimit -H -n 65536; ulimit -S -n 65536
exec 3>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo
echo "@@oracle kernel \$(uname -r) cpus \$(nproc)" >&3
for name in ${names[*]}; do
  dir=\$(mktemp -d /scratch/job.XXXXXX)
  cmd=\$(sed "s|@TMPDIR@|\$dir|g" /jobs/\$name)
  echo "@@oracle begin \$name" >&3
  case \$name in
    *.sentry) (cd "\$dir" && timeout $job_timeout unshare -m sh -c 'umount /sys/kernel/debug && exec "\$@"' sh \$cmd) >&3 2>&1 ;;
    *) (cd "\$dir" && timeout $job_timeout \$cmd) >&3 2>&1 ;;
  esac
  echo "@@oracle end \$name \$?" >&3
done
echo "@@oracle done" >&3
sync
reboot -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) >"$root.cpio"
trap 'rm -rf "$root" "$root.cpio"' EXIT

# Software emulation: the same CPU (with protection keys) on every machine.
# Two single-core sockets: without ACPI, "-smp 2" alone boots one CPU.
results=$out/serial.log
set +e
timeout "$total_timeout" "$qemu" -accel tcg -cpu max -smp 2,sockets=2,cores=1,threads=1 -m 2048 \
  -kernel "$kernel/bzImage" -initrd "$root.cpio" \
  -append "console=ttyS0 panic=-1 oops=panic" \
  -display none -monitor none -no-reboot \
  -serial "file:$out/console.log" -serial "file:$results" </dev/null
status=$?
set -e
[ $status -eq 124 ] && echo "oracle: qemu timed out after $total_timeout s" >&2
[ $status -eq 0 ] || [ $status -eq 124 ] || die "qemu failed (exit $status); console: $out/console.log"

# Split the results into one file per job.
python3 - "$results" "$out" "${names[@]}" <<'PY'
import sys
results, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(results, 'rb').read().decode('utf-8', 'replace').replace('\r', '')
current, lines, ended, done = None, [], set(), False
def flush(rc):
    open(f"{out}/{current}.out", 'w').write(''.join(lines))
    open(f"{out}/{current}.rc", 'w').write(rc + '\n')
for line in text.splitlines(keepends=True):
    if line.startswith('@@oracle begin '):
        current, lines = line.split()[2], []
    elif line.startswith('@@oracle end ') and current:
        flush(line.split()[3]); ended.add(current); current = None
    elif line.startswith('@@oracle done'):
        done = True
    elif line.startswith('@@oracle kernel '):
        open(f"{out}/kernel", 'w').write(line.split()[2] + '\n')
        print(line.strip()[2:], file=sys.stderr)
    elif current:
        lines.append(line)
if current:  # cut off mid-job: what it printed, and why it stopped
    flush('timeout'); ended.add(current)
missing = [n for n in names if n not in ended]
for n in missing:
    open(f"{out}/{n}.rc", 'w').write('not run\n')
if not done:
    sys.exit(f"oracle: the guest did not finish (timeout or panic); {len(missing)} job(s) not run: {' '.join(missing)}; see {out}/console.log")
PY
