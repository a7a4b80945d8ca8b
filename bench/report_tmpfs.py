#!/usr/bin/env python3
"""The tmpfs table for docs/performance.md from bench/run.sh's outputs."""
import sys
from pathlib import Path

out = Path(sys.argv[1])


def load(name):
    return {k: float(v) for k, v in (line.split() for line in (out / name).read_text().splitlines())}


native, ukcov, kcov = load("tmpfs_native.txt"), load("tmpfs_ukcov.txt"), load("tmpfs_ukcov_kcov.txt")
native0, ukcov0 = load("tmpfs_native_cpu0.txt"), load("tmpfs_ukcov_cpu0.txt")
labels = {
    "create": "create (open O_CREAT|O_EXCL + close)",
    "stat": "stat",
    "rename": "rename",
    "unlink": "unlink",
    "seq_write_4k": "sequential 4 KiB write (16 MiB file)",
    "seq_read_4k": "sequential 4 KiB read",
    "rand_read_4k": "random 4 KiB pread",
}
print("| operation | host tmpfs, ns | ukcov tmpfs, ns | ukcov / host | ukcov + kcov TRACE_PC, ns | kcov adds "
      "| one CPU: host, ns | one CPU: ukcov, ns | one CPU: ukcov / host |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for key, label in labels.items():
    n, u, k, n0, u0 = native[key], ukcov[key], kcov[key], native0[key], ukcov0[key]
    print(f"| {label} | {n:.0f} | {u:.0f} | {u / n:.1f}x | {k:.0f} | {100 * (k / u - 1):+.0f}% "
          f"| {n0:.0f} | {u0:.0f} | {u0 / n0:.1f}x |")

import re


def ir(mode, calls):
    text = (out / f"cg.tmpfs_{mode}.{calls}").read_text()
    return int(re.search(r"^summary: (\d+)", text, re.M).group(1))


print()
print("The sentry's own instructions per call (callgrind, `bench/tmpfs_dispatch.cc`, marginal over 200 calls):\n")
print(f"create + stat + rename + unlink: {(ir('meta', 400) - ir('meta', 200)) / 200:.0f} instructions. "
      "Where they go (self cost, whole run of 400):\n")
print("```")
print((out / "tmpfs_profile.txt").read_text().rstrip())
print("```")
