#!/usr/bin/env bash
# bochs-syms.sh ELF [PREFIX] > FILE.sym
# Write the symbol table of ELF in the format the Bochs debugger's
# `ldsym global "FILE.sym"` reads: one "ADDRESS NAME" line per symbol, the
# address in hexadecimal (64 bits, as nm prints it), the name being the rest
# of the line.  The addresses are the ELF's link addresses, which is where
# Mica runs its images (kernel in the higher half, init at 0x400000), so no
# offset is needed.  PREFIX, if given, is put before every name (init's
# symbols become "init:main"), which keeps user symbols apart from the
# kernel's when both files are loaded into Bochs' one global context.
#
# Bochs shows an address as the nearest symbol at or below it, however far,
# and keeps the first line it reads for an address (every name stays usable
# in `lb "NAME"`).  So absolute symbols (nasm constants such as COM1) are
# left out, the end of each loaded section gets a marker "<end of .bss>"
# unless another section starts there (an address past the image is then
# shown as such, not as an offset from its last label), and the lines are
# sorted by address with, at one address: sized symbols (C functions and
# objects) first, then the marker, then assembler labels and linker-script
# symbols; globals before locals.
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 ELF [PREFIX] > FILE.sym" >&2
    exit 2
fi
elf=$1
prefix=${2:-}
[ -r "$elf" ] || { echo "$0: cannot read $elf" >&2; exit 1; }

# Allocated sections: "NAME START END" (bash arithmetic: awk's doubles would
# round 64-bit addresses).
sections=()
while read -r name _ addr _ size _ flags _; do
    case $flags in *A*) ;; *) continue ;; esac
    [ $((0x$size)) -ne 0 ] || continue
    sections+=("$name $((0x$addr)) $((0x$addr + 0x$size))")
done < <(readelf -SW "$elf" | sed -n 's/^ *\[ *[0-9]*\] *//p')

# Unsigned comparison of two 64-bit values held in bash's signed integers.
below() { (( ($1 ^ (1 << 63)) < ($2 ^ (1 << 63)) )); }

{
    # Rank 0: sized symbol, 2: label; then 0 for a global, 1 for a local.
    nm -S --defined-only "$elf" | awk -v prefix="$prefix" '
        NF == 4 { addr = $1; type = $3; name = $4; rank = 0 }
        NF == 3 { addr = $1; type = $2; name = $3; rank = 2 }
        NF != 3 && NF != 4 { next }
        # text, data, read-only data, bss, weak; not absolute (a/A),
        # debugging (N) or undefined symbols.
        type !~ /^[tTdDrRbBwWvV]$/ { next }
        { printf "%s %d %d %s%s\n", addr, rank, (type ~ /[A-Z]/) ? 0 : 1, prefix, name }'
    # Rank 1: section ends that are not inside another section.
    for s in "${sections[@]}"; do
        read -r name _ end <<< "$s"
        inside=0
        for t in "${sections[@]}"; do
            read -r _ tstart tend <<< "$t"
            if ! below "$end" "$tstart" && below "$end" "$tend"; then inside=1; fi
        done
        [ $inside -eq 1 ] || printf '%016x 1 0 %s<end of %s>\n' "$end" "$prefix" "$name"
    done
} | LC_ALL=C sort -s -k1,1 -k2,2n -k3,3n | cut -d' ' -f1,4-
