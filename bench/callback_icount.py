#!/usr/bin/env python3
"""Instructions of the coverage callback alone, per call (callgrind).

Runs bench_icount (the 256-block handler) under callgrind in each mode and
counts the instructions executed inside the callback the compiler emitted
calls to (clang: __sanitizer_cov_trace_pc_guard; gcc: __sanitizer_cov_trace_pc),
from its first instruction to its `ret`, divided by the calls to it. Unique
mode's less common path is a separate function (GuardRare) and is counted
with it. Usage: callback_icount.py BIN_DIR [--check] [--out DIR]
--check fails unless nothing enabled is <= 5 and TRACE_PC <= 18 (issue 12).
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from callgrind_self import self_cost  # noqa: E402

CALLBACKS = ("__sanitizer_cov_trace_pc_guard", "__sanitizer_cov_trace_pc")
RARE = "ukcov::engine::(anonymous namespace)::GuardRare"
MODES = [("ukcov_off", "nothing enabled"), ("ukcov_pc", "TRACE_PC"),
         ("ukcov_unique", "unique (steady state)"), ("ukcov_cmp", "TRACE_CMP (the PC callback only)"),
         ("ukcov_run", "the whole run's coverage (`ukcov run --coverage`), no kcov")]
TARGETS = {"ukcov_off": 5, "ukcov_pc": 18}


def measure(bin_dir, out_dir, mode, calls=200):
    path = os.path.join(out_dir, f"cg.callback.{mode}")
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={path}",
                    os.path.join(bin_dir, "bench_icount"), mode, str(calls)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    self_ir, n = self_cost(path)
    name = next((c for c in CALLBACKS if n.get(c)), None)
    if name is None:
        sys.exit(f"{mode}: no call to {' or '.join(CALLBACKS)} in {path}")
    rare = next((v for k, v in self_ir.items() if k.startswith(RARE)), 0)
    return name, n[name], (self_ir.get(name, 0) + rare) / n[name]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ukcov-callback.") as scratch:
        return report(args, args.out or scratch)


def report(args, out):
    failed = []
    rows = []
    for mode, label in MODES:
        try:
            name, calls, per_call = measure(args.bin_dir, out, mode)
        except subprocess.CalledProcessError:
            if mode != "ukcov_unique":
                raise
            # gcc has no trace-pc-guard, so no guard numbers: unique mode is
            # ENOTSUPP there, and the benchmark's set-up aborts.
            rows.append((label, "(none: no guards in this build)", 0, None, None))
            continue
        target = TARGETS.get(mode)
        rows.append((label, name, calls, per_call, target))
        if target is not None and per_call > target:
            failed.append(f"{label}: {per_call:.2f} instructions per call, target {target}")
    print("| mode | callback | calls | instructions per call | target |")
    print("|---|---|---:|---:|---:|")
    for label, name, calls, per_call, target in rows:
        ir = "" if per_call is None else f"{per_call:.2f}"
        print(f"| {label} | `{name}` | {calls} | {ir} | {'' if target is None else f'<= {target}'} |")
    if args.check and failed:
        print("\n".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
