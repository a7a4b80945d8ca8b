#!/usr/bin/env bash
# Does kcov's feedback guide the fuzzer? `ukcov fuzz` guided by the sentry's
# coverage against the same AFL++, seeds and random seed with the feedback
# off (--blind: AFL's -n), REPS times each, MINUTES long. Each repetition
# runs the two side by side (one CPU each), so they share the machine's
# conditions. The blocks covered are the union of the kcov PCs the sentry
# recorded for the programs (the same measure for both).
# Prints the blocks at 10 minutes and at the end (median and each run), the
# ratio, the exec rates; writes OUT/samples.csv and OUT/guided-vs-blind.png.
# Usage: bench/fuzz_guided_vs_blind.sh [MINUTES=30] [REPS=3] [OUT=fuzz-bench]
# PARALLEL=1 runs the repetitions at once (2 x REPS fuzzers sharing the
# machine: each gets less CPU, the run takes MINUTES).
set -euo pipefail
minutes=${1:-30} reps=${2:-3} out=${3:-fuzz-bench}
here=$(cd "$(dirname "$0")/.." && pwd)
ukcov=${UKCOV:-$here/build/bin/ukcov}
[ -x "$ukcov" ] || { echo "build first: make build" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
seconds=$((minutes * 60))
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, Linux $(uname -r)"
parallel=${PARALLEL:-0}
echo "run: $minutes min x $reps repetitions, guided and blind side by side$([ "$parallel" = 1 ] && echo ", the repetitions at once")"
for r in $(seq "$reps"); do
  for mode in guided blind; do
    rm -rf "$out/$mode-$r"
    flag=""
    [ $mode = blind ] && flag=--blind
    "$ukcov" fuzz -o "$out/$mode-$r" --time "$seconds" --seed "$r" $flag 2>"$out/$mode-$r.log" &
    # The next one starts once this one's afl-fuzz has taken a core: AFL
    # picks a core no other afl-fuzz is bound to, and two started at once
    # took the same one.
    for _ in $(seq 100); do
      grep -qsE "binding to #|No more free CPU" "$out/$mode-$r"/logs/*.log && break
      sleep 0.1
    done
  done
  [ "$parallel" = 1 ] || wait
done
wait

# "[   600s] execs N (R/s)  corpus C  blocks B ..." every 10 s.
echo "mode,rep,seconds,execs,blocks" >"$out/samples.csv"
for r in $(seq "$reps"); do
  for mode in guided blind; do
    sed -n 's/^\[ *\([0-9]*\)s\] execs \([0-9]*\) .* blocks \([0-9]*\) .*/\1 \2 \3/p' "$out/$mode-$r.log" |
      awk -v m=$mode -v r="$r" '{print m "," r "," $1 "," $2 "," $3}' >>"$out/samples.csv"
  done
done

python3 - "$out/samples.csv" "$minutes" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
minutes = int(sys.argv[2])
def at(mode, rep, t):
    pts = [r for r in rows if r["mode"] == mode and r["rep"] == rep and int(r["seconds"]) <= t]
    return pts[-1] if pts else None
reps = sorted({r["rep"] for r in rows}, key=int)
marks = [m for m in (10, minutes) if m <= minutes]
print("| after | guided blocks (median; runs) | blind blocks (median; runs) | guided/blind |")
print("|---|---|---|---|")
for m in dict.fromkeys(marks):
    g = [int(at("guided", r, m * 60)["blocks"]) for r in reps if at("guided", r, m * 60)]
    b = [int(at("blind", r, m * 60)["blocks"]) for r in reps if at("blind", r, m * 60)]
    if not g or not b:
        continue
    print(f"| {m} min | {statistics.median(g):.0f} ({', '.join(map(str, g))}) | "
          f"{statistics.median(b):.0f} ({', '.join(map(str, b))}) | {statistics.median(g) / statistics.median(b):.2f}x |")
for mode in ("guided", "blind"):
    rates = []
    for r in reps:
        last = at(mode, r, 10**9)
        if last and int(last["seconds"]) > 0:
            rates.append(int(last["execs"]) / int(last["seconds"]))
    if rates:
        print(f"{mode}: {statistics.median(rates):.0f} execs/s (median of {len(rates)})")
EOF

if command -v gnuplot >/dev/null; then
  for mode in guided blind; do
    for r in $(seq "$reps"); do
      grep "^$mode,$r," "$out/samples.csv" | awk -F, '{print $3 / 60, $5}' >"$out/$mode-$r.dat"
    done
  done
  {
    echo "set terminal pngcairo size 800,500 noenhanced"
    echo "set output '$out/guided-vs-blind.png'"
    echo "set title 'Blocks of the sentry covered: AFL++ guided by kcov vs blind (-n)'"
    echo "set xlabel 'minutes'; set ylabel 'blocks'; set key bottom right; set grid"
    printf "plot "
    for r in $(seq "$reps"); do
      [ "$r" -gt 1 ] && printf ", "
      printf "'%s' with lines lc rgb '#1f77b4' title '%s', '%s' with lines lc rgb '#d62728' title '%s'" \
        "$out/guided-$r.dat" "$([ "$r" = 1 ] && echo guided || echo '')" \
        "$out/blind-$r.dat" "$([ "$r" = 1 ] && echo blind || echo '')"
    done
    echo
  } | gnuplot 2>/dev/null && echo "plot: $out/guided-vs-blind.png"
fi
