#!/usr/bin/env python3
"""Mica's test harness: host unit tests, a short fuzz run, and the boot matrix.

Every boot is a grub-mkrescue ISO with its own kernel command line, booted
headless in QEMU with -device isa-debug-exit, a timeout, and its serial log
kept in build/test-logs/<row>/<case>.log.  The guest prints TAP; the harness
parses it and checks the log for what each case must show.  The same cases
run on every row of the matrix:

  bios-4level  SeaBIOS, a CPU without LA57      -> 4-level paging
  bios-5level  SeaBIOS, a CPU with LA57 (TCG)   -> 5-level paging
  uefi         OVMF (GRUB x86_64-efi), LA57 CPU -> 5-level paging
  kvm          -enable-kvm -cpu host, only when a probe boot passes

The last line is "N passed, N failed"; the exit status is 1 on any failure.
"""

import argparse
import concurrent.futures
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

EXIT_PASS = 33  # guest wrote 0x10 to the debug-exit port
EXIT_FAIL = 35  # guest wrote 0x11 (failed test or panic)
OVMF = "/usr/share/ovmf/OVMF.fd"
BOOT_TIMEOUT = 90  # seconds per boot; a TCG boot takes a few


class Results:
    """Collects named pass/fail results and prints them as they come.

    Each result belongs to a group (a boot, a host test binary, a fuzz
    target; by default the name up to " ("), and write_reports leaves one
    TAP file per group and one JUnit XML file for the whole run."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []
        self.results = []  # (group, name, ok, detail), in order
        self.checks = set()  # what each result checks, without the row or boot it ran on

    def add(self, name, ok, detail="", group=None, check=None):
        """check names what is checked when the same check runs on several
        rows or boots (a guest TAP name); by default the name itself."""
        ok = bool(ok)
        self.checks.add(check or name)
        self.results.append((group or name.split(" (")[0], name, ok, detail if not ok else ""))
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append((name, detail))
            print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)

    def groups(self):
        """{group: [(name, ok, detail)]}, groups in the order they came."""
        out = {}
        for group, name, ok, detail in self.results:
            out.setdefault(group, []).append((name, ok, detail))
        return out

    def write_reports(self, logdir):
        """logdir/tap/<group>.tap for each group and logdir/junit.xml for
        the run; the files of an earlier run are removed first."""
        tapdir = os.path.join(logdir, "tap")
        shutil.rmtree(tapdir, ignore_errors=True)
        junit = os.path.join(logdir, "junit.xml")
        root = ET.Element("testsuites", name="mica", tests=str(self.passed + self.failed),
                          failures=str(self.failed))
        for group, tests in self.groups().items():
            # "bios-5level/ipc" -> tap/bios-5level/ipc.tap, "host/test_elf" -> tap/host/test_elf.tap
            parts = [re.sub(r"[^\w.-]", "_", part).strip(".") or "_" for part in group.split("/")]
            path = os.path.join(tapdir, *parts) + ".tap"
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(f"1..{len(tests)}\n")
                for i, (name, ok, detail) in enumerate(tests, 1):
                    f.write(f"{'ok' if ok else 'not ok'} {i} - {name}\n")
                    for line in detail.splitlines()[-40:]:
                        f.write(f"# {line}\n")
            suite = ET.SubElement(root, "testsuite", name=xml_text(group), tests=str(len(tests)),
                                  failures=str(sum(not ok for _, ok, _ in tests)))
            for name, ok, detail in tests:
                case = ET.SubElement(suite, "testcase", classname=xml_text(group), name=xml_text(name))
                if not ok:
                    text = xml_text(detail)
                    failure = ET.SubElement(case, "failure", message=text.splitlines()[0][:300] if text else "failed")
                    failure.text = text
        os.makedirs(logdir, exist_ok=True)
        ET.ElementTree(root).write(junit, encoding="utf-8", xml_declaration=True)

    def finish(self, start, logs, reports=None):
        """Print the time since start, every failure and the summary line
        `make test` ends with (after writing the TAP and JUnit files into
        reports, when given); return the exit status."""
        if reports:
            self.write_reports(reports)
            logs += f"; TAP in {os.path.join(reports, 'tap')}/, JUnit XML in {os.path.join(reports, 'junit.xml')}"
        print(f"time: {time.monotonic() - start:.0f} s; logs in {logs}")
        for name, detail in self.failures:
            print(f"failed: {name}" + (f" -- {detail[:300]}" if detail else ""))
        print(f"checks: {self.passed + self.failed} results of {len(self.checks)} distinct checks "
              f"(a check run on several rows or boots counts once)")
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def xml_text(text):
    """text without the characters XML 1.0 cannot carry (a serial log's escapes)."""
    return re.sub(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "?", text)


# ---------------------------------------------------------------- host tests

TAP_LINE = re.compile(r"^(ok|not ok) (\d+) - (.*)$")


def run_host_tests(binaries, res, select=lambda name: True):
    """Run each host unit-test binary (host/<name> chosen by select) and count its TAP lines."""
    for binary in binaries:
        name = os.path.basename(binary)
        if not select(f"host/{name}"):
            continue
        try:
            proc = subprocess.run([binary], capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            res.add(f"host/{name}", False, "timed out")
            continue
        seen = bad = 0
        for line in proc.stdout.splitlines():
            m = TAP_LINE.match(line)
            if m:
                seen += 1
                bad += m.group(1) != "ok"
                res.add(f"host/{name}/{m.group(3)}", m.group(1) == "ok", group=f"host/{name}")
        # No TAP at all, or a crash (sanitizer report) after passing lines.
        if seen == 0 or (proc.returncode != 0 and bad == 0):
            res.add(f"host/{name}", False, f"exit {proc.returncode}, {seen} TAP lines\n{proc.stderr[-2000:]}")
        print(f"host: {name}: {seen} checks, exit {proc.returncode}", flush=True)


def run_fuzz_short(binaries, seconds, res, select=lambda name: True):
    """Run each libFuzzer target (fuzz/<name> chosen by select) briefly on a scratch copy of its corpus."""
    for binary in binaries:
        name = os.path.basename(binary)
        if not select(f"fuzz/{name}"):
            continue
        corpus = os.path.join("test", "fuzz", "corpus", name[len("fuzz_"):])
        with tempfile.TemporaryDirectory(prefix="mica-fuzz-") as tmp:
            work = os.path.join(tmp, "corpus")
            if os.path.isdir(corpus):
                shutil.copytree(corpus, work)
            else:
                os.makedirs(work)
            cmd = [binary, f"-max_total_time={seconds}", "-seed=1", "-print_final_stats=1",
                   f"-artifact_prefix={tmp}/", work]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
            execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", proc.stderr)
            ok = proc.returncode == 0
            detail = "" if ok else proc.stderr[-3000:]
            res.add(f"fuzz/{name} ({seconds} s)", ok, detail)
            print(f"fuzz: {name}: {execs.group(1) if execs else '?'} inputs in {seconds} s, "
                  f"exit {proc.returncode}", flush=True)


# ---------------------------------------------------------------- the Makefile

def make(build, *args, timeout=600):
    """Run make in this tree, apart from any make that runs the harness
    (its MAKEFLAGS, CMDLINE or MODULES must not leak in); return
    (status, output)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "CMDLINE", "MODULES")}
    proc = subprocess.run(["make", "--no-print-directory", f"BUILD={build}", *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


def iso_grub_cfg(iso):
    """The grub.cfg inside iso ("" if it cannot be read)."""
    with tempfile.TemporaryDirectory(prefix="mica-cfg-") as tmp:
        out = os.path.join(tmp, "grub.cfg")
        subprocess.run(["xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/boot/grub/grub.cfg", out],
                       capture_output=True)
        return open(out).read() if os.path.exists(out) else ""


def check_iso_inputs(build, res):
    """`make iso` follows its inputs: the kernel command line, the module
    list, every module's ELF, grub.cfg.in and mkiso.sh (on an ISO of its own,
    build/test-isos/inputs.iso, so build/mica.iso is left alone)."""
    iso = os.path.join(build, "test-isos", "inputs.iso")
    first = re.compile(r"multiboot2 /boot/mica\.elf ?(.*)")

    def made(*args):
        status, out = make(build, f"ISO={iso}", iso, *args)
        cfg = iso_grub_cfg(iso) if status == 0 else ""
        m = first.search(cfg)
        return status, out, (m.group(1).strip() if m else None), cfg

    status, out, line, _ = made("CMDLINE=paging=4 marker=one")
    ok = status == 0 and line == "paging=4 marker=one"
    status, out2, line2, _ = made("CMDLINE=marker=two")
    ok = ok and status == 0 and line2 == "marker=two"
    status, out3, line3, cfg = made()
    ok = ok and status == 0 and line3 == ""
    res.add("make/iso-follows-cmdline", ok,
            f"command lines in the ISO: {line!r}, {line2!r}, {line3!r} (wanted 'paging=4 marker=one', "
            f"'marker=two', ''); {(out + out2 + out3)[-600:]}", group="make/iso")
    status, out = make(build, f"ISO={iso}", "-q", iso)
    res.add("make/iso-up-to-date-when-unchanged", status == 0, f"make -q {iso}: status {status} {out[-300:]}", group="make/iso")
    # The crasher, a test fixture, is in no default image (servers/servers.list).
    mods = f"MODULES={build}/init.elf:init {build}/pager.elf:pager {build}/crasher.elf:crasher+crash=ok"
    status, out, _, cfg2 = made(mods)
    entries = len(re.findall(r"^\s*multiboot2 ", cfg2, re.M))  # not the word in grub.cfg's comments
    ok = (status == 0 and cfg.count("module2 /boot/crasher.elf") == 0 and entries > 0
          and cfg2.count("module2 /boot/crasher.elf") == entries)
    res.add("make/iso-follows-modules", ok, f"crasher.elf not in every entry after {mods}: {out[-600:]}",
            group="make/iso")
    # Each input, as if just changed (make -W): the ISO must be remade.
    stale = []
    for path in (f"{build}/mica.elf", f"{build}/init.elf", f"{build}/pager.elf", f"{build}/crasher.elf",
                 "grub/grub.cfg.in", "scripts/mkiso.sh", "servers/servers.list"):
        status, _ = make(build, f"ISO={iso}", mods, "-q", "-W", path, iso)
        if status != 1:
            stale.append(f"{path} (make -q status {status})")
    res.add("make/iso-follows-files", not stale, "ISO not remade after a change of " + ", ".join(stale), group="make/iso")
    print(f"make: the ISO follows CMDLINE, MODULES and its files: "
          f"{'ok' if not any(n.startswith('make/iso') for n, _ in res.failures) else 'FAILED'}", flush=True)


def check_make_help(build, res):
    """`make help` names every target of the Makefile's .PHONY list."""
    text = open("Makefile").read().replace("\\\n", " ")
    phony = re.search(r"^\.PHONY:(.*)$", text, re.M).group(1).split()
    status, out = make(build, "help")
    missing = [t for t in phony if not re.search(rf"^make {re.escape(t)}(?:\s|$)", out, re.M)]
    res.add("make/help-lists-every-target", status == 0 and phony and not missing,
            f"make help (status {status}) lacks: {' '.join(missing)}")


def check_make_run(build, res):
    """`make run` ends when Mica shuts down, with its status: success for
    test=all, failure (and a line saying so) for a deliberate fault."""
    iso = os.path.join(build, "test-isos", "run.iso")
    for cmdline, want in (("test=all", 0), ("test=fault:ud", 2)):
        start = time.monotonic()
        try:
            status, out = make(build, f"ISO={iso}", "run", f"CMDLINE={cmdline}", timeout=180)
        except subprocess.TimeoutExpired:
            status, out = None, "make run did not end within 180 s"
        said = "Mica shut down: success" if want == 0 else "Mica shut down: FAILURE"
        ok = status == want and said in out
        res.add(f"make/run-ends-on-shutdown ({cmdline})", ok, f"make status {status}, wanted {want}: {out[-600:]}",
                group="make/run")
        print(f"make: run CMDLINE={cmdline}: make status {status} in {time.monotonic() - start:.1f} s", flush=True)


# ---------------------------------------------------------------- boot matrix

class Row:
    def __init__(self, name, args, levels):
        self.name = name
        self.args = args
        self.levels = levels  # expected paging levels without paging=4, or None


def base_rows():
    common = ["-machine", "q35", "-m", "512M"]
    return [
        Row("bios-4level", common + ["-cpu", "max,la57=off"], 4),
        Row("bios-5level", common + ["-cpu", "max,la57=on"], 5),
        Row("uefi", common + ["-cpu", "max,la57=on", "-bios", OVMF], 5),
    ]


def kvm_row():
    # This machines' paravirtual KVM rejects the IA32_ARCH_CAPABILITIES MSR
    # that "-cpu host" makes QEMU write, so that one feature is turned off.
    # The paging mode follows the host CPU, so no level is expected.
    return Row("kvm", ["-machine", "q35,accel=kvm", "-m", "512M", "-cpu", "host,arch-capabilities=off"], None)


def fault(kind, *patterns):
    """A deliberate ring-0 fault case: exits with EXIT_FAIL and its dump matches patterns."""
    return {"name": f"fault-{kind}", "cmdline": f"test=fault:{kind}", "exit": EXIT_FAIL,
            "tap": False, "expect": list(patterns) + [r"backtrace:", r"#1 0x[0-9a-f]{16} \w+\+0x",
                                                       r"CR0 0x[0-9a-f]{16}  CR2 0x[0-9a-f]{16}  CR3",
                                                       r"CR4 0x[0-9a-f]{16}  EFER 0x[0-9a-f]{16}",
                                                       r"RAX 0x[0-9a-f]{16}  RBX", r"R15 0x[0-9a-f]{16}"]}


CASES = [
    {"name": "selftest", "cmdline": "test=all", "exit": EXIT_PASS, "tap": True,
     "expect": [r"\[ OK \] protection: NX on, WP on", r"\[ OK \] memory: free after sanitizing",
                r"\[ OK \] symbols: \d+ functions", r"\[ OK \] descriptor tables"],
     "paging": "row"},
    {"name": "paging4", "cmdline": "paging=4 test=all", "exit": EXIT_PASS, "tap": True,
     "expect": [r"\[ OK \] paging: 4-level"], "paging": 4},
    {"name": "ipc", "cmdline": "test=ipc", "exit": EXIT_PASS, "tap": True,
     "expect": [r"\[ OK \] init: running in ring 3", r"# ipc: passed=\d+ failed=0",
                r"ok \d+ - ipc/objects_back_to_baseline", r"\[ OK \] timer: local APIC"],
     "paging": "row", "min_tests": 90},
    {"name": "pager", "cmdline": "test=pager", "exit": EXIT_PASS, "tap": True,
     "expect": [r"\[ OK \] init: pager started; \d+ MiB", r"# every frame: \d+ frames .* 0 errors",
                r"# demand paging: 65536 pages \(256 MiB\)", r"# pager: passed=\d+ failed=0"],
     "paging": "row", "min_tests": 9},
    # The every-frame test again on a small machine.
    {"name": "pager-96m", "cmdline": "test=pager", "exit": EXIT_PASS, "tap": True, "qemu": ["-m", "96M"],
     "expect": [r"# every frame: \d+ frames .* 0 errors", r"# pager: passed=\d+ failed=0"], "min_tests": 9},
    {"name": "servers", "cmdline": "test=servers", "exit": EXIT_PASS, "tap": True, "modules": "SERVERS",
     "sha1_check": True, "min_tests": 28,
     "expect": [r"# servers: passed=\d+ failed=0",
                r"\[FAIL\] init: server \"crash-pf\" stopped: page fault at 0x7000000000 \(write, not present\), "
                r"rip 0x[0-9a-f]+ <\w+\+0x[0-9a-f]+>",
                r"\[FAIL\] init: server \"crash-ud\" stopped: invalid opcode \(vector 6",
                r"\[FAIL\] init: server \"crash-de\" stopped: divide error \(vector 0",
                r"\[FAIL\] init: module \"bad-wx\" refused: segment is both writable and executable",
                r"\[FAIL\] init: module \"echo-badsum\" refused: sha1 mismatch",
                r"\[FAIL\] init: server \"crash-again\" failed 3 times in 10 s: not restarted again",
                r"\[ OK \] init: started \"echo\" \(restart\)", r"\[INFO\] init: server \"crash-ok\" exited with code 0"]},
    # What a server gets (issue 17): the default image's servers (the hello
    # example pair) and rtcheck checking heap, quota, threads, limits and
    # restarts from inside a server.
    {"name": "runtime", "cmdline": "test=runtime", "exit": EXIT_PASS, "tap": True, "modules": "RUNTIME",
     "paging": "row", "min_tests": 9,
     "expect": [r"# runtime: passed=\d+ failed=0", r"\[ OK \] hello-client: every answer was right",
                r"hello-client: the server wrote into our shared page: \"Hello, Ada!\"",
                r"hello-client: server thread [01] waited for 3 names while thread [01] took them",
                r"# rtcheck rt-quota: quota=256 pages: \d+ blocks of 32 KiB, then malloc returned NULL",
                r"\[ OK \] init: started \"rt-restart\" \(restart\)",
                r"\[FAIL\] init: server \"rt-overflow\" stopped: page fault at 0x[0-9a-f]+ \(write, not present\), "
                r"rip 0x[0-9a-f]+ <recurse\+0x[0-9a-f]+>"],
     "reject": [r"\[WARN\] pager: client \d+: fault at 0x[0-9a-f]+ refused"]},
    # The ring-0 boundary (issue 16): RFLAGS, 32-bit code, SYSCALL at the top
    # of the user half for every call, FPU state, straddling buffers,
    # saturated timeouts, the last thread of a task.
    {"name": "hostile", "cmdline": "test=hostile", "exit": EXIT_PASS, "tap": True, "min_tests": 13,
     "expect": [r"# hostile: passed=\d+ failed=0", r"\[ OK \] FPU: x87, SSE",
                r"SYSCALL from 32-bit code\); task stopped",
                r"system call at the very top of the user half \(rip 0x[0-9a-f]+\); thread stopped"],
     "reject": [r"STRADDLE-MARKER"]},
    # The mapping database (issue 13): frames taken back from every task
    # that reached them (chains, fan-out, 2 MiB splits, task death), and
    # 20,000 random operations checked against a reference model.
    {"name": "mdb", "cmdline": "test=mdb", "exit": EXIT_PASS, "tap": True, "min_tests": 10,
     "expect": [r"# mdb: passed=\d+ failed=0", r"ok \d+ - mdb/model",
                r"# model: 20000 operations, seed 1: .*; 0 disagreements"]},
    # Kernel-memory quotas (issue 14): a greedy task spends its whole quota
    # every way while echo answers, a worker takes faults, a third task is
    # made and init restarts echo; then the pool is back page for page.
    {"name": "kmem", "cmdline": "test=kmem", "exit": EXIT_PASS, "tap": True, "min_tests": 6,
     "modules": "BUILD/init.elf:init BUILD/pager.elf:pager BUILD/echo.elf:echo+restart=on-failure",
     "expect": [r"# kmem: passed=\d+ failed=0", r"\[INFO\] init: kernel memory: \d+ pages given",
                r"kernel memory \(pages\): used / limit",
                r"\[WARN\] pager: client \d+: fault at 0x[0-9a-f]+ refused: its kernel-memory quota",
                r"\[ OK \] init: started \"echo\" \(restart\)"]},
    # The ring-3 system-call fuzzer: a short run (20,000 calls, a fixed seed).
    {"name": "sysfuzz", "cmdline": "test=sysfuzz fuzzseed=1 fuzzcalls=20000", "exit": EXIT_PASS, "tap": True,
     "expect": [r"# sysfuzz: seed=1 calls=\d+ passed=\d+ failed=0"], "min_tests": 25},
    {"name": "ipc-pit", "cmdline": "test=ipc timer=pit", "exit": EXIT_PASS, "tap": True,
     "expect": [r"\[ OK \] timer: PIT at 1000 Hz", r"# ipc: passed=\d+ failed=0"], "min_tests": 90},
    # A malformed first module: the kernel's own image (a W+X segment, and
    # linked in the kernel half) must be refused with a reason, not run.
    {"name": "bad-init", "cmdline": "test=ipc", "exit": EXIT_FAIL, "tap": False, "modules": "KERNEL:init",
     "expect": [r"\[FAIL\] init: module \"init\" is not a loadable ELF64 program: .+; not started",
                r"\[FAIL\] boot stopped"]},
    fault("null-write", r"\[FAIL\] exception #PF \(vector 14, page fault\) in ring 0",
          r"error 0x2: not-present, write, supervisor", r"CR2 0x0000000000000000 \(faulting address\)",
          r"RIP 0x[0-9a-f]{16} <fault_null_write\+0x[0-9a-f]+>"),
    fault("text-write", r"exception #PF", r"error 0x3: protection violation \(present\), write, supervisor",
          r"RIP 0x[0-9a-f]{16} <fault_text_write\+0x[0-9a-f]+>"),
    fault("nx-exec", r"exception #PF",
          r"error 0x11: protection violation \(present\), read, supervisor, instruction fetch",
          r"fault_nx_exec\+0x"),
    fault("ud", r"exception #UD \(vector 6, invalid opcode\)",
          r"RIP 0x[0-9a-f]{16} <fault_invalid_opcode\+0x[0-9a-f]+>"),
    fault("gp", r"exception #GP \(vector 13, general protection\)", r"error 0x0 \(no selector\)",
          r"RIP 0x[0-9a-f]{16} <fault_noncanonical\+0x[0-9a-f]+>"),
    fault("de", r"exception #DE \(vector 0, divide error\)",
          r"RIP 0x[0-9a-f]{16} <fault_divide\+0x[0-9a-f]+>"),
    fault("assert", r"\[FAIL\] PANIC at microkernel/kernel/ktest_fault\.c:\d+ in fault_assert\(\): "
          r"assertion failed: two \+ two == 5", r"fault_assert\+0x"),
]

# Torture boots, on one row only (they take time): memory sizes from 64 MiB
# to 8 GiB (frames above 4 GiB must be used), a hole cut out of RAM by GRUB
# that must never reach the free set, and the IPC suite under a 20 kHz timer.
ABOVE_4G = r"\n\s+0x0000000(?:[1-9a-f][0-9a-f]{8})-0x[0-9a-f]{16}\s+\d+ KiB  free"
TORTURE = [
    {"name": "mem-64m", "cmdline": "test=pager", "qemu": ["-m", "64M"],
     "expect": [r"# every frame: \d+ frames .* 0 errors"]},
    {"name": "mem-3g", "cmdline": "test=pager", "qemu": ["-m", "3G"],
     "expect": [r"# every frame: \d+ frames .* 0 errors", ABOVE_4G]},
    {"name": "mem-8g", "cmdline": "test=pager", "qemu": ["-m", "8G"], "timeout": 300,
     "expect": [r"# every frame: \d+ frames .* 0 errors", ABOVE_4G]},
    # GRUB loads the modules into RAM its own cutmem removed from the map:
    # they must still be readable (direct map) and never be freed.
    {"name": "cutmem-modules", "cmdline": "test=pager", "grub_pre": "cutmem 1280K 1G", "qemu": ["-m", "3G"],
     "expect": [r"# every frame: \d+ frames .* 0 errors", r"module 0: \[0x1[3-9a-f][0-9a-f]{3}"],
     "hole": (0x140000, 0x40000000)},
    # GRUB puts modules in the first free RAM it finds, just after the kernel;
    # a 1 GiB module of zeros (gzip: GRUB inflates it) loaded second pushes the
    # pager above 1 GiB, out of anything the boot stub maps.  init refuses the
    # ballast as a server (not ELF) and the system still verifies itself.
    # GRUB inflating 1 GiB under TCG takes most of a minute alone, more on a
    # loaded machine: this boot gets its own, longer timeout.
    {"name": "modules-high", "cmdline": "test=pager", "qemu": ["-m", "3G"], "timeout": 300,
     "modules": "BUILD/init.elf:init BALLAST:ballast BUILD/pager.elf:pager",
     "expect": [r"# every frame: \d+ frames .* 0 errors",
                r"module 2: \[0x(?:[4-9a-f][0-9a-f]{7}|[0-9a-f]{9,}), 0x[0-9a-f]+\) \"pager\"",
                r"init: module \"ballast\" refused: not an ELF file"]},
    {"name": "cutmem", "cmdline": "test=pager", "grub_pre": "cutmem 256M 260M",
     "expect": [r"# every frame: \d+ frames .* 0 errors"], "hole": (0x10000000, 0x10400000)},
    # The kernel bugs the fuzzer found, replayed (docs/testing.md).
    {"name": "fuzz-repro-1", "cmdline": "test=sysfuzz fuzzrepro=1", "expect": []},
    {"name": "fuzz-repro-2", "cmdline": "test=sysfuzz fuzzrepro=2", "expect": []},
    {"name": "fuzz-repro-3", "cmdline": "test=sysfuzz fuzzrepro=3", "expect": [r"ok \d+ - sysfuzz/objects_back_to_baseline"]},
    # Large machines (issue 15): the guest's RAM is a sparse file, which
    # grows only where the guest writes; the boot must touch at most 2 GiB
    # of it, reach ready, and log a map, a direct map and a pager count
    # that add up to the machine's size.  phys-bits=42: room above 256 GiB.
    {"name": "mem-64g", "cmdline": "test=bigmem", "sparse": "64G", "qemu": ["-cpu", "max,la57=on,phys-bits=42"],
     "timeout": 120, "expect": [r"# bigmem: pager total"]},
    {"name": "mem-256g", "cmdline": "test=bigmem", "sparse": "256G",
     "qemu": ["-cpu", "max,la57=on,phys-bits=42"], "timeout": 180, "expect": [r"# bigmem: pager total"]},
    {"name": "ipc-storm", "cmdline": "test=ipc timer_hz=20000",
     "expect": [r"tick of 50 us", r"# ipc: passed=\d+ failed=0"], "min_tests": 90},
]
for _t in TORTURE:
    _t.update({"exit": EXIT_PASS, "tap": True, "torture": True})
    _t.setdefault("expect", []).append(r"# \w+: .*passed=\d+ failed=0")

# CPUs that cannot run Mica: the boot stub must say why, on serial, and halt.
CPU_CHECKS = [
    ("cpu-no-long-mode", ["-machine", "q35", "-m", "512M", "-cpu", "qemu32"],
     r"\[FAIL\] boot: CPU lacks long mode"),
    ("cpu-no-nx", ["-machine", "q35", "-m", "512M", "-cpu", "qemu64,nx=off"],
     r"\[FAIL\] boot: CPU lacks NX"),
]


CRASHES = [("crash-pf", "pf-wild"), ("crash-null", "null"), ("crash-rodata", "rodata"), ("crash-nx", "nx"),
           ("crash-ud", "ud"), ("crash-gp", "gp-priv"), ("crash-noncanon", "gp-noncanon"), ("crash-de", "de"),
           ("crash-bp", "bp"), ("crash-stack", "stack"), ("crash-io", "io"), ("crash-ok", "ok")]
BAD_ELFS = [("bad-truncated", "truncated"), ("bad-magic", "bad_magic"), ("bad-class32", "class32"),
            ("bad-machine", "machine_aarch64"), ("bad-phdrs", "phdrs_past_end"), ("bad-filesz", "filesz_gt_memsz"),
            ("bad-overlap", "overlap"), ("bad-wx", "wx"), ("bad-kernel-half", "kernel_half"),
            ("bad-too-many", "too_many_phdrs")]


def iso_copy_sha1(path):
    """SHA-1 of a module as mkiso.sh puts it on the ISO (debug sections stripped)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "m")
        if subprocess.run(["objcopy", "--strip-debug", path, out], capture_output=True).returncode != 0:
            out = path
        return hashlib.sha1(open(out, "rb").read()).hexdigest()


def servers_modules(build):
    """The module list of the servers test: init, the pager, echo, a crasher
    per exception kind, malformed ELFs, and sha1 checks (FILE:words, '+' for spaces)."""
    b = build
    mods = [f"{b}/init-test.elf:init", f"{b}/pager.elf:pager", f"{b}/echo.elf:echo+restart=on-failure"]
    mods += [f"{b}/crasher.elf:{name}+crash={kind}" for name, kind in CRASHES]
    mods.append(f"{b}/crasher.elf:crash-again+crash=ud+restart=always+limit=2")
    mods += [f"{b}/badelf/{f}.elf:{name}" for name, f in BAD_ELFS]
    mods.append(f"{b}/badelf/valid.elf:good-tiny")
    mods.append(f"{b}/echo.elf:echo-badsum+sha1=" + "0" * 40)
    mods.append(f"{b}/echo.elf:echo-goodsum+sha1=" + iso_copy_sha1(f"{b}/echo.elf"))
    return " ".join(mods)


def runtime_modules(build):
    """The module list of the runtime test: the default image (IMAGE_MODULES,
    from servers/servers.list) and rtcheck under five names."""
    b = build
    image = os.environ.get("IMAGE_MODULES", f"{b}/init.elf:init {b}/pager.elf:pager")
    checks = [("rt-heap", "quota=20480+", "heap"), ("rt-quota", "quota=256+", "quota"),
              ("rt-threads", "", "threads"), ("rt-limits", "prio=30+", "limits"),
              ("rt-restart", "restart=on-failure+", "restart"), ("rt-overflow", "", "overflow")]
    return image + "".join(f" {b}/rtcheck.elf:{name}+{opts}--+{what}" for name, opts, what in checks)


def ballast(build):
    """build/ballast.gz: 1 GiB of zeros, gzip-compressed (1 MiB on the ISO;
    GRUB's module2 inflates it).  Made once, before any thread needs it
    (case_modules, main thread), under a private temporary name, so neither two threads
    nor two harness runs can trip over each other's half-written file."""
    path = os.path.join(build, "ballast.gz")
    if not os.path.exists(path):
        fd, tmp = tempfile.mkstemp(prefix="ballast.", suffix=".tmp", dir=build)
        try:
            with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as f:
                chunk = bytes(1 << 20)
                for _ in range(1024):
                    f.write(chunk)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    return path


def case_modules(kernel, modules):
    """The MODULES value for a case's "modules" entry (None: the default
    list).  Called in the main thread only: it may make build/ballast.gz and
    hashes files, so the thread pool never makes a shared file."""
    b = os.path.dirname(kernel)
    if modules is None:
        return os.environ.get("MODULES", f"{b}/init.elf:init {b}/pager.elf:pager")
    if modules == "SERVERS":
        return servers_modules(b)
    if modules == "RUNTIME":
        return runtime_modules(b)
    words = []
    for word in modules.split():
        word = word.replace("KERNEL", kernel).replace("BUILD", b)
        if word.startswith("BALLAST"):
            word = ballast(b) + word[len("BALLAST"):]
        words.append(word)
    return " ".join(words)


def test_image(modules, cmdline):
    """The module list a boot with cmdline needs: one with a test= or bench=
    word gets the test image (init-test.elf, beside init.elf: init's manager
    linked with the suites of test/guest/) as its init module; any other
    boot keeps the production init.elf (docs/testing.md)."""
    if not re.search(r"(^|\s)(test|bench)=", cmdline):
        return modules
    return " ".join(re.sub(r"(^|/)init\.elf(?=:)", r"\1init-test.elf", w) for w in modules.split())


def build_iso(kernel, cmdline, out, modules=None, grub_pre=None, production=False):
    """Make out with scripts/mkiso.sh.  modules is a MODULES value (see
    case_modules), the Makefile's list (or init and the pager) when None;
    a test= or bench= boot gets the test image unless production is set.
    Safe in a thread pool: it writes only out (through out.tmp) and a
    private temporary directory."""
    env = dict(os.environ)
    if grub_pre:
        env["GRUB_PRE"] = grub_pre
    env["MODULES"] = modules if modules is not None else case_modules(kernel, None)
    if not production:
        env["MODULES"] = test_image(env["MODULES"], cmdline)
    subprocess.run(["scripts/mkiso.sh", kernel, out, cmdline], check=True, env=env)
    return out


def boot(iso, row_args, log, e9log, timeout, stop_pattern=None):
    """Boot iso; return (exit status or None on timeout, serial text, seconds)."""
    os.makedirs(os.path.dirname(log), exist_ok=True)
    for f in (log, e9log):
        if os.path.exists(f):
            os.remove(f)
    cmd = ["qemu-system-x86_64", *row_args, "-cdrom", iso, "-display", "none", "-no-reboot",
           "-serial", f"file:{log}", "-debugcon", f"file:{e9log}",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-monitor", "none"]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    status = None
    while True:
        try:
            status = proc.wait(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            pass
        if stop_pattern and os.path.exists(log):
            with open(log, "rb") as f:
                if re.search(stop_pattern, f.read().decode("utf-8", "replace")):
                    proc.kill()
                    proc.wait()
                    status = "stopped"
                    break
        if time.monotonic() - start > timeout:
            proc.kill()
            proc.wait()
            break
    text = open(log, "rb").read().decode("utf-8", "replace") if os.path.exists(log) else ""
    return status, text, time.monotonic() - start, proc.stderr.read().decode("utf-8", "replace")


def parse_tap(text):
    """Return (plan, [(ok, name)]) from the guest's TAP."""
    plan = None
    tests = []
    for line in text.splitlines():
        line = line.strip("\r")
        m = re.match(r"^1\.\.(\d+)$", line)
        if m:
            plan = int(m.group(1))
        m = TAP_LINE.match(line)
        if m:
            tests.append((m.group(1) == "ok", m.group(3)))
    return plan, tests


def check_tap(tag, case, text, e9text, e9_device, res, problems):
    """Add each TAP result of the serial text to res; add to problems a plan
    that does not match, fewer results than case["min_tests"], or a port 0xE9
    log (written by e9_device) without the suite's summary line.  Return the
    results as parse_tap gives them."""
    plan, tests = parse_tap(text)
    if plan is None or plan == 0 or plan != len(tests):
        problems.append(f"TAP plan {plan} but {len(tests)} results")
    for ok, name in tests:
        res.add(f"{tag}/{name}", ok, group=tag, check=name)
    # The suites say "# running NAME" before each case: a case the boot
    # ended in (a kernel crash, a hang) fails by its own name.
    running = re.findall(r"^# running (\S+)\r?$", text, re.M)
    if running and running[-1] not in {name for _, name in tests}:
        name = running[-1]
        res.add(f"{tag}/{name}", False, "the boot ended during this case, before its result", group=tag,
                check=name)
    if case.get("min_tests") and len(tests) < case["min_tests"]:
        problems.append(f"only {len(tests)} TAP results, expected at least {case['min_tests']}")
    if not re.search(r"# \w+: .*passed=\d+", e9text):
        problems.append(f"port 0xE9 log lacks the TAP summary ({e9_device} output missing)")
    return tests


SPARSE_TOUCH_LIMIT = 2 << 30


def sparse_memory(size, path):
    """QEMU arguments for a guest of `size` whose RAM is the file at path."""
    return ["-m", size, "-object", f"memory-backend-file,id=m0,size={size},mem-path={path},share=on",
            "-machine", "memory-backend=m0"]


def check_big_memory(size, text, touched, problems):
    """The figures a large boot logs against the machine's size: the free
    set, the direct map, what init handed over and the pager's count."""
    mib = int(size[:-1]) << 10
    if touched is None or touched > SPARSE_TOUCH_LIMIT:
        problems.append(f"the boot touched {touched} bytes of the guest's memory (limit {SPARSE_TOUCH_LIMIT})")
    m = re.search(r"memory: free after sanitizing: \d+ ranges, (\d+) KiB", text)
    rows = sum(int(k) for k in re.findall(r"0x[0-9a-f]{16}-0x[0-9a-f]{16}\s+(\d+) KiB  free", text))
    free_mib = int(m.group(1)) >> 10 if m else 0
    if not m or rows != int(m.group(1)) or not mib - 128 <= free_mib < mib:
        problems.append(f"free set of {free_mib} MiB (rows {rows >> 10} MiB) does not fit a {size} machine")
    d = re.search(r"memory: direct map: (\d+) MiB of RAM", text)
    if not d or not mib - 128 <= int(d.group(1)) <= mib:
        problems.append(f"direct map of {d.group(1) if d else '?'} MiB does not fit a {size} machine")
    h = re.search(r"init: pager started; (\d+) MiB", text)
    p = re.search(r"# bigmem: pager total (\d+) frames", text)
    pager_mib = int(p.group(1)) >> 8 if p else 0
    # The kernel's pool (at most 64 MiB) and a few MiB of its own and init's.
    if not h or not p or abs(int(h.group(1)) - pager_mib) > 1 or not free_mib - 80 <= pager_mib <= free_mib:
        problems.append(f"pager holds {pager_mib} MiB, init handed {h.group(1) if h else '?'} MiB, "
                        f"free set {free_mib} MiB")


def check_case(row, case, status, text, e9text, res, touched=None):
    """Turn one boot's outcome into results."""
    tag = f"{row.name}/{case['name']}"
    problems = []
    if case.get("sparse"):
        check_big_memory(case["sparse"], text, touched, problems)
    if status is None:
        problems.append(f"timed out after {case.get('timeout', BOOT_TIMEOUT)} s")
    elif status != case["exit"]:
        problems.append(f"QEMU exit status {status}, expected {case['exit']}")
    if case.get("tap"):
        check_tap(tag, case, text, e9text, "debugcon", res, problems)
    for pattern in case["expect"]:
        if not re.search(pattern, text):
            problems.append(f"log lacks /{pattern}/")
    for pattern in case.get("reject", []):
        if re.search(pattern, text):
            problems.append(f"log shows /{pattern}/, which must never print")
    if case.get("hole"):
        # No free range may touch the hole GRUB cut out of RAM.
        lo, hi = case["hole"]
        for base, end in re.findall(r"0x([0-9a-f]{16})-0x([0-9a-f]{16})\s+\d+ KiB  free", text):
            if int(base, 16) < hi and lo < int(end, 16):
                problems.append(f"free range {base}-{end} overlaps the cut hole")
    if case.get("sha1_check"):
        # Every digest init logged equals the host's SHA-1 of the same file.
        files = {w.split(":", 1)[1].split("+")[0]: w.split(":", 1)[0]
                 for w in servers_modules(os.path.dirname(case_kernel)).split()}
        logged = re.findall(r'init: module "([\w-]+)" sha1=([0-9a-f]{40})', text)
        if len(logged) < 10:
            problems.append(f"only {len(logged)} module digests logged")
        if not {"init", "pager"} <= {name for name, _ in logged}:
            problems.append("the digests of init and the pager are not logged")
        for name, digest in logged:
            if name in files and iso_copy_sha1(files[name]) != digest:
                problems.append(f"module {name}: logged sha1 {digest} is not the host's")
    want = row.levels if case.get("paging") == "row" else case.get("paging")
    if want is not None and not re.search(rf"\[ OK \] paging: {want}-level", text):
        problems.append(f"log does not say {want}-level paging")
    if re.search(r"\[FAIL\] (PANIC|exception)", text) and case["exit"] == EXIT_PASS:
        problems.append("unexpected panic")
    res.add(f"{tag} (boot checks)", not problems, "; ".join(problems), check=f"{case['name']} (boot checks)")


def probe_kvm(iso, logdir):
    """Boot the user-space IPC suite once under KVM (it exercises ring 3,
    SYSCALL and the timer, not only the kernel's boot); return (usable, reason)."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "no usable /dev/kvm"
    row = kvm_row()
    status, text, secs, err = boot(iso, row.args, os.path.join(logdir, "kvm-probe.log"),
                                   os.path.join(logdir, "kvm-probe.e9.log"), 120)
    if status == EXIT_PASS:
        return True, f"probe boot (test=ipc) passed in {secs:.1f} s"
    fails = [l for l in text.splitlines() if l.startswith("[FAIL]")]
    why = fails[0] if fails else (err.strip().splitlines()[-1] if err.strip() else f"exit status {status}")
    return False, f"probe boot (test=ipc) failed after {secs:.0f} s: {why[:200]}"


def check_gdb(kernel, iso, logdir, res):
    """The `make debug` path: QEMU halted with its stub (on 127.0.0.1 only), GDB
    with scripts/gdbinit.in stops at kmain in the higher half, runs mica-regs,
    mica-cr3 and mica-walk there (5-level paging, before paging_levels is set)
    and reads kernel variables; then, with the
    helpers of scripts/gdb/mica.py, stops where init's first page fault goes to the
    pager and checks mica-current, mica-walk, mica-runq, mica-tasks and mica-user,
    and last stops in the pager, in ring 3, where that fault wakes it.  iso must
    start init with the pager (the ipc ISO)."""
    port = "12345"
    failed_before = res.failed
    os.makedirs(logdir, exist_ok=True)
    gdbinit = os.path.join(logdir, "gdbinit")
    with open("scripts/gdbinit.in") as f:
        open(gdbinit, "w").write(f.read().replace("@KERNEL@", kernel).replace("@PORT@", port)
                                 .replace("@SCRIPTS@", os.path.abspath("scripts")))
    # (section, command): each section's output is checked on its own.
    # At kmain (the first stop docs/debugging.md suggests), on this 5-level
    # boot, before the kernel has set paging_levels: mica-regs must name every
    # register GDB has (RFLAGS is "eflags" there), and mica-cr3 and mica-walk
    # must take the mode from CR4.LA57 and walk the boot page tables.
    steps = [("kmain", "thbreak kmain"), ("kmain", "continue"), ("kmain", "bt"),
             ("kmain-regs", "mica-regs"), ("kmain-cr3", "mica-cr3"), ("kmain-walk", "mica-walk &runq_bits"),
             ("ksym", "thbreak ksym_init"), ("ksym", "continue"), ("ksym", "print paging_levels"),
             ("ksym", "mica-cr3"),
             # An ISO without the pager would end at arch_emulator_exit: stop there, not at the timeout.
             ("fault", "hbreak arch_emulator_exit"),
             ("fault", "thbreak ipc_fault_to_pager"), ("fault", "continue"), ("current", "mica-current"),
             ("walk-rip", "mica-walk current->frame->rip"), ("walk-fault", "mica-walk addr"),
             ("walk-kernel", "mica-walk &runq_bits"),
             ("finish", "finish"), ("runq", "mica-runq"), ("tasks", "mica-tasks"),
             ("user", "mica-user pager"), ("pager", "mica-thread current->replier"),
             ("in-pager", "thbreak *current->replier->frame->rip"), ("in-pager", "continue"),
             ("in-pager", "mica-current"), ("in-pager", "print $cs & 3"), ("walk-pager", "mica-walk $rip"),
             ("end", "kill")]
    args = ["gdb", "-batch", "-nx", "-x", gdbinit]
    for section, command in steps:
        args += ["-ex", f"echo @@{section}\\n", "-ex", command]
    qemu = subprocess.Popen(["qemu-system-x86_64", "-machine", "q35", "-cpu", "max,la57=on", "-m", "512M",
                             "-cdrom", iso, "-display", "none", "-no-reboot", "-serial", "null",
                             "-monitor", "none", "-gdb", f"tcp:127.0.0.1:{port}", "-S"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = ""
    try:
        time.sleep(1)
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
        out = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired:
        out = "gdb timed out"
    finally:
        qemu.kill()
        qemu.wait()
    open(os.path.join(logdir, "gdb.log"), "w").write(out)
    part = {}
    for chunk in out.split("@@")[1:]:
        name, _, text = chunk.partition("\n")
        part[name] = part.get(name, "") + text

    def has(section, pattern):
        return re.search(pattern, part.get(section, ""))

    ok = (has("kmain", r"[Bb]reakpoint \d+, kmain \(") and has("ksym", r"[Bb]reakpoint \d+, ksym_init \(")
          and has("ksym", r"\$1 = 5") and has("ksym", "5-level paging"))
    res.add("debug/gdb-stops-at-kmain-and-reads-symbols", bool(ok), out[-600:])
    kwalk = has("kmain-walk", r"walk 0x(ffffffff8[0-9a-f]+) from root 0x[0-9a-f]+ \(5-level paging\)\n"
                              r"  PML5\[.*\n(?:.*\n)*  => physical 0x([0-9a-f]+) \(")
    ok = (has("kmain-regs", r"(?m)^eflags +0x[0-9a-f]+") and has("kmain-regs", r"(?m)^efer +0x[0-9a-f]+")
          and not has("kmain-regs", "Invalid register") and has("kmain-cr3", r"CR3 0x[0-9a-f]+, 5-level paging")
          and kwalk and int(kwalk.group(1), 16) - 0xffffffff80000000 == int(kwalk.group(2), 16))
    res.add("debug/gdb-at-kmain-mica-regs-cr3-walk-5level", bool(ok),
            "".join(part.get(k, "") for k in ("kmain-regs", "kmain-cr3", "kmain-walk"))[-900:])
    # mica-current: init's thread, its saved RIP named in init's symbols.
    cur = has("current", r'current: thread (\d+) of task 1 "init": runnable, priority \d+\n'
                         r"  user RIP 0x([0-9a-f]+) <init:\w+\+\d+>  RSP 0x[0-9a-f]+")
    ok = has("fault", r"[Bb]reakpoint \d+, ipc_fault_to_pager \(") and cur
    res.add("debug/gdb-mica-current", bool(ok), part.get("current", out[-600:]))
    # mica-walk: 5 levels; init's code user read-only exec; the faulting page absent;
    # a kernel variable at its image address less KERNEL_VMA, global.
    levels = r"  PML5\[.*\n  PML4\[.*\n  PDPT\[.*\n  PD  \[.*\n  PT  \[.*  P U"
    kvar = has("walk-kernel", r"walk 0x(ffffffff8[0-9a-f]+) from root .*\n(?:.*\n){4}.* P W .*G NX\n"
                              r"  => physical 0x([0-9a-f]+) \(4 KiB page, kernel read-write no-exec\)")
    ok = (cur and has("walk-rip", rf"walk 0x0*{cur.group(2)} from root 0x[0-9a-f]+ \(5-level paging\)\n"
                                  + levels + r".*\n  => physical 0x[0-9a-f]+ \(4 KiB page, user read-only exec\)")
          and has("walk-fault", r"not present\n  => not mapped") and kvar
          and int(kvar.group(1), 16) - 0xffffffff80000000 == int(kvar.group(2), 16))
    res.add("debug/gdb-mica-walk", bool(ok),
            "".join(part.get(k, "") for k in ("walk-rip", "walk-fault", "walk-kernel"))[-900:])
    # After the fault went to the pager: init waits, the pager's thread is queued.
    runq = has("runq", r"priority (\d+): 1 thread\(s\)\n    thread (\d+) of task (\d+) \"task\": "
                       r"runnable, priority \1")
    ok = (cur and runq and has("runq", rf'running: thread {cur.group(1)} of task 1 "init": fault-blocked')
          and has("tasks", rf'task {runq.group(3)} "task": .*; the pager of task 1'))
    res.add("debug/gdb-mica-runq-and-tasks", bool(ok), (part.get("runq", "") + part.get("tasks", ""))[-900:])
    # mica-user pager names the pager's addresses; its thread resumes in ring 3.
    ok = (runq and has("user", r"user symbols from \S*pager\.elf") and has("pager", r"<pager:main\+\d+>")
          and has("in-pager", rf'current: thread {runq.group(2)} of task {runq.group(3)} "task"')
          and has("in-pager", r"live RIP 0x[0-9a-f]+ <pager:\w+\+\d+>") and has("in-pager", r"\$\d+ = 3")
          and has("walk-pager", r"user read-only exec"))
    res.add("debug/gdb-mica-user-and-ring3-stop", bool(ok), (part.get("pager", "") + part.get("in-pager", ""))[-900:])
    failed = res.failed - failed_before
    print(f"debug: gdb through QEMU's stub: stops at kmain, at the first fault to the pager and in the pager, "
          f"helpers checked: {'ok' if failed == 0 else f'{failed} FAILED'}", flush=True)


case_kernel = "build/mica.elf"


def run_matrix(kernel, build, jobs, res, select=lambda name: True):
    """Boot every case select() accepts by name ("<row>/<case>", "bios/<CPU
    check>", "debug/gdb") and check it."""
    global case_kernel
    case_kernel = kernel
    logdir = os.path.join(build, "test-logs")
    isodir = os.path.join(build, "test-isos")
    os.makedirs(isodir, exist_ok=True)
    rows = base_rows()
    want_kvm = any(select(f"kvm/{c['name']}") for c in CASES)
    want_cpu = [c for c in CPU_CHECKS if select(f"bios/{c[0]}")]
    want_gdb = select("debug/gdb")
    jobs_list = [(r, c) for r in rows for c in CASES]
    jobs_list += [(rows[1], c) for c in TORTURE]  # bios-5level
    jobs_list = [(r, c) for r, c in jobs_list if select(f"{r.name}/{c['name']}")]
    if not (jobs_list or want_kvm or want_cpu or want_gdb):
        return
    # The ISOs of the selected cases, and those the KVM probe, the CPU checks
    # and GDB boot.  Everything the ISOs share (module lists, the ballast) is
    # made here, before the pool; the pool's threads each write their own ISO.
    needed = {c["name"] for _, c in jobs_list} | ({"ipc"} if want_kvm or want_gdb else set()) \
        | ({"selftest"} if want_cpu else set())
    specs = [(c["name"], c["cmdline"], case_modules(kernel, c.get("modules")), c.get("grub_pre"))
             for c in CASES + TORTURE if c["name"] in needed]
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        isos = dict(zip([name for name, _, _, _ in specs],
                        pool.map(lambda s: build_iso(kernel, s[1], os.path.join(isodir, s[0] + ".iso"), s[2], s[3]),
                                 specs)))
    kvm_ok, kvm_why = probe_kvm(isos["ipc"], logdir) if want_kvm else (False, "not selected")
    if kvm_ok:
        rows.append(kvm_row())
        jobs_list += [(rows[-1], c) for c in CASES if select(f"kvm/{c['name']}")]
    print(f"matrix: kvm row {'enabled' if kvm_ok else 'skipped'}: {kvm_why}", flush=True)

    def one(row, case):
        log = os.path.join(logdir, row.name, case["name"] + ".log")
        e9 = os.path.join(logdir, row.name, case["name"] + ".e9.log")
        os.makedirs(os.path.join(build, "test-mem"), exist_ok=True)
        # A sparse RAM file (deleted with its directory after the boot).
        with tempfile.TemporaryDirectory(prefix=case["name"] + "-", dir=os.path.join(build, "test-mem")) as tmp:
            ram = os.path.join(tmp, "ram")
            memory = sparse_memory(case["sparse"], ram) if case.get("sparse") else []
            status, text, secs, _ = boot(isos[case["name"]], row.args + case.get("qemu", []) + memory, log, e9,
                                         case.get("timeout", BOOT_TIMEOUT))
            touched = os.stat(ram).st_blocks * 512 if os.path.exists(ram) else None
        e9text = open(e9, "rb").read().decode("utf-8", "replace") if os.path.exists(e9) else ""
        return row, case, status, text, e9text, secs, touched

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for row, case, status, text, e9text, secs, touched in pool.map(lambda rc: one(*rc), jobs_list):
            check_case(row, case, status, text, e9text, res, touched)
            if case.get("sparse"):
                print(f"boot: {row.name:12} {case['name']:18} touched {(touched or 0) >> 20} MiB of its "
                      f"{case['sparse']}", flush=True)
            print(f"boot: {row.name:12} {case['name']:18} exit {status} in {secs:5.1f} s", flush=True)

    for name, args, pattern in want_cpu:
        log = os.path.join(logdir, "cpu", name + ".log")
        status, text, secs, _ = boot(isos["selftest"], args, log, log + ".e9", 60, stop_pattern=pattern)
        res.add(f"bios/{name}", status == "stopped", f"no /{pattern}/ within 60 s (status {status})")
        print(f"boot: {'bios':12} {name:18} {'refused with a reason' if status == 'stopped' else 'FAILED'} "
              f"in {secs:5.1f} s", flush=True)
    if want_gdb:
        check_gdb(kernel, isos["ipc"], logdir, res)
    ran = ", ".join(sorted({r.name for r, _ in jobs_list}, key=[r.name for r in rows].index))
    print(f"matrix: rows that ran: {ran or 'none'}" + ("" if kvm_ok else " (kvm skipped)"), flush=True)


# ---------------------------------------------------------------- bad input
# Boots with bad input: unknown command-line words and values, bad module
# options, a module list without the pager or with it first, too little
# RAM, wrong sha1= on init and the pager, a program flooding the log.  Each
# must name what is wrong exactly once, end the expected way, and keep the
# log short (docs/boot.md, docs/init.md).

def bad_input_cases(build):
    """The bad-input boots: name, cmdline, modules (FILE:words, BUILD for the
    build directory, '+' for spaces), memory, how the boot ends (an exit
    status, or a log pattern at which it is stopped: a kernel that halted or
    a system that goes on), patterns that must occur on exactly one line
    each, and patterns that must not occur."""
    std = "BUILD/init.elf:init BUILD/pager.elf:pager"
    init_sha, pager_sha = iso_copy_sha1(f"{build}/init.elf"), iso_copy_sha1(f"{build}/pager.elf")
    zeros = "0" * 40
    w = r"\[WARN\] command line: "
    return [
        {"name": "cmdline-bad-words", "cmdline": "paging=7 pagng=4 timer=foo timer_hz=5 break=init,nope fuzzrepro=1 "
         "fuzzrepro=2", "modules": std, "end": r"init: ready",
         "once": [w + r'"paging=7": "7" is not accepted \(paging= takes one of 4\); the word is ignored',
                  w + r'unknown word "pagng=4" ignored', w + r'"timer=foo": "foo" is not accepted',
                  w + r'"timer_hz=5": "5" is not accepted \(timer_hz= takes a number from 100 to 50000\)',
                  w + r'"break=init,nope": "nope" is not accepted .*that item is ignored',
                  w + r'"fuzzrepro=2" repeats fuzzrepro= and is ignored', r"\[ OK \] init: ready",
                  r"\[ OK \] timer: local APIC .* tick of 1000 us"],
         "absent": [r"\[FAIL\]"]},
        {"name": "cmdline-bad-test", "cmdline": "test=ipc,nonexistent", "modules": std, "end": EXIT_FAIL,
         "once": [w + r'"test=ipc,nonexistent": "nonexistent" is not accepted .*; the boot stops',
                  r"\[FAIL\] test: test= names an unknown suite; nothing is run", r"\[FAIL\] boot stopped"],
         "absent": [r"TAP version", r"init: running"]},
        {"name": "module-options", "cmdline": "", "end": r"init: up, but",
         "modules": std + " BUILD/echo.elf:e1+restrat=on-failure BUILD/echo.elf:e2+prio=99 BUILD/echo.elf:e3+quota=lots"
                          " BUILD/echo.elf:e4+limit=-1 BUILD/echo.elf:e5+prio=3+prio=4 BUILD/echo.elf:e6"
                          " BUILD/echo.elf:e6 BUILD/echo.elf:e7+quota=256+prio=30+restart=always+limit=2+window=5+kmem=64"
                          " BUILD/echo.elf:e8+kmem=1 BUILD/echo.elf:e9+kmem=1048576",
         "once": [r'\[FAIL\] init: module "e1": unknown option "restrat=on-failure"; not started',
                  r'\[FAIL\] init: module "e2": prio=99: not a number from 0 to 61; not started',
                  r'\[FAIL\] init: module "e3": quota=lots: not a number from 1 to \d+; not started',
                  r'\[FAIL\] init: module "e4": limit=-1: not a number from 0 to 8; not started',
                  r'\[FAIL\] init: module "e5": option "prio=4" given twice; not started',
                  r'\[FAIL\] init: module "e6": an earlier module has that name; not started',
                  r'\[ OK \] init: started "e6"', r'\[ OK \] init: started "e7"',
                  r'\[FAIL\] init: module "e8": kmem=1: not a number from 2 to 1048576; not started',
                  r'\[FAIL\] init: module "e9": kmem=1048576: init has \d+ pages of kernel memory left and keeps '
                  r'\d+ for restarts; not started',
                  r"\[WARN\] init: up, but 8 modules were refused or did not start"],
         "absent": [r"init: ready", r"status -\d"]},
        {"name": "no-pager", "cmdline": "", "modules": "BUILD/init.elf:init BUILD/pager.elf:pgr", "end": EXIT_FAIL,
         "once": [r'\[FAIL\] init: no module named "pager"', r"\[FAIL\] init: the system cannot go on; shutting down"],
         "absent": [r"init: ready", r"\[WARN\] pager", r'started "pgr"']},
        {"name": "pager-first", "cmdline": "", "modules": "BUILD/pager.elf:pager BUILD/init.elf:init",
         "end": r"boot stopped",
         "once": [r'\[FAIL\] init: the first module must be init, named "init" \(its line is "pager"\); not started'],
         "absent": [r"init: ready", r"\[WARN\] pager"]},
        # The pager started as an ordinary server cannot receive: one line, then it exits.
        # The crasher's "repeat" prints one line 12,345 times: the log counts them
        # (crash= is the test image's option for the crasher fixture).
        {"name": "pager-as-server-and-flood", "cmdline": "",
         "modules": "BUILD/init-test.elf:init BUILD/pager.elf:pager BUILD/pager.elf:pager2"
                    " BUILD/crasher.elf:chatty+crash=repeat",
         "end": r"(?s)(?=.*exited with code 2)(?=.*exited with code 3)",
         "once": [r'\[FAIL\] pager: cannot receive on handle \d+: MICA_ERIGHTS; the pager must be started by init',
                  r'\[INFO\] init: server "pager2" exited with code 2',
                  r"^\[WARN\] crasher: the same line again\r?$",
                  r"the same line again \[so far 10 times\]", r"the same line again \[so far 10000 times\]",
                  r"the same line again \[in all 12345 times\]", r'server "chatty" exited with code 3']},
        # The production init runs no tests: test= asks for the test image, in one line.
        {"name": "test-on-production-init", "cmdline": "test=ipc", "modules": std, "production": True,
         "end": EXIT_FAIL,
         "once": [r"\[FAIL\] init: test=ipc: this init has no in-guest tests; they are in the test image"],
         "absent": [r"TAP version", r"init: ready", r"pager started"]},
        # ... and crash= is an option of the test image only.
        {"name": "crash-option-on-production-init", "cmdline": "", "end": r"init: up, but",
         "modules": std + " BUILD/crasher.elf:c1+crash=ud",
         "once": [r'\[FAIL\] init: module "c1": unknown option "crash=ud"; not started'],
         "absent": [r"init: ready", r'started "c1"']},
        {"name": "mem-4m", "cmdline": "", "modules": std, "qemu": ["-m", "4M"], "end": r"boot stopped",
         "once": [r"\[FAIL\] memory: \d+ KiB free after sanitizing; Mica needs 4096 KiB free, about 6 MiB of RAM"],
         "absent": [r"init: ready", r"init: running"]},
        {"name": "mem-4m-test", "cmdline": "test=pager", "modules": std, "qemu": ["-m", "4M"], "end": EXIT_FAIL,
         "once": [r"\[FAIL\] memory: \d+ KiB free"], "absent": [r"init: running"]},
        # The documented minimum: 6 MiB boots to ready and hands the pager memory.
        {"name": "mem-6m", "cmdline": "", "modules": std, "qemu": ["-m", "6M"], "end": r"init: ready",
         "once": [r"\[ OK \] init: pager started; [1-9]\d* MiB", r"\[ OK \] init: ready"],
         "absent": [r"\[FAIL\]"]},
        {"name": "sha1-init-pager", "cmdline": "", "end": r"init: ready", "sha1_host": True,
         "modules": f"BUILD/init.elf:init+sha1={init_sha} BUILD/pager.elf:pager+sha1={pager_sha}",
         "once": [rf'\[INFO\] init: module "init" sha1={init_sha} \(\d+ bytes\)',
                  rf'\[INFO\] init: module "pager" sha1={pager_sha} \(\d+ bytes\)', r"\[ OK \] init: ready"],
         "absent": [r"\[FAIL\]"]},
        {"name": "sha1-bad-pager", "cmdline": "", "end": EXIT_FAIL,
         "modules": f"BUILD/init.elf:init BUILD/pager.elf:pager+sha1={zeros}",
         "once": [rf'\[FAIL\] init: module "pager" refused: sha1 mismatch \(expected {zeros}, got {pager_sha}\)',
                  r"\[FAIL\] init: the system cannot go on"],
         "absent": [r"init: ready", r"pager started"]},
        {"name": "sha1-bad-init", "cmdline": "", "end": EXIT_FAIL,
         "modules": f"BUILD/init.elf:init+sha1={zeros} BUILD/pager.elf:pager",
         "once": [rf'\[FAIL\] init: module "init" refused: sha1 mismatch \(expected {zeros}, got {init_sha}\)',
                  r"\[FAIL\] init: the system cannot go on"],
         "absent": [r"init: ready", r'module "pager" sha1=']},
    ]


def check_bad_input(case, status, text, build):
    """The problems of one bad-input boot (an empty list when it is right)."""
    problems = []
    end = case["end"]
    if isinstance(end, int) and status != end:
        problems.append(f"QEMU exit status {status}, expected {end}")
    if isinstance(end, str) and status != "stopped":
        problems.append(f"the log never matched /{end}/ (status {status})")
    lines = [l.rstrip("\r") for l in text.splitlines()]
    for pattern in case["once"]:
        n = sum(1 for l in lines if re.search(pattern, l))
        if n != 1:
            problems.append(f"/{pattern}/ on {n} lines, expected 1")
    for pattern in case.get("absent", []):
        if re.search(pattern, text, re.M):
            problems.append(f"log has /{pattern}/")
    # No flood: no log line twice in a row more than twice, and a short log.
    counts = {}
    for l in lines:
        if l.startswith("["):
            counts[l] = counts.get(l, 0) + 1
    worst = max(counts.items(), key=lambda kv: kv[1], default=("", 0))
    if worst[1] > 2:
        problems.append(f"{worst[1]} copies of {worst[0][:80]!r}")
    if len(lines) > 150:
        problems.append(f"{len(lines)} log lines")
    if case.get("sha1_host"):
        # The digests of init and the pager are those of the files on the ISO.
        for name in ("init", "pager"):
            m = re.search(rf'init: module "{name}" sha1=([0-9a-f]{{40}})', text)
            if not m or m.group(1) != iso_copy_sha1(f"{build}/{name}.elf"):
                problems.append(f"module {name}: logged sha1 missing or not the host's")
    return problems


def check_cmdline_doc(res):
    """docs/boot.md's command-line table has exactly the keys of libbase/cmdline.c."""
    code = set(re.findall(r'^\s*\{\s*"(\w+)",\s*CMDLINE_', open("libbase/cmdline.c").read(), re.M))
    doc = open("docs/boot.md").read()
    doc = doc[doc.index("## Kernel command line"):]
    doc = doc[:doc.index("\n## ", 3)] if "\n## " in doc[3:] else doc
    documented = set(re.findall(r"^\| `(\w+)=", doc, re.M))
    res.add("docs/boot.md lists every command-line word of libbase/cmdline.c", code == documented and bool(code),
            f"only in the code: {sorted(code - documented)}; only in the docs: {sorted(documented - code)}")


def run_bad_input(kernel, build, jobs, res):
    """Boot every bad-input case once, on the bios-5level row."""
    check_cmdline_doc(res)
    row = base_rows()[1]
    logdir = os.path.join(build, "test-logs", "bad-input")
    isodir = os.path.join(build, "test-isos")
    os.makedirs(isodir, exist_ok=True)
    cases = bad_input_cases(build)
    # Module lists resolved here, in the main thread (case_modules may make
    # shared files); the pool only builds each case's own ISO.
    mods = {case["name"]: case_modules(kernel, case.get("modules")) for case in cases}

    def one(case):
        iso = build_iso(kernel, case["cmdline"], os.path.join(isodir, f"bad-{case['name']}.iso"), mods[case["name"]],
                        production=case.get("production", False))
        log = os.path.join(logdir, case["name"] + ".log")
        stop = case["end"] if isinstance(case["end"], str) else None
        status, text, secs, _ = boot(iso, row.args + case.get("qemu", []), log, log + ".e9", 60, stop_pattern=stop)
        return case, status, text, secs

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for case, status, text, secs in pool.map(one, cases):
            problems = check_bad_input(case, status, text, build)
            res.add(f"bad-input/{case['name']}", not problems, "; ".join(problems))
            print(f"boot: {'bad-input':12} {case['name']:26} {'ok' if not problems else 'FAILED'} in {secs:5.1f} s",
                  flush=True)


# ---------------------------------------------------------------- screen


def run_screen_checks(kernel, build, res):
    """The screen console (test/screen.py): the ready line on the VGA text
    screen of a BIOS boot and on the framebuffer of a UEFI boot."""
    from screen import run_screen_checks as screen_checks
    rows = {r.name: r for r in base_rows()}
    screen_checks(kernel, build, res, rows["bios-5level"].args, rows["uefi"].args)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--kernel", help="the kernel (needed unless --no-boot)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--host", nargs="*", default=[])
    ap.add_argument("--fuzz", nargs="*", default=[])
    ap.add_argument("--fuzz-seconds", type=int, default=int(os.environ.get("FUZZ_SHORT_SECONDS", "20")))
    ap.add_argument("--no-boot", action="store_true", help="host tests and fuzz runs only: no QEMU, no Bochs")
    ap.add_argument("--only", default="", metavar="REGEX",
                    help="run only what REGEX finds (re.search) in its name: host/test_elf, fuzz/fuzz_elf, "
                         "make/iso, make/help, make/run, bios-5level/ipc, bios/cpu-no-nx, debug/gdb, bochs/selftest, ...")
    args = ap.parse_args()
    if not args.no_boot and not args.kernel:
        ap.error("--kernel is needed unless --no-boot")
    try:
        only = re.compile(args.only)
    except re.error as e:
        ap.error(f"--only {args.only!r}: {e}")
    chosen = set()

    def select(name):
        if only.search(name):
            chosen.add(name)
            return True
        return False

    res = Results()
    start = time.monotonic()
    run_host_tests(args.host, res, select)
    run_fuzz_short(args.fuzz, args.fuzz_seconds, res, select)
    if not args.no_boot:
        if select("make/iso"):
            check_iso_inputs(args.build, res)
        if select("make/help"):
            check_make_help(args.build, res)
        if select("make/run"):
            check_make_run(args.build, res)
        run_matrix(args.kernel, args.build, args.jobs, res, select)
        if select("bad-input/"):
            run_bad_input(args.kernel, args.build, args.jobs, res)
        from bochs import run_bochs_checks  # test/bochs.py: test=all, test=ipc and the debugger under Bochs 2.7
        run_bochs_checks(args.kernel, args.build, res, select)
        if select("screen/"):
            run_screen_checks(args.kernel, args.build, res)
    if not chosen:
        print(f"no test name matches {args.only!r} (names: host/test_*, fuzz/fuzz_*, make/iso, make/help, make/run, "
              f"<row>/<case>, bios/cpu-*, bad-input/, debug/gdb, bochs/*, screen/)")
        return 1
    return res.finish(start, f"{args.build}/test-logs/", reports=os.path.join(args.build, "test-logs"))


if __name__ == "__main__":
    sys.exit(main())
