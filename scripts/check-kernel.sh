#!/usr/bin/env bash
# check-kernel.sh KERNEL: refuse a kernel image GRUB could not boot.
set -euo pipefail
if ! grub-file --is-x86-multiboot2 "$1"; then
    echo "check-kernel: $1 has no valid multiboot2 header in its first 32 KiB" >&2
    exit 1
fi
