#!/usr/bin/env python3
"""make bench: boot the benchmark image (bench=ipc) in QEMU and print Mica's
figures beside seL4's and Linux's.

Mode icount (the reference): TCG with -icount shift=0,align=off, where the
guest's rdtsc counts retired guest instructions, so every figure is exact
and repeatable.  Mode tcg: plain TCG, rdtsc is host time (noisy; shown for
scale only).  Mode kvm is skipped, with the reason printed.

Peers, both measured in the same QEMU under -icount, both in this tree:
  seL4   bench/peers/sel4.tsv (measured once, carried as data; origin in
         bench/peers/README.md);
  Linux  bench/linux/peer.py (boots a stock Debian kernel with bench.c as
         its init; about 30 s, plus a kernel download the first time).  Its
         output is kept in <out>/linux.txt and reused by the next run: under
         -icount its figures do not change.  The environment variable
         LINUX_PEER chooses: unset or "auto" = use the cache when it is
         complete and was made by the same peer.py and bench.c, else run the
         peer; "rerun" = run the peer again; "skip" = no Linux column.

Writes <out>/bench.md (Markdown tables and notes), <out>/bench.png (a bar
chart, through gnuplot and scripts/bench-chart.gp), and prints a summary.
A peer whose figures are missing is said once; the chart then shows Mica's
own figures.  The exit status is non-zero when Mica's reference boot or the
chart fails.
"""

import argparse
import datetime
import hashlib
import os
import re
import signal
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The rows of bench/peers/sel4.tsv that name Mica figures.
SEL4_FIGURES = ("ipc_call_xas", "ipc_reply_recv_xas", "ipc_call_sas", "ipc_reply_recv_sas", "map_page",
                "protect_page")
TARGETS = {"ipc_roundtrip_xas": 320, "ipc_call_xas": 150, "map_page": 520, "pager_fault": 1150,
           "mdb_bytes_per_mapping": 24}
# Taking back n derived mappings may cost n unmaps plus a constant (issue 13).
REVOKE_TARGET = {"unmap_revoke_1": 1, "unmap_revoke_8": 8, "unmap_revoke_64": 64}
REVOKE_CONSTANT = 300
# Targets relative to another figure: (that figure, the largest ratio).
RATIO_TARGETS = {"boot_to_ready_8g": ("boot_to_ready_512m", 1.2), "boot_to_ready_64g": ("boot_to_ready_512m", 1.5)}
BENCH = re.compile(r"^BENCH name=(\S+) unit=(\S+) min=(\d+) median=(\d+) max=(\d+) samples=(\d+)(.*)$")

# Mica figure -> the Linux figures it is compared with, in table order:
# (Linux figure, short label for the chart, the row's qualifier when a Mica
# figure has more than one comparator: it then gets one row per comparator).
LINUX_COMPARATORS = {
    "null_syscall": [("null_syscall", "getppid", None)],
    "ipc_roundtrip_xas": [("futex_pingpong_rt_procs", "futex, 2 procs", None)],
    "ipc_roundtrip_xas_4w": [("futex_pingpong_rt_procs", "futex, 2 procs", None)],
    "ipc_roundtrip_sas": [("futex_pingpong_rt_threads", "futex, 2 threads", None)],
    "pager_fault": [("uffd_zeropage_rt_thread", "uffd zero page", "vs user-space pager"),
                    ("anon_fault_write", "anon fault, clears", "vs in-kernel fault")],
}
LINUX_NEEDED = sorted({c[0] for comps in LINUX_COMPARATORS.values() for c in comps})
LINUX_MODES = "tcg-icount tcg kvm"
LINUX_TIMEOUT = 600  # each boot of peer.py has its own cap (150 s); this is the backstop
LINUX_BENCH = re.compile(r"^PEER mode=(\S+) name=(\S+) median=(\d+) min=(\d+) samples=(\d+)")
LINUX_FAIL = re.compile(r'^PEER-FAIL mode=(\S+) reason="([^"]*)"(?: after=(\S+))?')
SEL4_DATA = os.path.join(ROOT, "bench", "peers", "sel4.tsv")
LINUX_PEER_DIR = os.path.join(ROOT, "bench", "linux")


def sel4_figures(path):
    """Figures from the seL4 data file (key TAB guest instructions TAB what):
    {Mica figure: guest instructions}, with the derived round trips and
    pager_fault.  Empty when the file is missing or unreadable."""
    try:
        text = open(path).read()
    except OSError:
        return {}
    rows = {}
    for line in text.splitlines():
        cells = line.split("\t")
        if line.startswith("#") or len(cells) < 2 or not cells[1].strip().isdigit():
            continue
        rows[cells[0].strip()] = int(cells[1])
    figs = {k: rows[k] for k in SEL4_FIGURES if k in rows}
    for kind in ("xas", "sas"):
        a, b = figs.get(f"ipc_call_{kind}"), figs.get(f"ipc_reply_recv_{kind}")
        if a and b:
            figs[f"ipc_roundtrip_{kind}"] = a + b
    # A fault served by a user-level handler, which must also map the page.
    if rows.get("fault_roundtrip") and figs.get("map_page"):
        figs["pager_fault"] = rows["fault_roundtrip"] + figs["map_page"]
    return figs


def run_boot(kernel, modules, mode, timeout, suite="ipc", memory=None):
    """Boot once in `mode`; return the BENCH lines' fields and the log.
    memory: QEMU's memory arguments (512 MiB of ordinary RAM when None)."""
    unit = "instructions" if mode == "icount" else "cycles"
    with tempfile.TemporaryDirectory(prefix="mica-bench-") as tmp:
        iso = os.path.join(tmp, "bench.iso")
        env = dict(os.environ, MODULES=modules)
        subprocess.run(["scripts/mkiso.sh", kernel, iso, f"bench={suite} benchunit={unit}"], check=True, env=env)
        log = os.path.join(tmp, "serial.log")
        accel = ["-icount", "shift=0,align=off"] if mode == "icount" else []
        cmd = ["qemu-system-x86_64", "-machine", "q35", "-cpu", "max", *(memory or ["-m", "512M"]), *accel,
               "-cdrom", iso,
               "-display", "none", "-no-reboot", "-serial", f"file:{log}", "-monitor", "none",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        try:
            proc = subprocess.run(cmd, timeout=timeout, capture_output=True)
            status = proc.returncode
        except subprocess.TimeoutExpired:
            status = None
        text = open(log, "rb").read().decode("utf-8", "replace") if os.path.exists(log) else ""
    figures = {}
    for line in text.splitlines():
        m = BENCH.match(line.strip())
        if m:
            figures[m.group(1)] = {"unit": m.group(2), "min": int(m.group(3)), "median": int(m.group(4)),
                                   "max": int(m.group(5)), "samples": int(m.group(6)), "note": m.group(7).strip()}
    return status, figures, text


# boot_to_ready at these sizes (bench=boot): QEMU's -m value, figure suffix.
# The large guests run on a sparse file, which grows only where the guest
# writes: its allocated size after the boot is the memory the boot touched.
BOOT_SIZES = [("512M", "512m"), ("8G", "8g"), ("64G", "64g")]
BOOT_TOUCH_LIMIT = 2 << 30


def sparse_memory(size, path):
    """QEMU arguments for a guest of `size` whose RAM is the file at path."""
    return ["-m", size, "-object", f"memory-backend-file,id=m0,size={size},mem-path={path},share=on",
            "-machine", "memory-backend=m0"]


def boot_sizes(kernel, modules, out):
    """boot_to_ready_<size> for each of BOOT_SIZES under -icount, with the
    memory each boot touched; returns (figures, problems)."""
    figs, problems = {}, []
    for size, suffix in BOOT_SIZES:
        with tempfile.TemporaryDirectory(prefix="mica-bench-mem-", dir=out) as tmp:
            ram = os.path.join(tmp, "ram")
            memory = sparse_memory(size, ram) if size != "512M" else None
            status, f, text = run_boot(kernel, modules, "icount", 300, suite="boot", memory=memory)
            touched = os.stat(ram).st_blocks * 512 if os.path.exists(ram) else None
        open(os.path.join(out, f"serial-boot-{suffix}.log"), "w").write(text)
        if status != 33 or "boot_to_ready" not in f:
            problems.append(f"the {size} boot failed (exit status {status}); see {out}/serial-boot-{suffix}.log")
            continue
        fig = f["boot_to_ready"]
        if touched is not None:
            fig["note"] = f"(kmain to init's ready line; {touched >> 20} MiB of the guest's {size} touched)"
            if touched > BOOT_TOUCH_LIMIT:
                problems.append(f"the {size} boot touched {touched >> 20} MiB of guest memory (limit 2048)")
        figs[f"boot_to_ready_{suffix}"] = fig
    return figs, problems


def kvm_skip_reason():
    """Why Mica's kvm mode is not run on this machine."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "no usable /dev/kvm on this machine"
    if os.path.isdir("/sys/module/kvm_pvm"):
        return ("/dev/kvm here is kvm_pvm (paravirtual, no VT-x), which does not deliver SYSCALL from ring 3 "
                "to ring 0: Mica's first system call arrives at LSTAR still in ring 3 (docs/testing.md), so no "
                "user-space figure can be taken")
    return ("make bench measures under TCG only (KVM figures would be host cycles, not comparable with the "
            "peers' instruction counts); on this project's machines KVM does not deliver SYSCALL from ring 3 "
            "(docs/testing.md)")


# ---------------------------------------------------------------- Linux peer

def sha256_of(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def parse_linux(text):
    """peer.py output -> {"figures": {mode: {name: (median, min)}},
    "fails": {mode: (reason, after, [detail lines])}, "info": {key: value},
    "header": {key: value} (our cache header)}."""
    res = {"figures": {}, "fails": {}, "info": {}, "header": {}}
    last_fail = None
    for raw in text.splitlines():
        line = raw.rstrip()
        m = LINUX_BENCH.match(line)
        if m:
            res["figures"].setdefault(m.group(1), {})[m.group(2)] = (int(m.group(3)), int(m.group(4)))
            last_fail = None
            continue
        m = LINUX_FAIL.match(line)
        if m:
            res["fails"][m.group(1)] = (m.group(2), m.group(3), [])
            last_fail = m.group(1)
            continue
        if line.startswith("#   ") and last_fail:
            res["fails"][last_fail][2].append(line[4:].strip())
            continue
        last_fail = None
        m = re.match(r'^PEER-INFO mode=(?:tcg-icount|all) (\w+)="?(.*?)"?$', line)
        if m:
            res["info"][m.group(1)] = m.group(2)
        m = re.match(r"^# bench\.py: (\S+)=(.*)$", line)
        if m:
            res["header"][m.group(1)] = m.group(2)
    return res


def linux_complete(parsed):
    """True when the tcg-icount run gave every figure the table uses."""
    icount = parsed["figures"].get("tcg-icount", {})
    return all(name in icount for name in LINUX_NEEDED)


def _stream(proc, lines):
    """Collect the peer's output in `lines`; show its progress, failures and
    anything unexpected (the figures themselves go to the cache)."""
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        s = line.rstrip()
        if s.startswith("# [") and "] qemu-system" in s:
            print(f"  linux| {s.split(' qemu-system')[0]} booting", flush=True)
        elif s.startswith(("PEER-FAIL", "PEER-SKIP", "#   ", "# [", "# kernel", "# total", "# downloading")) or \
                not s.startswith(("PEER", "#")):
            print(f"  linux| {s}", flush=True)


def run_linux_peer(peer_dir, cache, failed_path, work):
    """Run the peer's peer.py; stream its progress; return (parsed, seconds) or
    (None, seconds) when it failed (the output then goes to failed_path)."""
    script = os.path.join(peer_dir, "peer.py")
    print(f"bench: running the Linux peer ({os.path.relpath(script, ROOT)}, modes {LINUX_MODES}; "
          "about 30 s, more the first time: it downloads the kernel package)", flush=True)
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, script, "--work", work, "--modes", LINUX_MODES],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                            errors="replace", start_new_session=True)
    timed_out = []

    def stop():
        timed_out.append(True)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # peer.py's own group: it and its QEMU
        except ProcessLookupError:
            pass
    timer = threading.Timer(LINUX_TIMEOUT, stop)
    timer.start()
    lines = []
    try:
        _stream(proc, lines)
    except KeyboardInterrupt:
        stop()  # its own session gets no ^C from the terminal: stop it here
        proc.wait()
        timer.cancel()
        raise
    status = proc.wait()
    timer.cancel()
    secs = time.time() - t0
    header = [f"# bench.py: date={datetime.datetime.now().isoformat(timespec='seconds')}",
              f"# bench.py: command={script} --work {work} --modes '{LINUX_MODES}'",
              f"# bench.py: peer_py_sha256={sha256_of(script)}",
              f"# bench.py: bench_c_sha256={sha256_of(os.path.join(peer_dir, 'bench.c'))}",
              f"# bench.py: exit_status={status}",
              f"# bench.py: seconds={secs:.0f}"]
    text = "\n".join(header + lines) + "\n"
    parsed = parse_linux(text)
    if timed_out or not linux_complete(parsed):
        open(failed_path, "w").write(text)
        why = (f"stopped after {LINUX_TIMEOUT} s" if timed_out else
               f"exit status {status}; its tcg-icount run gave "
               f"{len(parsed['figures'].get('tcg-icount', {}))} of the {len(LINUX_NEEDED)} figures used")
        print(f"bench: Linux peer FAILED ({why}); its output is in {failed_path}")
        fail = parsed["fails"].get("tcg-icount")
        if fail:
            print(f"bench:   tcg-icount: {fail[0]}" + "".join(f"; {d}" for d in fail[2]))
        return None, secs
    open(cache, "w").write(text)
    if os.path.exists(failed_path):
        os.remove(failed_path)
    return parsed, secs


def linux_peer(peer_dir, out):
    """The Linux peer's parsed output, from the cache or a fresh run, or None.
    Returns (parsed, where) where `where` says where the figures came from."""
    choice = os.environ.get("LINUX_PEER", "auto").strip().lower() or "auto"
    cache = os.path.join(out, "linux.txt")
    failed = os.path.join(out, "linux-failed.txt")
    if choice == "skip":
        print("bench: Linux peer skipped (LINUX_PEER=skip)")
        return None, "skipped (LINUX_PEER=skip)"
    if choice not in ("auto", "rerun"):
        print(f"bench: LINUX_PEER={choice} not understood (auto, rerun or skip); Linux peer skipped")
        return None, f"skipped (LINUX_PEER={choice} not understood)"
    script = os.path.join(peer_dir, "peer.py")
    if not os.path.isfile(script) or not os.path.isfile(os.path.join(peer_dir, "bench.c")):
        print(f"bench: no Linux figures: {script} or its bench.c not found")
        return None, f"{script} not found"
    if choice == "auto" and os.path.exists(cache):
        parsed = parse_linux(open(cache, errors="replace").read())
        hdr = parsed["header"]
        same = (hdr.get("peer_py_sha256") == sha256_of(script) and
                hdr.get("bench_c_sha256") == sha256_of(os.path.join(peer_dir, "bench.c")))
        if same and linux_complete(parsed):
            print(f"bench: Linux peer: cached figures from {cache} ({hdr.get('date', '?')}); "
                  f"LINUX_PEER=rerun runs it again")
            return parsed, f"cached in {cache}, run of {hdr.get('date', '?')}"
        why = "peer.py or bench.c changed since" if not same else "incomplete"
        print(f"bench: Linux peer: the cache {cache} is {why}; running it again")
    parsed, secs = run_linux_peer(peer_dir, cache, failed, os.path.join(out, "linux-peer"))
    if parsed is None:
        return None, f"the peer failed (output in {failed})"
    print(f"bench: Linux peer done in {secs:.0f} s; output cached in {cache}")
    return parsed, f"run now ({secs:.0f} s), cached in {cache}"


def linux_kvm_outcome(parsed):
    """One line on what the Linux peer's KVM boot did."""
    if parsed is None:
        return None
    kvm_figs = parsed["figures"].get("kvm")
    if kvm_figs:
        return f"ran ({len(kvm_figs)} figures, host TSC ticks; not used: Mica cannot run under this KVM)"
    fail = parsed["fails"].get("kvm")
    if fail:
        reason, after, detail = fail
        s = f'failed: reason "{reason}"' + (f" after {after}" if after else "")
        if detail:
            s += ": " + "; ".join(detail)
        if any("MSR 0x10a" in d for d in detail):
            s += (" (0x10a is IA32_ARCH_CAPABILITIES: this paravirtual KVM refuses it under -cpu host, so QEMU "
                  "aborts before the guest runs; Mica's test harness gets the same and boots KVM with "
                  "arch-capabilities=off)")
        return s
    return "not run"


# ---------------------------------------------------------------- the table

def fmt_target(name, value, ref=None):
    if name in RATIO_TARGETS and ref and RATIO_TARGETS[name][0] in ref:
        base, ratio = RATIO_TARGETS[name]
        have = value / ref[base]["median"]
        return f"≤ {ratio} × {base}: {'met' if have <= ratio else 'missed'} ({have:.3f})"
    tgt = TARGETS.get(name)
    if not tgt:
        return ""
    return f"≤ {tgt}: met" if value <= tgt else f"≤ {tgt}: missed by {value - tgt}"


def build_rows(ref, sel4, linux):
    """One row per (Mica figure, Linux comparator); figures without a Linux
    comparator get one row.  Each row: dict with the cells' values."""
    icount = linux["figures"].get("tcg-icount", {}) if linux else {}
    # bench.c subtracts its own counter-read cost, as Mica and seL4 do.
    timer = linux["info"].get("timer_overhead", "?") if linux else None
    rows = []
    for name, f in ref.items():
        comps = LINUX_COMPARATORS.get(name) if icount else None
        for lname, short, qual in comps or [(None, None, None)]:
            row = {"name": name, "label": f"{name} ({qual})" if qual else name, "mica": f["median"],
                   "sel4": sel4.get(name), "linux": None, "linux_name": lname, "linux_short": short,
                   "linux_raw": None, "note": f["note"]}
            if lname and lname in icount:
                row["linux_raw"] = icount[lname][0]
                row["linux"] = icount[lname][0]
            peers = [(v, who) for v, who in ((row["sel4"], "seL4"), (row["linux"], "Linux")) if v]
            if peers:
                best, who = min(peers)
                row["best"], row["best_who"] = best, who
                row["ratio"] = f["median"] / best
            rows.append(row)
    return rows, timer


def markdown_table(rows, ref=None):
    lines = ["| figure | Mica | seL4 | Linux (comparator) | Mica / best peer | target |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        linux = f"{r['linux']} ({r['linux_name']})" if r["linux"] is not None else ""
        ratio = ""
        if "ratio" in r:
            ratio = f"{r['ratio']:.{2 if r['ratio'] >= 0.1 else 3}f} ({r['best_who']})"
        lines.append(f"| {r['label']} | {r['mica']} | {r['sel4'] or ''} | {linux} | {ratio} | "
                     f"{fmt_target(r['name'], r['mica'], ref)} |")
    return "\n".join(lines)


def tcg_table(ref, tcg, linux):
    ltcg = linux["figures"].get("tcg", {}) if linux else {}
    lines = ["| figure | Mica, median | Linux (comparator), median / min |", "|---|---|---|"]
    for name in ref:
        comps = LINUX_COMPARATORS.get(name) if linux else None
        for lname, _, qual in comps or [(None, None, None)]:
            m = tcg.get(name)
            lf = ltcg.get(lname) if lname else None
            lines.append(f"| {f'{name} ({qual})' if qual else name} | {m['median'] if m else ''} | "
                         f"{f'{lf[0]} / {lf[1]} ({lname})' if lf else ''} |")
    return "\n".join(lines)


def notes(rows, ref, linux, timer, where, mica_kvm, linux_kvm, sel4_found=True):
    icount = linux["figures"].get("tcg-icount", {}) if linux else {}
    n = ["Notes:",
         "- All figures are guest instructions under QEMU TCG `-icount shift=0` (medians), the same for every run.",
         "- seL4: `bench/peers/sel4.tsv` (sel4bench in the same QEMU; origin in bench/peers/README.md); its "
         "round trips are Call + ReplyRecv and its pager_fault is its fault round trip plus one map."
         if sel4_found else "- seL4: no figures (`bench/peers/sel4.tsv` not found or not readable)."]
    if linux:
        n.append(f"- Linux: `bench/linux/peer.py` (stock Debian kernel "
                 f"{linux['info'].get('package', linux['info'].get('kernel', '?'))}), its `tcg-icount` boot; "
                 f"{where}. Each figure is the median of many, net of the peer's own counter-read cost "
                 f"(timer_overhead = {timer} instructions), as Mica's and seL4's are; the lines are in linux.txt.")
        other = [f"{k} {icount[k][0]}" for k in ("pipe_pingpong_rt", "eventfd_pingpong_rt")
                 if k in icount]
        if other:
            n.append("- IPC round trips are compared with `futex_pingpong_rt_procs` (a FUTEX_WAKE + FUTEX_WAIT "
                     "ping-pong between two processes, the cross-address-space comparator; "
                     "`futex_pingpong_rt_threads` for the same-space one). Linux's other cross-process round "
                     f"trips, which also move a byte or a counter: {', '.join(other)}.")
        if "anon_fault_write" in icount:
            n.append("- pager_fault is compared twice: with `uffd_zeropage_rt_thread` (Linux's own user-space "
                     "pager: a handler thread reads the userfaultfd and answers UFFDIO_ZEROPAGE) and with "
                     "`anon_fault_write` (the in-kernel anonymous fault). The latter **includes clearing the "
                     "page** (clear_page_erms: `rep stosb`, 4096 iterations, each counted once under -icount); "
                     "Mica's pager_fault takes a frame cleared ahead of time (when it was freed, or by the pager's "
                     "clearing thread), so it has no clearing; pager_fault_cold = "
                     f"{ref.get('pager_fault_cold', {}).get('median', '?')} is the fault that clears a never-used "
                     f"frame itself (page_clear = {ref.get('page_clear', {}).get('median', '?')}).")
        if "uffd_copy_rt_process" in icount:
            n.append(f"- For a pager in its own process Linux has only UFFDIO_COPY (copies 4 KiB): "
                     f"uffd_copy_rt_process {icount['uffd_copy_rt_process'][0]}.")
    else:
        n.append(f"- Linux: no figures ({where}).")
    n.append("- Mica / best peer: Mica's figure over the lower of the seL4 and Linux figures; below 1 means "
             "fewer instructions than the best peer.")
    n.append(f"- KVM: Mica not run ({mica_kvm})." +
             (f" Linux peer under KVM: {linux_kvm}." if linux_kvm else ""))
    return "\n".join(n)


def chart(rows, out, gp=None):
    """Bar chart of the rows that have a peer figure, or of every Mica figure
    (but boot_to_init) when no row has one.  Returns (PNG path, None) or
    (None, why it failed)."""
    gp = gp or os.path.join(ROOT, "scripts", "bench-chart.gp")
    if not shutil.which("gnuplot"):
        return None, "gnuplot not found (scripts/deps.sh installs gnuplot-nox)"
    with_peer = [r for r in rows if r["sel4"] is not None or r["linux"] is not None]
    shown = with_peer or [r for r in rows if not r["name"].startswith("boot_to_")]
    if not shown:
        return None, "no figure to chart"
    dat = os.path.join(out, "chart.dat")
    with open(dat, "w") as fh:
        for r in shown:
            label = r["name"] + (f"  (Linux: {r['linux_short']})" if r["linux"] is not None else "")
            fh.write("\t".join([label, str(r["mica"]), str(r["sel4"] or "-"),
                                str(r["linux"] if r["linux"] is not None else "-")]) + "\n")
    png = os.path.join(out, "bench.png")
    has_sel4 = any(r["sel4"] is not None for r in shown)
    has_linux = any(r["linux"] is not None for r in shown)
    sub = "; ".join(["seL4: sel4bench" if has_sel4 else "no seL4 figures",
                     "Linux: stock Debian kernel, its tcg-icount run, the comparator named beside each figure"
                     if has_linux else "no Linux figures"])
    if os.path.exists(png):
        os.remove(png)  # a failed run must not leave the last good chart looking new
    res = subprocess.run(["gnuplot", "-c", gp, dat, png, sub], capture_output=True, text=True)
    if res.returncode != 0 or not os.path.isfile(png) or os.path.getsize(png) == 0:
        err = " | ".join(l for l in res.stderr.strip().splitlines() if "warning:" not in l) or \
            f"exit status {res.returncode}, no {png}"
        if os.path.exists(png):
            os.remove(png)  # whatever gnuplot drew before its error is not the chart
        return None, f"gnuplot failed: {err}"
    return png, None


def main():
    t_start = time.time()
    ap = argparse.ArgumentParser(description="Mica benchmarks")
    ap.add_argument("--kernel", default="build/mica.elf")
    ap.add_argument("--modules", default=os.environ.get("MODULES", "build/init-test.elf:init build/pager.elf:pager"))
    ap.add_argument("--out", default="build/bench")
    ap.add_argument("--sel4", default=SEL4_DATA, help="the seL4 figures (key TAB instructions TAB what)")
    ap.add_argument("--linux-peer", default=LINUX_PEER_DIR, help="directory of the Linux peer (peer.py, bench.c)")
    ap.add_argument("--modes", default="icount,tcg")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    # Each missing peer is said once, here or in linux_peer().
    sel4 = sel4_figures(args.sel4)
    if not sel4:
        print(f"bench: no seL4 figures ({args.sel4} not found, not readable or without a known row); "
              "the seL4 column stays empty")
    results = {}
    failed_sizes = False
    for mode in args.modes.split(","):
        if mode == "kvm":
            continue
        status, figs, text = run_boot(args.kernel, args.modules, mode, 600)
        open(os.path.join(args.out, f"serial-{mode}.log"), "w").write(text)
        if status != 33 or not figs:
            print(f"bench: mode {mode} failed (exit status {status}); see {args.out}/serial-{mode}.log")
            if mode == "icount":
                return 1
            continue
        if mode == "icount":
            sized, problems = boot_sizes(args.kernel, args.modules, args.out)
            for p in problems:
                print(f"bench: FAILED: {p}")
            failed_sizes = bool(problems)
            first = next(iter(figs))  # boot_to_init, then the sizes, then the rest
            figs = {first: figs[first], **sized, **{k: v for k, v in figs.items() if k != first}}
        results[mode] = figs
        for name, f in figs.items():
            print(f"BENCH name={name} unit={f['unit']} mode={mode} min={f['min']} median={f['median']} "
                  f"max={f['max']} samples={f['samples']}" + (f" {f['note']}" if f["note"] else ""))
    mica_kvm = kvm_skip_reason()
    print(f"bench: mode kvm skipped: {mica_kvm}")

    linux, where = linux_peer(os.path.normpath(args.linux_peer), args.out)
    linux_kvm = linux_kvm_outcome(linux)
    if linux_kvm:
        print(f"bench: Linux peer under KVM: {linux_kvm}")

    ref = results.get("icount", {})
    if "unmap_page" in ref:
        for name, n in REVOKE_TARGET.items():
            TARGETS[name] = n * ref["unmap_page"]["median"] + REVOKE_CONSTANT
    rows, timer = build_rows(ref, sel4, linux)
    table = markdown_table(rows, ref)
    note = notes(rows, ref, linux, timer, where, mica_kvm, linux_kvm, sel4_found=bool(sel4))
    png, chart_error = chart(rows, args.out)
    doc = ["# make bench", "",
           f"Run of {datetime.datetime.now().isoformat(timespec='seconds')}. Guest instructions "
           "(QEMU TCG `-icount shift=0`), medians.", "", table, "", note, ""]
    if png:
        doc += [f"Chart: `{png}` ("
                + ("the rows with a peer figure" if sel4 or linux else "Mica's figures; no peer figures") + ").", ""]
    else:
        doc += [f"No chart: {chart_error}.", ""]
    doc += ["## Plain TCG, for scale only", "",
            "Host TSC ticks (QEMU's `rdtsc` without `-icount` returns host time); noisy: medians move by up "
            "to 2x between runs, and other QEMUs on the host change them.", "",
            tcg_table(ref, results.get("tcg", {}), linux), ""]
    open(os.path.join(args.out, "bench.md"), "w").write("\n".join(doc))
    print()
    print(table)
    print()
    if linux:
        print("Linux figures: tcg-icount medians net of the peer's timer cost; "
              "pager_fault vs anon_fault_write: Linux's figure includes clearing the page, Mica's does not.")
    print(f"\nbench: table and notes written to {args.out}/bench.md" +
          (f"; chart to {png}" if png else ""))
    print(f"bench: done in {time.time() - t_start:.0f} s")
    if not png:
        print(f"bench: FAILED: no chart: {chart_error}")
        return 1
    return 1 if failed_sizes else 0


if __name__ == "__main__":
    sys.exit(main())
