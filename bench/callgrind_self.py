#!/usr/bin/env python3
"""Self instructions per call of one function, from a callgrind output file.

callgrind_annotate shows a function's self cost but not how often it was
called; the file has both: cost lines under `fn=` are the function's own,
except the line after each `calls=`, which is the inclusive cost of a call
it makes; `cfn=` + `calls=` count the calls to a function.
Usage: callgrind_self.py FILE NAME... (prints NAME calls instructions/call).
"""
import re
import sys

_ID = re.compile(r"\((\d+)\)(?: (.*))?$")


def self_cost(path):
    names = {}
    self_ir, calls = {}, {}
    fn = callee = None
    after_calls = False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith(("fn=", "cfn=")):
                key, rest = line.split("=", 1)
                m = _ID.match(rest)
                if m:
                    if m.group(2):
                        names[m.group(1)] = m.group(2)
                    name = names.get(m.group(1), rest)
                else:
                    name = rest
                if key == "fn":
                    fn = name
                else:
                    callee = name
            elif line.startswith("calls="):
                calls[callee] = calls.get(callee, 0) + int(line[6:].split()[0])
                after_calls = True
            elif line and (line[0].isdigit() or line[0] in "+-*"):
                if after_calls:
                    after_calls = False
                    continue
                parts = line.split()
                if len(parts) >= 2 and fn is not None:
                    self_ir[fn] = self_ir.get(fn, 0) + int(parts[1])
    return self_ir, calls


def per_call(path, name):
    """(calls, self instructions per call) of `name`, or (0, None)."""
    self_ir, calls = self_cost(path)
    n = calls.get(name, 0)
    return n, (self_ir.get(name, 0) / n if n else None)


if __name__ == "__main__":
    for name in sys.argv[2:]:
        n, ir = per_call(sys.argv[1], name)
        print(name, n, "-" if ir is None else f"{ir:.2f}")
