#!/usr/bin/env bash
# debug.sh KERNEL ISO: start QEMU halted at reset with its GDB stub on
# 127.0.0.1:1234 (GDB_PORT; this machine only: the stub has no password) and
# the serial log on this terminal; write build/gdbinit from
# scripts/gdbinit.in (the kernel's symbols, init's, the helpers of
# scripts/gdb/mica.py; docs/debugging.md).
# In a second terminal: gdb -x build/gdbinit  (then: hbreak kmain, continue).
set -euo pipefail
kernel=$(cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")")
iso=$2
port=${GDB_PORT:-1234}
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(dirname "$kernel")
sed -e "s|@KERNEL@|$kernel|" -e "s|@PORT@|$port|" -e "s|@SCRIPTS@|$here/scripts|" \
    "$here/scripts/gdbinit.in" > "$build/gdbinit"
echo "QEMU is halted with a GDB stub on 127.0.0.1:$port (this machine only). In another terminal run:"
echo "    gdb -x $build/gdbinit"
echo "then e.g. 'hbreak kmain' and 'continue'; mica-current, mica-runq, mica-walk ADDR,"
echo "mica-tasks, mica-user NAME (a server's symbols instead of init's). Quit QEMU with Ctrl-A X."
exec qemu-system-x86_64 -machine q35 -cpu max -m "${MEM:-512M}" -cdrom "$iso" -display none \
    -serial mon:stdio -no-reboot -gdb "tcp:127.0.0.1:$port" -S ${QEMU_EXTRA:-}
