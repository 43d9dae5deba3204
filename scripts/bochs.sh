#!/usr/bin/env bash
# bochs.sh KERNEL ISO [USER]: boot ISO in Bochs with its debugger (`make bochs`).
# Builds nothing.  Writes, beside KERNEL (build/):
#   bochsrc     from grub/bochsrc.in: magic breakpoints on, COM1 to bochs-com1.log
#   mica.sym    the kernel's symbols for the debugger (scripts/bochs-syms.sh)
#   NAME.sym    the symbols of the user program USER (default: init.elf beside
#               KERNEL), named "NAME:symbol" (init:main).  User programs share
#               the link address 0x400000, so one of them at a time has names.
#   bochs.rc    the debugger's startup commands: load both symbol files
# then starts Bochs stopped at the reset vector, at the debugger prompt, with
# the port 0xE9 log on this terminal.  docs/bochs.md has a short session.
# Environment: BOCHS_CPU=MODEL (see `bochs --help cpu`), BOCHS_DISPLAY
# (default "x" under X11, else the rfb/VNC display on port 5900),
# BOCHS_CMDS='lb "kmain"; c' (more startup commands, ';'-separated).
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 KERNEL ISO [USER.elf]" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
abs() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")"); }
kernel=$1
iso=$2
for f in "$kernel" "$iso"; do
    [ -r "$f" ] || { echo "$0: $f is missing: build it first (make iso)" >&2; exit 1; }
done
build=$(cd "$(dirname "$kernel")" && pwd)
user=${3:-$build/init.elf}
name=$(basename "${user%.elf}")

if [ -n "${BOCHS_DISPLAY:-}" ]; then
    display=$BOCHS_DISPLAY
elif [ -n "${DISPLAY:-}" ]; then
    display=x
else
    display='rfb, options="timeout=0"'
fi
cpu=${BOCHS_CPU:-}
{
    echo "# Written by scripts/bochs.sh from grub/bochsrc.in: edit the template."
    sed -e "/^#/!s|@ISO@|$(abs "$iso")|" -e "/^#/!s|@COM1@|$build/bochs-com1.log|" \
        -e "/^#/!s|@LOG@|$build/bochs.log|" -e "/^#/!s|@DISPLAY@|$display|" -e '/^#/!s|@MAGIC@|1|' \
        ${cpu:+-e "/^#/!s|model=[a-z0-9_]*|model=$cpu|"} "$here/grub/bochsrc.in"
} > "$build/bochsrc"

"$here/scripts/bochs-syms.sh" "$kernel" > "$build/mica.sym"
loaded="$(wc -l < "$build/mica.sym") of the kernel"
{
    echo "ldsym global \"$build/mica.sym\""
    if [ -r "$user" ]; then
        "$here/scripts/bochs-syms.sh" "$user" "$name:" > "$build/$name.sym"
        loaded="$loaded, $(wc -l < "$build/$name.sym") of $name as $name:SYMBOL"
        echo "ldsym global \"$build/$name.sym\""
    fi
    if [ -n "${BOCHS_CMDS:-}" ]; then
        tr ';' '\n' <<< "$BOCHS_CMDS" | sed -e 's/^ *//' -e '/^$/d'
    fi
} > "$build/bochs.rc"

cat <<EOF
Bochs is stopped at the reset vector, symbols loaded ($loaded).
  lb "kmain"            break at a symbol         c           continue
  u /10                 disassemble, with names   r, creg     registers
  info symbols "ipc_"   symbols by prefix         q           quit
BOCHS_BREAK() (xchg bx, bx) in the kernel or a server stops here too; so does Ctrl-C.
COM1 goes to $build/bochs-com1.log, Bochs' own log to $build/bochs.log.
EOF
[ "$display" = "${display#rfb}" ] || echo "VGA screen: a VNC viewer on localhost:5900."
exec bochs -f "$build/bochsrc" -rc "$build/bochs.rc"
