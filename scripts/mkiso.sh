#!/usr/bin/env bash
# mkiso.sh KERNEL OUT.iso "CMDLINE" [TIMEOUT]
# Build a BIOS (i386-pc) + UEFI (x86_64-efi) ISO with grub-mkrescue, with
# grub/grub.cfg.in filled in: @CMDLINE@ becomes the kernel command line of
# the default entry, @TIMEOUT@ the menu timeout (default 0 when a command
# line is given, else 3), @MODULES@ one module2 line per word of $MODULES
# ("FILE:COMMAND LINE" pairs, space-separated, '+' standing for a space in
# the command line), in that order: the first module is init.
set -euo pipefail
kernel=$1
out=$2
cmdline=${3:-}
timeout=${4:-}
if [ -z "$timeout" ]; then
    if [ -n "$cmdline" ]; then timeout=0; else timeout=3; fi
fi
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mica-iso.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/iso
mkdir -p "$stage/boot/grub"
# The ISO's kernel keeps its symbol table (for dumps) but not the DWARF
# debug sections: GRUB would load those too, for nothing.  GDB reads the
# unstripped build/mica.elf.
objcopy --strip-debug "$kernel" "$stage/boot/mica.elf"
modlines=""
for pair in ${MODULES:-}; do
    file=${pair%%:*}
    args=${pair#*:}
    args=${args//+/ }
    name=$(basename "$file")
    # Deliberately malformed test modules are not ELF objcopy accepts: as is.
    objcopy --strip-debug "$file" "$stage/boot/$name" 2>/dev/null || cp "$file" "$stage/boot/$name"
    modlines="$modlines    module2 /boot/$name $args\n"
done
# The command line goes into sed's replacement: escape what sed would read
# there ('\', '&' and the '|' delimiter).
sedquote() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }
# GRUB_PRE: GRUB commands to run before loading (the torture boots' cutmem).
sed -e "s|@CMDLINE@|$(sedquote "$cmdline")|g" -e "s|@TIMEOUT@|$timeout|g" -e "s|@MODULES@|$modlines|g" \
    -e "s|@PRE@|${GRUB_PRE:-}|g" \
    "$here/grub/grub.cfg.in" > "$stage/boot/grub/grub.cfg"
mkdir -p "$(dirname "$out")"
# grub-mkrescue is chatty on success; keep its log for failures.
if ! grub-mkrescue -o "$out.tmp" "$stage" >"$tmp/mkrescue.log" 2>&1; then
    cat "$tmp/mkrescue.log" >&2
    exit 1
fi
mv "$out.tmp" "$out"
