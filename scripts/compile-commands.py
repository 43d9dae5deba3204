#!/usr/bin/env python3
"""Write compile_commands.json (for clangd and other editors) from the
Makefile's own flags: no build is traced, so it is true whatever is built.

usage: compile-commands.py --out FILE --build DIR
           --group "COMPILER FLAGS..." OBJDIR SOURCE... [--group ...]

Each --group gives one compile command (the Makefile's variables, already
expanded) and the sources it compiles; OBJDIR is where their objects go
(DIR/k for the kernel's, DIR/u for user programs', ...).  A source listed in
two groups keeps the first (libbase/ is compiled for the kernel and for user
programs; the kernel's flags are the stricter).
"""

import json
import os
import shlex
import sys


def parse(argv):
    out = None
    groups = []
    i = 0
    while i < len(argv):
        if argv[i] == "--out":
            out = argv[i + 1]
            i += 2
        elif argv[i] == "--group":
            groups.append((shlex.split(argv[i + 1]), argv[i + 2], []))
            i += 3
        elif groups:
            groups[-1][2].append(argv[i])
            i += 1
        else:
            sys.exit(f"compile-commands.py: unexpected {argv[i]!r} (see the usage in its header)")
    if out is None or not groups:
        sys.exit("compile-commands.py: need --out and at least one --group")
    return out, groups


def main():
    out, groups = parse(sys.argv[1:])
    top = os.getcwd()
    entries = []
    seen = set()
    for command, objdir, sources in groups:
        for src in sources:
            if src in seen:
                continue
            seen.add(src)
            obj = os.path.join(objdir, os.path.splitext(src)[0] + ".o")
            entries.append({"directory": top, "file": src, "arguments": command + ["-c", src, "-o", obj]})
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(entries, f, indent=1)
        f.write("\n")
    os.replace(tmp, out)
    print(f"compile_commands.json: {len(entries)} files")


if __name__ == "__main__":
    main()
