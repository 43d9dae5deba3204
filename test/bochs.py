#!/usr/bin/env python3
"""Mica under Bochs 2.7: scripted boots of the self-tests and the IPC suite,
and the `make bochs` debugger path.

run_bochs_checks(kernel, build_dir, results) builds its ISOs with
scripts/mkiso.sh (through harness.build_iso, so with the same modules as the
QEMU matrix), boots each one with scripts/bochs-test.sh (rfb display,
timeout=0, COM1 and port 0xE9 to files, ended by the guest's "Shutdown" on
port 0x8900), and parses the TAP with harness.parse_tap, so the TAP is read
exactly as the QEMU matrix reads it.  Bochs cannot report the guest's exit
code (it has no isa-debug-exit device): the verdict comes from the log alone.
Logs: build/test-logs/bochs/<case>.log, .e9.log, .bochs.log, .bochsrc.

Standalone: python3 test/bochs.py [--kernel build/mica.elf] [--build build];
the last line is "N passed, N failed".
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no test/__pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (parse_tap, build_iso, Results: one definition of each)

# Bochs 2.7 has no LA57: every boot uses 4-level paging.  The template's CPU
# (Ice Lake-U) has SMEP, SMAP and UMIP, so all protections must be on; another
# model (BOCHS_CPU=...) may lack them.
PROTECTION = "NX on, WP on" + ("" if os.environ.get("BOCHS_CPU") else ", SMEP on, SMAP on, UMIP on")
COMMON = [r"\[ OK \] paging: 4-level", r"\[ OK \] protection: " + PROTECTION]
CASES = [
    {"name": "selftest", "cmdline": "test=all", "marker": r"# ktest: passed=[0-9]+ failed=[0-9]+",
     "expect": [r"# ktest: passed=\d+ failed=0", r"\[ OK \] memory: free after sanitizing",
                r"\[ OK \] symbols: \d+ functions", r"\[ OK \] descriptor tables"]},
    {"name": "ipc", "cmdline": "test=ipc", "marker": r"# ipc: passed=[0-9]+ failed=[0-9]+", "min_tests": 90,
     "expect": [r"\[ OK \] init: running in ring 3", r"# ipc: passed=\d+ failed=0",
                r"ok \d+ - ipc/objects_back_to_baseline", r"\[ OK \] timer: local APIC"]},
]
BOOT_TIMEOUT = 60  # seconds per boot; each takes under 3 s here (docs/bochs.md)


def isolation():
    """A private network namespace for Bochs' VNC port, as bochs-test.sh does."""
    for cmd in (["unshare", "-n"], ["unshare", "-rn"]):
        if subprocess.run(cmd + ["true"], capture_output=True).returncode == 0:
            return cmd
    return []


def read_text(path):
    return open(path, "rb").read().decode("utf-8", "replace") if os.path.exists(path) else ""


def check_boot(case, iso, logdir, res):
    """Boot iso with scripts/bochs-test.sh and turn the log into results."""
    log = os.path.join(logdir, case["name"] + ".log")
    cmd = ["scripts/bochs-test.sh", iso, case["marker"], str(BOOT_TIMEOUT), log]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BOOT_TIMEOUT + 60)
        summary = (proc.stdout.strip().splitlines() or [""])[-1]
        status = proc.returncode
    except subprocess.TimeoutExpired:
        summary, status = "bochs-test.sh did not return", None
    secs = time.monotonic() - start
    text = read_text(log)
    e9text = read_text(log[:-len(".log")] + ".e9.log")

    tag = f"bochs/{case['name']}"
    problems = []
    if status != 0:
        problems.append(f"bochs-test.sh exit status {status}: {summary}")
    elif "guest shut down (port 0x8900)" not in summary:
        problems.append(f"the guest did not end Bochs through port 0x8900: {summary}")
    tests = harness.check_tap(tag, case, text, e9text, "port_e9_hack", res, problems)
    for pattern in COMMON + case["expect"]:
        if not re.search(pattern, text):
            problems.append(f"log lacks /{pattern}/")
    if re.search(r"\[FAIL\] (PANIC|exception)", text):
        problems.append("unexpected panic")
    res.add(f"{tag} (boot checks)", not problems, "; ".join(problems))
    print(f"boot: {'bochs':12} {case['name']:18} {'passed' if not problems else 'FAILED'} in {secs:5.1f} s "
          f"({len(tests)} TAP results)", flush=True)


def default_iso(kernel, out):
    """The image `make bochs` boots (build/mica.iso: no command line, init and
    the pager), but with GRUB's menu timeout 0 instead of 3 s, which would
    cost Bochs tens of seconds of busy guest time."""
    b = os.path.dirname(kernel)
    env = dict(os.environ)
    env.setdefault("MODULES", f"{b}/init.elf:init {b}/pager.elf:pager")
    subprocess.run(["scripts/mkiso.sh", kernel, out, "", "0"], check=True, env=env)
    return out


def check_debugger(kernel, iso, logdir, res):
    """The `make bochs` path, on the image it boots: scripts/bochs.sh with its
    symbol files stops at kmain, at init's main and at init:load_program by
    name (the breakpoints of docs/bochs.md's short session, which must be
    reached on this image), and shows names in the disassembly and the stack."""
    cmds = 'lb "kmain"; c; u /1; lb "init:main"; c; u /1; lb "init:load_program"; c; print-stack 1; q'
    env = dict(os.environ, BOCHS_CMDS=cmds, BOCHS_DISPLAY='rfb, options="timeout=0"')
    env.pop("DISPLAY", None)
    out = ""
    try:
        proc = subprocess.run(isolation() + ["scripts/bochs.sh", kernel, iso], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, env=env, timeout=60)
        out = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        partial = e.stdout or b""
        if isinstance(partial, bytes):
            partial = partial.decode("utf-8", "replace")
        out = partial + "\nbochs.sh timed out"
    os.makedirs(logdir, exist_ok=True)
    open(os.path.join(logdir, "debugger.log"), "w").write(out)
    ok = (re.search(r"Breakpoint 1, 0xffffffff[0-9a-f]{8} in", out) is not None
          and re.search(r"^ffffffff[0-9a-f]{8}: \( *kmain\+0\)", out, re.M) is not None
          and re.search(r"Breakpoint 2, 0x0000000000[0-9a-f]{6} in", out) is not None
          and re.search(r"^0000000000[0-9a-f]{6}: \( *init:main\+0\)", out, re.M) is not None
          and re.search(r"Breakpoint 3, 0x0000000000[0-9a-f]{6} in", out) is not None
          and re.search(r"\(init:load_program\+0\): push rbp", out) is not None
          and re.search(r"\| STACK 0x[0-9a-f]+ \[0x00000000:0x00[0-9a-f]{6}\] \(init:start_program\+[0-9a-f]+\)",
                        out) is not None)
    res.add("bochs/debugger-stops-at-kmain-init-main-and-load-program-by-name", ok, out[-800:])
    print(f"debug: bochs debugger {'stopped at kmain, init:main and init:load_program by name' if ok else 'FAILED'}"
          " (the make bochs image)", flush=True)


def run_bochs_checks(kernel, build_dir, results, select=lambda name: True):
    """Build the ISOs, boot test=all and test=ipc in Bochs, check the debugger
    path: each of bochs/selftest, bochs/ipc, bochs/debugger that select accepts."""
    cases = [c for c in CASES if select(f"bochs/{c['name']}")]
    debugger = select("bochs/debugger")
    if not cases and not debugger:
        return
    if shutil.which("bochs") is None:
        results.add("bochs/installed", False, "no bochs: apt-get install bochs bochsbios vgabios")
        return
    logdir = os.path.join(build_dir, "test-logs", "bochs")
    isodir = os.path.join(build_dir, "test-isos")
    os.makedirs(logdir, exist_ok=True)
    os.makedirs(isodir, exist_ok=True)
    isos = {}
    for case in CASES:
        if case in cases or (debugger and case["name"] == "ipc"):
            isos[case["name"]] = harness.build_iso(kernel, case["cmdline"],
                                                   os.path.join(isodir, f"bochs-{case['name']}.iso"))
    for case in cases:
        check_boot(case, isos[case["name"]], logdir, results)
    if debugger:
        check_debugger(kernel, default_iso(kernel, os.path.join(isodir, "bochs-default.iso")), logdir, results)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--kernel", default=None, help="default: BUILD/mica.elf")
    args = ap.parse_args()
    kernel = os.path.abspath(args.kernel or os.path.join(args.build, "mica.elf"))
    build = os.path.abspath(args.build)
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    res = harness.Results()
    start = time.monotonic()
    run_bochs_checks(kernel, build, res)
    return res.finish(start, f"{build}/test-logs/bochs/")


if __name__ == "__main__":
    sys.exit(main())
