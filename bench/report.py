#!/usr/bin/env python3
"""Tables for docs/performance.md from bench/run.sh's outputs."""
import json
import re
import sys
from pathlib import Path

out = Path(sys.argv[1])
# The two call counts bench/run.sh ran callgrind at (and the seed scan's).
LO, HI, SCAN_LO, SCAN_HI = (int(a) for a in sys.argv[2:6]) if len(sys.argv) >= 6 else (1000, 2000, 10, 20)
bench = json.loads((out / "engine.json").read_text())
median = {}
counters = {}
for b in bench["benchmarks"]:
    if b.get("aggregate_name") == "median":
        median[b["run_name"]] = b["real_time"]  # ns
        counters[b["run_name"]] = b


def ir(mode, calls):
    text = (out / f"cg.{mode}.{calls}").read_text()
    return int(re.search(r"^summary: (\d+)", text, re.M).group(1))


def ir_per_call(mode, lo, hi):
    return (ir(mode, hi) - ir(mode, lo)) / (hi - lo)


callbacks = counters["BM_Blocks/ukcov_pc"]["callbacks"]
seed_blocks = counters["BM_Blocks/seed_counters"]["callbacks"]
records = counters["BM_Blocks/ukcov_cmp"]["records"]
plain_ns = median["BM_Blocks/plain"]
plain_ir = ir_per_call("plain", LO, HI)

print(f"Machine: {bench['context'].get('num_cpus')} CPUs at {bench['context'].get('mhz_per_cpu')} MHz; "
      f"{bench['context'].get('date')}\n")
print(f"One call of the 256-block handler: {callbacks:.0f} coverage callbacks (ukcov), "
      f"{seed_blocks:.0f} counters (seed), {records:.0f} CMP records.\n")
print("| mode | ns per call (median) | ns per block over plain | instructions per block over plain | per block vs seed |")
print("|---|---:|---:|---:|---:|")
seed_block_ns = (median["BM_Blocks/seed_counters"] - plain_ns) / seed_blocks
for mode, label in [("plain", "not instrumented (baseline)"), ("ukcov_off", "ukcov, nothing enabled"),
                    ("ukcov_pc", "ukcov, TRACE_PC"), ("ukcov_cmp", "ukcov, TRACE_CMP"),
                    ("ukcov_unique", "ukcov, unique (steady state)"),
                    ("seed_counters", "seed: atomic counter per block")]:
    ns = median[f"BM_Blocks/{mode}"]
    blocks = seed_blocks if mode == "seed_counters" else callbacks
    per_block = (ns - plain_ns) / blocks
    per_block_ir = (ir_per_call(mode, LO, HI) - plain_ir) / blocks
    ratio = "" if mode == "plain" else f"{per_block / seed_block_ns:.2f}x"
    print(f"| {label} | {ns:.1f} | {'' if mode == 'plain' else f'{per_block:.2f}'} | "
          f"{'' if mode == 'plain' else f'{per_block_ir:.1f}'} | {ratio} |")

print()
print("Whole syscall of the handler, collection included (ukcov: enter + handler in TRACE_PC + leave; "
      "seed: handler with counters + scan of all N counters at return to user space):\n")
print("| design | N counters in the binary | ns per syscall (median) | instructions per syscall | ukcov is faster by |")
print("|---|---:|---:|---:|---:|")
ukcov_ns = median["BM_Syscall_Ukcov"]
ukcov_ir = ir_per_call("ukcov_pc", LO, HI)
print(f"| ukcov | any | {ukcov_ns:.0f} | {ukcov_ir:.0f} | |")
for n in (10000, 100000, 1000000):
    ns = median[f"BM_Syscall_Seed/{n}"]
    seed_ir = ir_per_call(f"seedscan:{n}", SCAN_LO, SCAN_HI)
    print(f"| seed | {n:,} | {ns:.0f} | {seed_ir:.0f} | {ns / ukcov_ns:.1f}x time, {seed_ir / ukcov_ir:.1f}x instructions |")
print()
print(f"enter + leave per syscall: {median['BM_EnterLeave/no_kcov']:.1f} ns for a task without kcov, "
      f"{median['BM_EnterLeave/kcov_pc']:.1f} ns with TRACE_PC enabled.")
