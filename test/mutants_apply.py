#!/usr/bin/env python3
"""Host check (TAP): every mutant of test/mutants.txt still applies to the
tree, i.e. each hunk's original text occurs exactly once in its file.  A
refactoring that moves the code a mutant names would otherwise leave
`make mutants` broken until its next run; this runs in every `make test`."""

import importlib.util
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    spec = importlib.util.spec_from_file_location("mutants", os.path.join(ROOT, "scripts", "mutants.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mutants = mod.parse_list(os.path.join(ROOT, "test", "mutants.txt"))
    print(f"1..{len(mutants)}")
    bad = 0
    for n, mu in enumerate(mutants, 1):
        d = mu if isinstance(mu, dict) else vars(mu)
        text = open(os.path.join(ROOT, d["file"])).read()
        hunks = d.get("hunks") or d.get("edits")
        counts = [text.count(h[0]) for h in hunks]
        ok = bool(hunks) and all(c == 1 for c in counts)
        bad += not ok
        print(f"{'ok' if ok else 'not ok'} {n} - mutants/{d['name']} applies to {d['file']}")
        if not ok:
            print(f"# original text found {counts} times (each must be once)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
