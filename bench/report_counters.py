#!/usr/bin/env python3
"""The counters backend's table and plot for docs/performance.md.
Usage: report_counters.py OUT_DIR PNG"""
import json
import re
import subprocess
import sys
from pathlib import Path

out, png = Path(sys.argv[1]), Path(sys.argv[2])
data = json.loads((out / "counters.json").read_text())
us = {}
per_block = {}
for b in data["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    m = re.match(r"BM_(\w+)/N:(\d+)/permille:(\d+)/uniform:(\d)", b["run_name"])
    if m:
        us[(m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)))] = b["real_time"]  # microseconds
    else:
        per_block[b["run_name"]] = b["real_time"]  # ns per 256-block call

for spread, title in [(0, "clustered hits (runs of about 16 blocks, as functions run)"),
                      (1, "uniform hits (each block independently: the worst case)")]:
    print(f"Collection at the return to user space, {title}; microseconds, medians of 3:\n")
    print("| N blocks | hit | counters backend | seed (full scan) | trace callbacks | seed / counters |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (10000, 100000, 1000000, 4000000):
        for permille in (1, 10, 100):
            c, s, t = (us[(k, n, permille, spread)] for k in ("CountersScan", "SeedScan", "TraceCallbacks"))
            print(f"| {n:,} | {permille / 10:g}% | {c:.2f} | {s:.1f} | {t:.2f} | {s / c:.1f}x |")
    print()

plain = per_block["BM_BlocksPlain"]
counters = per_block["BM_BlocksCounters"]
print(f"Steady cost per block executed: {(counters - plain) / 256:.2f} ns for a counter increment "
      f"(256-block handler: {counters:.1f} ns against {plain:.1f} ns uninstrumented).")

# The plot: time against N, log-log, for each design at each hit rate (clustered).
dat = out / "counters.dat"
with dat.open("w") as f:
    for n in (10000, 100000, 1000000, 4000000):
        row = [str(n)]
        for permille in (1, 10, 100):
            row += [f"{us[(k, n, permille, 0)]:.4f}" for k in ("CountersScan", "SeedScan", "TraceCallbacks")]
        f.write(" ".join(row) + "\n")
plots = []
for j, permille in enumerate((1, 10, 100)):
    for k, (name, dash) in enumerate((("counters", 1), ("seed scan", 2), ("trace callbacks", 3))):
        col = 2 + 3 * j + k
        plots.append(f"'{dat}' using 1:{col} with linespoints dt {dash} lc {j + 1} title '{name}, {permille / 10:g}% hit'")
script = f"""set terminal pngcairo size 900,600 noenhanced
set output '{png}'
set logscale xy
set xlabel 'instrumented blocks in the binary (N)'
set ylabel 'microseconds per return to user space'
set title 'Collecting coverage at the return to user space (clustered hits)'
set key top left
set grid
plot {', '.join(plots)}
"""
subprocess.run(["gnuplot"], input=script, text=True, check=True)
print(f"\nPlot: {png}")
