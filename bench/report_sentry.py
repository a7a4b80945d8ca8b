#!/usr/bin/env python3
"""The sentry's table for docs/performance.md from bench/run.sh's outputs."""
import json
import re
import sys
from pathlib import Path

out = Path(sys.argv[1])
LO, HI = (int(a) for a in sys.argv[2:4]) if len(sys.argv) >= 4 else (1000, 2000)


def medians(name):
    data = json.loads((out / name).read_text())
    result = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median" and "error_occurred" not in b:
            result[b["run_name"]] = b
    return data["context"], result


def ir(mode, calls):
    text = (out / f"cg.dispatch_{mode}.{calls}").read_text()
    return int(re.search(r"^summary: (\d+)", text, re.M).group(1))


context, native = medians("sentry_native.json")
_, sentry = medians("sentry_ukcov.json")
_, sentry_w2 = medians("sentry_ukcov_w2.json")
_, sentry_cov = medians("sentry_ukcov_coverage.json")
ns = lambda table, name: table[name]["real_time"] if name in table else float("nan")
bare = ns(native, "BareRoundTrip/sync_wake_up/real_time")
bare_plain = ns(native, "BareRoundTrip/plain/real_time")
off = ns(sentry, "Emulated/kcov_off/real_time")

print(f"Machine: {context.get('num_cpus')} CPUs at {context.get('mhz_per_cpu')} MHz; {context.get('date')}\n")
print("| syscall (from the guest) | natively, ns | under ukcov, ns | ukcov / bare round trip |")
print("|---|---:|---:|---:|")
rows = [
    ("BM_Untrapped/real_time", "getppid: not trapped (the filter only)"),
    ("TrappedContinued/no_kcov_open/real_time", "read(/dev/null, 0): trapped, continued; no kcov file open"),
    ("TrappedContinued/kcov_open/real_time", "the same with a kcov file open (fd borrowed to identify it)"),
    ("Emulated/kcov_off/real_time", "read(-1, NULL, 0): emulated (EBADF), kcov off"),
    ("Emulated/kcov_pc/real_time", "the same, kcov TRACE_PC enabled"),
    ("Emulated/kcov_cmp/real_time", "the same, kcov TRACE_CMP enabled"),
    ("EmulatedOnKcovFd/real_time", "read(kcov fd): emulated (EINVAL), fd borrowed"),
]
for name, label in rows:
    n = ns(native, name)
    native_cell = "no kcov here" if n != n else f"{n:.0f}"
    s = ns(sentry, name)
    ratio = f"{s / bare:.2f}x" if name.startswith(("Emulated", "Trapped")) else ""
    print(f"| {label} | {native_cell} | {s:.0f} | {ratio} |")
print(f"| bare round trip: RECV + SEND, empty handler, SYNC_WAKE_UP | {bare:.0f} | | 1.00x |")
print(f"| bare round trip without SYNC_WAKE_UP | {bare_plain:.0f} | | {bare_plain / bare:.2f}x |")
print()
pc = ns(sentry, "Emulated/kcov_pc/real_time")
cmp = ns(sentry, "Emulated/kcov_cmp/real_time")
print(f"Emulated syscall over the bare round trip: {off / bare:.2f}x (target 1.3x). "
      f"kcov TRACE_PC adds {100 * (pc / off - 1):+.1f}% (target under 10%), TRACE_CMP {100 * (cmp / off - 1):+.1f}%; "
      f"{sentry['Emulated/kcov_pc/real_time'].get('kcov_words', 0):.0f} PCs and "
      f"{(sentry['Emulated/kcov_cmp/real_time'].get('kcov_words', 1) - 1) / 4:.0f} comparisons per syscall.\n")
cov = ns(sentry_cov, "Emulated/kcov_off/real_time")
print(f"The whole run's coverage (`ukcov run --coverage`) on the emulated syscall, kcov off: {cov:.0f} ns, "
      f"{100 * (cov / off - 1):+.1f}% (target under 5%).\n")
print("Throughput of the emulated syscall with several guest threads (kcov off), syscalls per second:\n")
print("| guest threads | 1 worker (default here) | 2 workers |")
print("|---:|---:|---:|")
for threads, suffix in [(1, ""), (2, "/threads:2"), (4, "/threads:4")]:
    name = f"Emulated/kcov_off/real_time{suffix}"
    a = sentry.get(name, {}).get("items_per_second", float("nan"))
    b = sentry_w2.get(name, {}).get("items_per_second", float("nan"))
    print(f"| {threads} | {a / 1000:.0f}k | {b / 1000:.0f}k |")
print()
print("The sentry's own instructions per emulated syscall, between NOTIF_RECV and NOTIF_SEND "
      "(callgrind, marginal over 1,000 calls):\n")
print("| kcov | instructions |")
print("|---|---:|")
labels = {"off": "off", "pc": "TRACE_PC", "cmp": "TRACE_CMP", "run": "off, whole run's coverage on (`--coverage`)"}
for mode in ("off", "pc", "cmp", "run"):
    print(f"| {labels[mode]} | {(ir(mode, HI) - ir(mode, LO)) / (HI - LO):.0f} |")
