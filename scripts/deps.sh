#!/usr/bin/env bash
# Install the Debian packages Mica's build and tests need, but only when
# something is missing: on a prepared machine this prints nothing and costs
# a few stat calls.  Runs apt-get as root, or through sudo.
set -euo pipefail

# tool-or-file -> Debian package
need=(
    "cmd:gcc gcc"
    "cmd:make make"
    "cmd:nasm nasm"
    "cmd:ld binutils"
    "cmd:python3 python3"
    "cmd:grub-mkrescue grub-common"
    "cmd:grub-file grub-common"
    "dir:/usr/lib/grub/i386-pc grub-pc-bin"
    "dir:/usr/lib/grub/x86_64-efi grub-efi-amd64-bin"
    "cmd:xorriso xorriso"
    "cmd:mformat mtools"
    "cmd:qemu-system-x86_64 qemu-system-x86"
    "file:/usr/share/ovmf/OVMF.fd ovmf"
    "cmd:clang clang"
    "cmd:clang-format clang-format"
    "file:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a libclang-rt-14-dev"
    "cmd:bochs bochs"
    "file:/usr/share/bochs/BIOS-bochs-latest bochsbios"
    "file:/usr/share/vgabios/vgabios.bin vgabios"
    "cmd:gdb gdb"
    "cmd:gnuplot gnuplot-nox"
    # make bench's Linux peer (bench/linux): bench.c built static, with userfaultfd
    "file:/usr/lib/x86_64-linux-gnu/libc.a libc6-dev"
    "file:/usr/include/linux/userfaultfd.h linux-libc-dev"
    "cmd:timeout coreutils"
)

missing=()
for item in "${need[@]}"; do
    what=${item%% *}
    pkg=${item#* }
    kind=${what%%:*}
    path=${what#*:}
    case $kind in
        cmd) command -v "$path" >/dev/null 2>&1 && continue ;;
        dir) [ -d "$path" ] && continue ;;
        file) [ -e "$path" ] && continue ;;
    esac
    missing+=("$pkg")
done

[ ${#missing[@]} -eq 0 ] && exit 0

# De-duplicate, keep order.
pkgs=$(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++' | tr '\n' ' ')
echo "deps: installing missing Debian packages: $pkgs"
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "deps: need root (or sudo) to install: $pkgs" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $pkgs
