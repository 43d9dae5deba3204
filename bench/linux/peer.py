#!/usr/bin/env python3
"""Mica's Linux peer: boot a stock Debian kernel in QEMU with bench.c as the
/init of a small initramfs and print its figures, tagged with the mode.

  python3 bench/linux/peer.py [--work DIR] [--modes "tcg-icount tcg kvm"]

Everything comes from Debian: the kernel is the package linux-image-amd64
depends on (or KPKG=linux-image-...), fetched with `apt-get download` into
WORK and unpacked there (only its vmlinuz is kept; nothing is installed on
the host); bench.c is built with the host's gcc against glibc's static
libc (packages gcc, libc6-dev, linux-libc-dev); QEMU is qemu-system-x86.
The initramfs (init, /dev/console, /proc) is written here, in Python.

Modes: tcg-icount (QEMU TCG with -icount shift=0: the guest TSC counts
retired guest instructions, the figures make bench uses), tcg (plain TCG:
host time, noisy, for scale), kvm (-enable-kvm -cpu host; reported, not
used).  Output lines:

  PEER mode=<m> name=<figure> median=<n> min=<n> samples=<n>
  PEER-INFO mode=<m> <key>=<value>
  PEER-FAIL mode=<m> reason="..."      (then "#   " lines from its log)
  # ...                                (progress and facts)

Exit status 0 when the tcg-icount boot (if asked for) finished.
"""

import argparse
import glob
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
APPEND = "console=ttyS0 quiet panic=-1"
TIMEOUTS = {"tcg-icount": 150, "tcg": 150, "kvm": 60}
ACCEL = {"tcg-icount": ["-accel", "tcg", "-cpu", "max", "-icount", "shift=0"],
         "tcg": ["-accel", "tcg", "-cpu", "max"],
         "kvm": ["-enable-kvm", "-cpu", "host"]}
# What the build needs, and the Debian package that has it.
NEEDS = [("gcc", "gcc"), ("/usr/lib/x86_64-linux-gnu/libc.a", "libc6-dev"),
         ("/usr/include/linux/userfaultfd.h", "linux-libc-dev"), ("qemu-system-x86_64", "qemu-system-x86"),
         ("apt-get", "apt"), ("dpkg-deb", "dpkg")]


def say(msg):
    print(f"# {msg}", flush=True)


def missing_packages():
    out = []
    for what, pkg in NEEDS:
        found = os.path.exists(what) if what.startswith("/") else shutil.which(what)
        if not found:
            out.append(pkg)
    return out


def kernel_package():
    """The kernel package to measure: KPKG, else what linux-image-amd64 depends on."""
    if os.environ.get("KPKG"):
        return os.environ["KPKG"]
    for attempt in range(2):
        res = subprocess.run(["apt-cache", "depends", "linux-image-amd64"], capture_output=True, text=True)
        m = re.search(r"Depends: (linux-image-\d\S*)", res.stdout)
        if m:
            return m.group(1)
        if attempt == 0 and os.geteuid() == 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
    raise SystemExit("peer: cannot tell which kernel linux-image-amd64 means (apt-cache depends failed)")


def fetch_kernel(work, pkg):
    """Path of the package's vmlinuz under work (downloaded and unpacked
    once; a later run reuses it), and the package's version."""
    kdir = os.path.join(work, "kernel", pkg)
    done = os.path.join(kdir, "version")
    if os.path.exists(done):
        vmlinuz = glob.glob(os.path.join(kdir, "vmlinuz-*"))
        if vmlinuz:
            return vmlinuz[0], open(done).read().strip()
    os.makedirs(kdir, exist_ok=True)
    for d in glob.glob(os.path.join(kdir, "*.deb")):
        os.remove(d)
    say(f"downloading {pkg} (apt-get download; about 70 MB, unpacked into {kdir}, not installed)")
    for attempt in range(2):
        res = subprocess.run(["apt-get", "download", "-q", pkg], cwd=kdir, capture_output=True, text=True)
        if res.returncode == 0:
            break
        if attempt == 0 and os.geteuid() == 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
    else:
        raise SystemExit(f"peer: apt-get download {pkg} failed: {res.stderr.strip()[-300:]}")
    deb = glob.glob(os.path.join(kdir, f"{pkg}_*.deb"))[0]
    version = subprocess.run(["dpkg-deb", "-f", deb, "Version"], capture_output=True, text=True).stdout.strip()
    # Stream the package's file system and keep only /boot/vmlinuz-*.
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    vmlinuz = None
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        for member in tar:
            if re.fullmatch(r"\./boot/vmlinuz-[^/]+", member.name) and member.isfile():
                vmlinuz = os.path.join(kdir, os.path.basename(member.name))
                with open(vmlinuz, "wb") as f:
                    shutil.copyfileobj(tar.extractfile(member), f)
    proc.wait()
    os.remove(deb)
    if not vmlinuz:
        raise SystemExit(f"peer: {pkg} has no /boot/vmlinuz-*")
    open(done, "w").write(version + "\n")
    return vmlinuz, version


def cpio_newc(entries):
    """A newc cpio archive of (name, mode, data, rdev major, rdev minor)."""
    out = io.BytesIO()

    def pad():
        out.write(b"\0" * (-out.tell() % 4))
    for ino, (name, mode, data, major, minor) in enumerate(entries + [("TRAILER!!!", 0, b"", 0, 0)], 1):
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, major, minor, len(name) + 1, 0]
        out.write(b"070701" + b"".join(b"%08X" % f for f in fields))
        out.write(name.encode() + b"\0")
        pad()
        out.write(data)
        pad()
    return out.getvalue()


def build_initramfs(work):
    """Compile bench.c statically and pack it as /init."""
    init = os.path.join(work, "init")
    subprocess.run(["gcc", "-std=c11", "-O2", "-static", "-pthread", "-Wall", "-Wextra", "-Werror",
                    "-o", init, os.path.join(HERE, "bench.c")], check=True)
    entries = [("dev", 0o040755, b"", 0, 0), ("dev/console", 0o020600, b"", 5, 1),
               ("proc", 0o040555, b"", 0, 0), ("init", 0o100755, open(init, "rb").read(), 0, 0)]
    path = os.path.join(work, "initramfs.cpio")
    open(path, "wb").write(cpio_newc(entries))
    return path


def boot(mode, vmlinuz, initramfs):
    """Boot once; print the figures tagged with mode.  True when it finished."""
    if mode == "kvm" and not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print(f'PEER-FAIL mode=kvm reason="/dev/kvm not usable"', flush=True)
        return False
    cmd = ["qemu-system-x86_64", *ACCEL[mode], "-machine", "pc", "-smp", "1", "-m", "512M", "-display", "none",
           "-monitor", "none", "-serial", "stdio", "-no-reboot", "-kernel", vmlinuz, "-initrd", initramfs,
           "-append", APPEND]
    say(f"[{mode}] {' '.join(cmd)}")
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            text=True, errors="replace")
    lines, why = [], []

    def read():
        for line in proc.stdout:
            line = line.rstrip("\r\n")
            lines.append(line)
            if line.startswith(("PEER ", "PEER-INFO ", "PEER-SKIP ")):
                kind, _, rest = line.partition(" ")
                print(f"{kind} mode={mode} {rest}", flush=True)
            if "KVM internal error" in line and not why:
                why.append("KVM internal error")
                proc.kill()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=TIMEOUTS[mode])
    except subprocess.TimeoutExpired:
        why.append(f"timeout {TIMEOUTS[mode]} s")
        proc.kill()
        proc.wait()
    reader.join(5)
    secs = time.time() - t0
    if "PEER-DONE" in lines:
        say(f"[{mode}] done in {secs:.0f} s")
        return True
    reason = why[0] if why else f"no PEER-DONE (QEMU exit status {proc.returncode})"
    print(f'PEER-FAIL mode={mode} reason="{reason}" after={secs:.0f}s', flush=True)
    for line in [ln for ln in lines if re.search(r"error|fail|panic|RIP", ln, re.I)][:4]:
        print(f"#   {line.strip()}", flush=True)
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=os.path.join("build", "bench", "linux-peer"),
                    help="where the kernel, the initramfs and bench.c's build are kept")
    ap.add_argument("--modes", default="tcg-icount tcg kvm")
    args = ap.parse_args()
    t0 = time.time()
    need = missing_packages()
    if need:
        print(f'PEER-FAIL mode=all reason="missing Debian packages: {" ".join(need)} (scripts/deps.sh installs them)"')
        return 2
    os.makedirs(args.work, exist_ok=True)
    pkg = kernel_package()
    vmlinuz, version = fetch_kernel(args.work, pkg)
    digest = hashlib.sha256(open(vmlinuz, "rb").read()).hexdigest()
    say(f"kernel: {pkg} {version} sha256(vmlinuz)={digest[:16]}")
    print(f"PEER-INFO mode=all package=\"{pkg} {version}\"", flush=True)
    initramfs = build_initramfs(args.work)
    say(f"host: {subprocess.run(['qemu-system-x86_64', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}; "
        f"{os.cpu_count()} cpus, load {' '.join(open('/proc/loadavg').read().split()[:3])}")
    ok = {}
    for mode in args.modes.split():
        if mode not in ACCEL:
            say(f"unknown mode {mode}: skipped")
            continue
        ok[mode] = boot(mode, vmlinuz, initramfs)
    say(f"total {time.time() - t0:.0f} s")
    return 0 if ok.get("tcg-icount", True) else 1


if __name__ == "__main__":
    sys.exit(main())
