#!/usr/bin/env python3
"""make bench: boot the benchmark image (bench=ipc) in QEMU and print Mica's
figures beside seL4's.

Mode icount (the reference): TCG with -icount shift=0,align=off, where the
guest's rdtsc counts retired guest instructions, so every figure is exact
and repeatable.  Mode tcg: plain TCG, rdtsc is host time (noisy; shown for
scale only).  The seL4 figures are read from ../shared/peers/sel4.md, which
was measured the same way in the same QEMU.

Writes build/bench/bench.md (a Markdown table) and prints a summary.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

SEL4_ROWS = {
    "ipc_call_xas": "seL4_Call, client -> server, different address spaces, 0-word message",
    "ipc_reply_recv_xas": "seL4_ReplyRecv, server -> client, different address spaces, 0-word",
    "ipc_call_sas": "seL4_Call, same address space, 0-word",
    "ipc_reply_recv_sas": "seL4_ReplyRecv, same address space, 0-word",
    "map_page": "map one 4 KiB page (seL4_X86_Page_Map, per page at 1..2048 pages)",
}
TARGETS = {"ipc_roundtrip_xas": 320, "ipc_call_xas": 150, "map_page": 500, "pager_fault": 1300}
BENCH = re.compile(r"^BENCH name=(\S+) unit=(\S+) min=(\d+) median=(\d+) max=(\d+) samples=(\d+)(.*)$")


def sel4_figures(path):
    """Figures from the seL4 peer file: {our name: guest instructions}."""
    figs = {}
    if not os.path.exists(path):
        return figs
    rows = {}
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2:
            m = re.match(r"^([\d,]+)", cells[1])
            if m:
                rows[cells[0]] = int(m.group(1).replace(",", ""))
    for ours, label in SEL4_ROWS.items():
        if label in rows:
            figs[ours] = rows[label]
    for kind in ("xas", "sas"):
        a, b = figs.get(f"ipc_call_{kind}"), figs.get(f"ipc_reply_recv_{kind}")
        if a and b:
            figs[f"ipc_roundtrip_{kind}"] = a + b
    # A fault served by a user-level handler plus a map, as sel4.md derives it.
    fault = next((v for k, v in rows.items() if k.startswith("fault round trip")), None)
    if fault and figs.get("map_page"):
        figs["pager_fault"] = fault + figs["map_page"]
    return figs


def run_boot(kernel, modules, mode, timeout):
    """Boot once in `mode`; return the BENCH lines' fields and the log."""
    unit = "instructions" if mode == "icount" else "cycles"
    with tempfile.TemporaryDirectory(prefix="mica-bench-") as tmp:
        iso = os.path.join(tmp, "bench.iso")
        env = dict(os.environ, MODULES=modules)
        subprocess.run(["scripts/mkiso.sh", kernel, iso, f"bench=ipc benchunit={unit}"], check=True, env=env)
        log = os.path.join(tmp, "serial.log")
        accel = ["-icount", "shift=0,align=off"] if mode == "icount" else []
        cmd = ["qemu-system-x86_64", "-machine", "q35", "-cpu", "max", "-m", "512M", *accel, "-cdrom", iso,
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


def main():
    ap = argparse.ArgumentParser(description="Mica benchmarks")
    ap.add_argument("--kernel", default="build/mica.elf")
    ap.add_argument("--modules", default=os.environ.get("MODULES", "build/init.elf:init build/pager.elf:pager"))
    ap.add_argument("--out", default="build/bench")
    ap.add_argument("--sel4", default="../shared/peers/sel4.md")
    ap.add_argument("--modes", default="icount,tcg")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    sel4 = sel4_figures(args.sel4)
    results = {}
    for mode in args.modes.split(","):
        status, figs, text = run_boot(args.kernel, args.modules, mode, 600)
        open(os.path.join(args.out, f"serial-{mode}.log"), "w").write(text)
        if status != 33 or not figs:
            print(f"bench: mode {mode} failed (exit status {status}); see {args.out}/serial-{mode}.log")
            if mode == "icount":
                return 1
            continue
        results[mode] = figs
        for name, f in figs.items():
            print(f"BENCH name={name} unit={f['unit']} mode={mode} min={f['min']} median={f['median']} "
                  f"max={f['max']} samples={f['samples']}" + (f" {f['note']}" if f["note"] else ""))
    ref = results.get("icount", {})
    lines = ["| figure | Mica (instructions, median) | seL4 | Mica / seL4 | target | Mica, plain TCG (host cycles, noisy) |",
             "|---|---|---|---|---|---|"]
    for name, f in ref.items():
        s = sel4.get(name)
        ratio = f"{f['median'] / s:.2f}" if s else ""
        tgt = TARGETS.get(name)
        tgt_s = (f"<= {tgt} ({'met' if f['median'] <= tgt else 'missed by ' + str(f['median'] - tgt)})"
                 if tgt else "")
        tcg = results.get("tcg", {}).get(name)
        lines.append(f"| {name} | {f['median']} | {s if s else ''} | {ratio} | {tgt_s} | "
                     f"{tcg['median'] if tcg else ''} |")
    table = "\n".join(lines)
    open(os.path.join(args.out, "bench.md"), "w").write(table + "\n")
    print()
    print(table)
    print(f"\nbench: table written to {args.out}/bench.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
