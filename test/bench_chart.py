#!/usr/bin/env python3
"""Host check of make bench's last step, with no boot: the in-tree seL4
figures parse, and the chart (scripts/bench.py's chart() through gnuplot and
scripts/bench-chart.gp) is drawn from small fixed inputs, with every peer,
with none, and fails loudly when gnuplot does.  Prints TAP; exit status 1 on
a failure.  Run by `make test` (with the host unit tests); takes about a
second."""

import os
import sys
import tempfile

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import bench  # noqa: E402

REF = {"null_syscall": 95, "ipc_call_xas": 149, "ipc_reply_recv_xas": 145, "ipc_roundtrip_xas": 291,
       "map_page": 470, "pager_fault": 1059, "boot_to_init": 100135838}
LINUX = {"figures": {"tcg-icount": {"null_syscall": (323, 323), "futex_pingpong_rt_procs": (12600, 9100),
                                   "futex_pingpong_rt_threads": (10100, 7100),
                                   "uffd_zeropage_rt_thread": (10500, 10500), "anon_fault_write": (6370, 6370)}},
         "fails": {}, "info": {"timer_overhead": "4"}, "header": {}}

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {name}")
    if not ok and detail:
        print("# " + str(detail).replace("\n", "\n# "))


def ref_figures():
    return {k: {"median": v, "note": ""} for k, v in REF.items()}


def chart_rows(out, sel4, linux, gp=None):
    rows, _ = bench.build_rows(ref_figures(), sel4, linux)
    png, err = bench.chart(rows, out, gp)
    dat = open(os.path.join(out, "chart.dat")).read() if os.path.exists(os.path.join(out, "chart.dat")) else ""
    return png, err, dat


def main():
    sel4 = bench.sel4_figures(bench.SEL4_DATA)
    check("bench/peers/sel4.tsv gives every seL4 figure the table uses",
          sel4.get("ipc_roundtrip_xas") == 423 and sel4.get("pager_fault") == 2054
          and sel4.get("map_page") == 734 and sel4.get("protect_page") == 735, sel4)
    with tempfile.TemporaryDirectory(prefix="mica-chart-") as out:
        png, err, dat = chart_rows(out, sel4, LINUX)
        check("chart with seL4 and Linux figures", png is not None and os.path.getsize(png) > 1000
              and "pager_fault  (Linux: uffd zero page)\t1059\t2054\t10500" in dat, err or dat)
        png, err, dat = chart_rows(out, {}, None)
        check("chart without any peer figure draws Mica's own",
              png is not None and os.path.getsize(png) > 1000 and "null_syscall\t95\t-\t-" in dat
              and "boot_to_init" not in dat, err or dat)
        png, err, dat = chart_rows(out, bench.sel4_figures(os.path.join(out, "missing.tsv")), None)
        check("a missing seL4 file means no seL4 figures, and still a chart", png is not None, err)
        broken = os.path.join(out, "broken.gp")
        open(broken, "w").write(open(os.path.join(ROOT, "scripts", "bench-chart.gp")).read()
                                + "\nplot undefined_variable_here\n")
        png, err, _ = chart_rows(out, sel4, None, gp=broken)
        check("a gnuplot error is reported as a failed chart", png is None and err and "gnuplot failed" in err
              and not os.path.exists(os.path.join(out, "bench.png")), err)
    print(f"1..{len(results)}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
