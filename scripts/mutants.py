#!/usr/bin/env python3
"""make mutants: put each deliberate bug of test/mutants.txt into a scratch
copy of the tree, build it, boot only the harness cases that must catch it,
and check that they do, by name.

A mutant is caught when the harness run fails AND at least one of its
directed checks is seen failing: a TAP result (`tap NAME`: a `not ok` line
whose name ends with NAME in the run's build/test-logs/tap/) or a log line
(`log REGEX`: found in a serial log of the run).  A run that fails only
some other way (a crash elsewhere, a timeout) is "side effect", not caught.
Prints a table and a score; exits 1 below 100%.  First the same cases boot
on an unchanged copy, which must pass: else a "catch" would mean nothing.

The scratch copies live in $TMPDIR/mica-mutants/<name> (removed after each
mutant unless --keep); the tree itself is never written.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Build outputs copied into each scratch copy (with their times), so only
# what the mutant touches is rebuilt.
BUILD_KEEP = ["k", "u", "gen", "badelf", "linker.ld", "user.ld", "mica.elf", "init.elf", "init-test.elf", "pager.elf",
              "echo.elf", "crasher.elf"]


class Mutant:
    def __init__(self, name):
        self.name = name
        self.file = None
        self.run = None
        self.catch = []  # ("tap", name) or ("log", regex)
        self.hunks = []  # (original, replacement)
        self.why = ""


def parse_list(path):
    """test/mutants.txt -> [Mutant].  Syntax in the file's header."""
    mutants, m = [], None
    lines = open(path).read().split("\n")
    i = 0

    def block(end_marks):
        nonlocal i
        out = []
        while i < len(lines) and lines[i] not in end_marks:
            out.append(lines[i])
            i += 1
        if i == len(lines):
            sys.exit(f"{path}: unterminated hunk in mutant {m.name}")
        return "\n".join(out)

    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word == "mutant":
            m = Mutant(rest.strip())
            mutants.append(m)
        elif m is None:
            sys.exit(f"{path}:{i}: '{word}' before any 'mutant' line")
        elif word == "file":
            m.file = rest.strip()
        elif word == "run":
            m.run = rest.strip()
        elif word == "why":
            m.why = rest.strip()
        elif word == "catch":
            kind, _, what = rest.strip().partition(" ")
            if kind not in ("tap", "log"):
                sys.exit(f"{path}:{i}: catch must be 'tap NAME' or 'log REGEX'")
            m.catch.append((kind, what.strip()))
        elif line == "<<<":
            old = block(["==="])
            i += 1
            new = block([">>>"])
            i += 1
            m.hunks.append((old, new))
        else:
            sys.exit(f"{path}:{i}: cannot parse: {line}")
    for m in mutants:
        if not (m.file and m.run and m.catch and m.hunks):
            sys.exit(f"{path}: mutant {m.name} needs file, run, catch and at least one hunk")
    return mutants


def tracked_files():
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.split("\n")
    return [f for f in out if f and not f.startswith("build/") and os.path.isfile(os.path.join(ROOT, f))]


def make_copy(dest, files, build):
    """The tree (and its build outputs, times kept) at dest."""
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    for f in files:
        os.makedirs(os.path.dirname(os.path.join(dest, f)) or dest, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, f), os.path.join(dest, f))
    for b in BUILD_KEEP:
        src = os.path.join(ROOT, build, b)
        dst = os.path.join(dest, "build", b)
        if os.path.isdir(src):
            shutil.copytree(src, dst, copy_function=shutil.copy2)
        elif os.path.isfile(src):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)


def apply(dest, m):
    """Apply every hunk (each original must occur exactly once); an error
    string, or None."""
    if not m.hunks:
        return None
    path = os.path.join(dest, m.file)
    text = open(path).read()
    for old, new in m.hunks:
        n = text.count(old)
        if n != 1:
            return f"original text found {n} times in {m.file}: {old.splitlines()[0].strip()!r}..."
        text = text.replace(old, new)
    open(path, "w").write(text)
    return None


def failed_tap(dest):
    """Names of every `not ok` result of the run."""
    names = []
    for tap in glob.glob(os.path.join(dest, "build", "test-logs", "tap", "**", "*.tap"), recursive=True):
        for line in open(tap, errors="replace"):
            mt = re.match(r"not ok \d+ - (.*)", line.rstrip("\n"))
            if mt:
                names.append(mt.group(1))
    return names


def logs_text(dest):
    text = []
    for log in glob.glob(os.path.join(dest, "build", "test-logs", "**", "*.log"), recursive=True):
        text.append(open(log, "rb").read().decode("utf-8", "replace"))
    return "\n".join(text)


def run_one(m, files, scratch, args):
    """(cases, caught_by, result) for one mutant."""
    dest = os.path.join(scratch, m.name)
    make_copy(dest, files, args.build)
    err = apply(dest, m)
    if err:
        return m.run, "", f"BROKEN: {err}"
    env = dict(os.environ)
    for v in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "CMDLINE", "MODULES", "T"):
        env.pop(v, None)
    log = os.path.join(scratch, f"{m.name}.out")
    with open(log, "w") as out:
        targets = ["build/mica.elf", "build/init.elf", "build/init-test.elf", "build/pager.elf", "build/echo.elf",
                   "build/crasher.elf"]
        build = subprocess.run(["make", "-j2"] + targets, cwd=dest, env=env, stdout=out, stderr=subprocess.STDOUT)
        if build.returncode != 0:
            return m.run, "", f"BROKEN: the mutant does not build ({log})"
        # make expands a command-line value: its $ must be doubled
        run = subprocess.run(["make", "test-boot", "T=" + m.run.replace("$", "$$")], cwd=dest, env=env, stdout=out,
                             stderr=subprocess.STDOUT)
    failed = failed_tap(dest)
    text = logs_text(dest)
    seen = []
    for kind, what in m.catch:
        if kind == "tap":
            # "bios-5level/ipc/ipc/fastpath/x" is shown as "ipc/fastpath/x"
            seen += [f.split("/", 2)[-1] for f in failed if f.endswith(what)]
        elif re.search(what, text):
            seen.append(f"log /{what}/")
    if not args.keep:
        shutil.rmtree(dest, ignore_errors=True)
    if run.returncode == 0:
        return m.run, "", "MISSED (all green)"
    if not seen:
        other = ", ".join(failed[:3]) or "no TAP failure"
        return m.run, "", f"SIDE EFFECT only ({other}; {log})"
    return m.run, ", ".join(seen), "caught"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", default=os.path.join(ROOT, "test", "mutants.txt"))
    ap.add_argument("--build", default="build", help="the tree's build directory (its outputs are reused)")
    ap.add_argument("--only", default="", metavar="REGEX", help="only the mutants whose name matches")
    ap.add_argument("--keep", action="store_true", help="keep each scratch copy")
    args = ap.parse_args()
    mutants = [m for m in parse_list(args.list) if re.search(args.only, m.name)]
    if not mutants:
        sys.exit(f"no mutant matches {args.only!r}")
    scratch = os.path.join(os.environ.get("TMPDIR") or tempfile.gettempdir(), "mica-mutants")
    os.makedirs(scratch, exist_ok=True)
    files = tracked_files()
    start = time.monotonic()
    base = Mutant("unchanged")
    base.run = "|".join(sorted({f"(?:{m.run})" for m in mutants}))
    _, _, result = run_one(base, files, scratch, args)
    if result != "MISSED (all green)":
        print(f"the unchanged tree does not pass T={base.run}: {result}")
        return 1
    print(f"unchanged tree: T={base.run} passes ({time.monotonic() - start:.0f} s)", flush=True)
    rows = []
    for m in mutants:
        t0 = time.monotonic()
        cases, by, result = run_one(m, files, scratch, args)
        rows.append((m.name, cases, by, result))
        print(f"mutant {m.name}: {result}" + (f" by {by}" if by else "") + f" ({time.monotonic() - t0:.0f} s)",
              flush=True)
    caught = sum(r[3] == "caught" for r in rows)
    print()
    print("| mutant | cases run (T=) | caught by | result |")
    print("|---|---|---|---|")
    for name, cases, by, result in rows:
        cell = [c.replace("|", "\\|") for c in (name, cases, by or "-", result)]  # markdown
        print(f"| {cell[0]} | `{cell[1]}` | {cell[2]} | {cell[3]} |")
    print()
    score = 100.0 * caught / len(rows)
    print(f"mutants: {caught} of {len(rows)} caught by a directed check ({score:.0f}%) in "
          f"{time.monotonic() - start:.0f} s")
    return 0 if caught == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
