#!/usr/bin/env python3
"""Read what Mica's screen console shows, from a running QEMU, for the harness.

Two screens, two readers, both exact:
  VGA text (BIOS boots): the character/attribute words at 0xb8000, read
      through QEMU's monitor (`xp`), as the VGA card itself shows them;
  framebuffer (UEFI boots): a QEMU `screendump` (PPM), cut into 8x16 cells
      and matched pixel for pixel against the kernel's own font, whose glyph
      pictures are parsed out of microkernel/kernel/font.c.
QEMU is driven over QMP (-qmp unix:SOCK,server=on,wait=off).

By hand:  test/screen.py decode DUMP.ppm       print the text of a screendump
          test/screen.py png DUMP.ppm OUT.png  convert a screendump to PNG
"""

import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
import zlib

FONT_C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "microkernel", "kernel", "font.c")
CELL_W, CELL_H = 8, 16
# VGA colour index -> 0xRRGGBB, as kernel/screen.c paints them.
VGA_RGB = [0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa, 0xaa5500, 0xaaaaaa,
           0x555555, 0x5555ff, 0x55ff55, 0x55ffff, 0xff5555, 0xff55ff, 0xffff55, 0xffffff]


def load_font(path=FONT_C):
    """{8 row bytes: character} from the glyph pictures of font.c."""
    text = open(path).read()
    glyphs = {}
    for m in re.finditer(r"\[\s*'((?:\\.|[^'\\]))'\s*-\s*FONT_FIRST\s*\]\s*=\s*\{(.*?)\}", text, re.S):
        ch = m.group(1)
        ch = ch[1] if ch.startswith("\\") else ch
        rows = re.findall(r'R\("([.#]{8})"\)', m.group(2))
        if len(rows) != 8:
            raise ValueError(f"glyph {ch!r}: {len(rows)} rows")
        key = tuple(int(r.replace("#", "1").replace(".", "0"), 2) for r in rows)
        if key in glyphs:
            raise ValueError(f"glyphs {glyphs[key]!r} and {ch!r} are the same picture")
        glyphs[key] = ch
    if len(glyphs) != 0x7f - 0x20:
        raise ValueError(f"font.c has {len(glyphs)} glyphs, expected 95")
    return glyphs


# ---------------------------------------------------------------- QMP


class Qmp:
    """A minimal QMP client on a unix socket."""

    def __init__(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self.buf = b""
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("QMP closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        self.sock.sendall(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        while True:
            msg = self._read()
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise RuntimeError(f"QMP {name}: {msg['error']}")

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line})

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------- VGA text


def read_vga_text(qmp, cols=80, rows=25):
    """[(text, [attribute per cell])] per row of the VGA text buffer at 0xb8000."""
    words = []
    out = qmp.hmp(f"xp /{cols * rows}hx 0xb8000")
    for line in out.splitlines():
        words += [int(w, 16) for w in re.findall(r"0x([0-9a-f]{4})\b", line.split(":", 1)[-1])]
    if len(words) < cols * rows:
        raise ValueError(f"xp gave {len(words)} words, expected {cols * rows}")
    screen = []
    for r in range(rows):
        row = words[r * cols:(r + 1) * cols]
        screen.append(("".join(chr(w & 0xff) if 0x20 <= (w & 0xff) < 0x7f else "?" for w in row),
                       [w >> 8 for w in row]))
    return screen


# ---------------------------------------------------------------- framebuffer


def read_ppm(path):
    """(width, height, RGB bytes) of a binary PPM (P6, maxval 255)."""
    data = open(path, "rb").read()
    m = re.match(rb"P6\s+(?:#[^\n]*\n\s*)*(\d+)\s+(\d+)\s+(\d+)\s", data)
    if not m or int(m.group(3)) != 255:
        raise ValueError(f"{path}: not a P6 PPM with maxval 255")
    w, h = int(m.group(1)), int(m.group(2))
    return w, h, data[m.end():m.end() + w * h * 3]


def decode_pixels(w, h, rgb, font):
    """[(text, [0xRRGGBB ink colour or None per cell])] per row of 8x16 cells.
    A cell is a glyph when its 16 pixel rows are its 8 picture rows drawn
    twice, ink in one colour on black; anything else decodes as '\\x00'."""
    screen = []
    for r in range(h // CELL_H):
        text, inks = [], []
        for c in range(w // CELL_W):
            bits, ink, ok = [], None, True
            for y in range(CELL_H):
                off = ((r * CELL_H + y) * w + c * CELL_W) * 3
                row = 0
                for x in range(CELL_W):
                    px = rgb[off + 3 * x:off + 3 * x + 3]
                    if px != b"\0\0\0":
                        v = px[0] << 16 | px[1] << 8 | px[2]
                        ok = ok and ink in (None, v)
                        ink = v
                        row |= 0x80 >> x
                bits.append(row)
            key = tuple(bits[0::2])
            ch = font.get(key) if ok and bits[0::2] == bits[1::2] else None
            text.append(ch if ch is not None else "\0")
            inks.append(ink)
        screen.append(("".join(text), inks))
    return screen


def screendump_text(qmp, path, font):
    """Take a screendump into path (PPM) and decode it."""
    if os.path.exists(path):
        os.remove(path)
    qmp.cmd("screendump", filename=os.path.abspath(path))
    return decode_pixels(*read_ppm(path), font)


def ppm_to_png(src, dst):
    """Write a PNG of a PPM screendump (to look at it)."""
    w, h, rgb = read_ppm(src)
    raw = b"".join(b"\0" + rgb[y * w * 3:(y + 1) * w * 3] for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
    open(dst, "wb").write(png)


# ---------------------------------------------------------------- harness checks

READY = "[ OK ] init: ready"
GREEN_VGA, GREY_VGA = 0x0a, 0x07  # attributes of the [ OK ] tag and of the text after it


def screen_boot(iso, qemu_args, log, read, timeout=90):
    """Boot iso with a QMP socket; once the serial log says init is ready,
    read the screen with read(qmp) until it shows the ready line (at most 5 s).
    Return (serial text, screen rows or None, seconds, problem or "")."""
    os.makedirs(os.path.dirname(log), exist_ok=True)
    sock = log + ".qmp"
    for f in (log, sock):
        if os.path.exists(f):
            os.remove(f)
    cmd = ["qemu-system-x86_64", *qemu_args, "-cdrom", iso, "-display", "none", "-no-reboot",
           "-serial", f"file:{log}", "-debugcon", f"file:{log}.e9",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-qmp", f"unix:{sock},server=on,wait=off"]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rows, problem, qmp = None, "", None

    def serial():
        return open(log, "rb").read().decode("utf-8", "replace") if os.path.exists(log) else ""

    try:
        qmp = Qmp(sock)
        while READY not in serial() and proc.poll() is None and time.monotonic() - start < timeout:
            time.sleep(0.2)
        if READY not in serial():
            problem = f"no \"{READY}\" on serial (QEMU status {proc.poll()}) within {timeout} s"
        elif read:
            deadline = time.monotonic() + 5
            while True:
                rows = read(qmp)
                if any(t.startswith(READY) for t, _ in rows) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
    except (OSError, EOFError, RuntimeError, ValueError) as e:
        problem = f"{type(e).__name__}: {e}"
    finally:
        if qmp:
            qmp.close()
        proc.kill()
        proc.wait()
        if os.path.exists(sock):
            os.remove(sock)
    if rows is not None:
        open(log + ".screen.txt", "w").write("\n".join(t.replace("\0", "\u00b7").rstrip() for t, _ in rows) + "\n")
    return serial(), rows, time.monotonic() - start, problem


def ready_row(rows):
    """(text, colours) of the screen row holding the ready line, or None."""
    return next((r for r in rows or [] if r[0].startswith(READY)), None)


def run_screen_checks(kernel, build, res, bios_args, uefi_args):
    """What a person watching the screen sees, after a default boot (no
    command line): on BIOS the VGA text screen, read at 0xb8000, and on
    UEFI the framebuffer, from a screendump decoded with the kernel's font,
    show the ready line with a green [ OK ]; GRUB on UEFI no longer warns
    that no console is left to the OS; and a BIOS boot with no video card
    says on serial that there is no screen, and boots on."""
    import concurrent.futures
    logdir = os.path.join(build, "test-logs", "screen")
    iso = os.path.join(build, "test-isos", "screen-default.iso")
    os.makedirs(os.path.dirname(iso), exist_ok=True)
    env = dict(os.environ)
    b = os.path.dirname(kernel)
    env.setdefault("MODULES", f"{b}/init.elf:init {b}/pager.elf:pager")
    subprocess.run(["scripts/mkiso.sh", kernel, iso, "", "0"], check=True, env=env)
    font = load_font()
    ppm = os.path.join(logdir, "uefi.ppm")
    boots = [("bios-vga-text", bios_args, lambda q: read_vga_text(q)),
             ("uefi-framebuffer", uefi_args, lambda q: screendump_text(q, ppm, font)),
             ("bios-no-video", bios_args + ["-vga", "none"], None)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        outs = list(pool.map(lambda bt: screen_boot(iso, bt[1], os.path.join(logdir, bt[0] + ".log"), bt[2]), boots))
    for (name, _, read), (text, rows, secs, problem) in zip(boots, outs):
        problems = [problem] if problem else []
        row = ready_row(rows)
        if read and not problem:
            if row is None:
                problems.append(f"the ready line is not on the screen ({os.path.join(logdir, name)}.log.screen.txt)")
            elif name.startswith("bios"):
                if row[1][2] != GREEN_VGA or row[1][7] != GREY_VGA:
                    problems.append(f"colours of the ready line: {row[1][:8]}, expected green [ OK ] then grey")
            elif row[1][2] != VGA_RGB[GREEN_VGA] or row[1][8] != VGA_RGB[GREY_VGA]:
                problems.append(f"ink of the ready line: {row[1][:9]}, expected green [ OK ] then grey")
        if name.startswith("uefi"):
            if not re.search(r"\[ OK \] screen: \d+x\d+ framebuffer at 0x[0-9a-f]+, 32 bits per pixel", text):
                problems.append("serial log lacks the [ OK ] screen: line of a 32 bpp framebuffer")
            for grub_msg in ("no console will be available to OS", "no suitable video mode"):
                if grub_msg in text:
                    problems.append(f"GRUB still says \"{grub_msg}\"")
        if name == "bios-no-video" and "[WARN] screen: the boot loader gave no framebuffer" not in text:
            problems.append("serial log does not say that there is no screen")
        res.add(f"screen/{name}", not problems, "; ".join(problems))
        shown = "ready line on screen" if row else ("no screen, said on serial" if not read else "NOT on screen")
        print(f"screen: {name:17} {shown}{'' if not problems else ' -- FAILED'} in {secs:5.1f} s", flush=True)


def main(argv):
    if len(argv) == 3 and argv[1] == "decode":
        for text, _ in decode_pixels(*read_ppm(argv[2]), load_font()):
            print(text.replace("\0", "\u00b7").rstrip())
        return 0
    if len(argv) == 4 and argv[1] == "png":
        ppm_to_png(argv[2], argv[3])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
