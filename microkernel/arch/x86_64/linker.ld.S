/* Kernel link map (run through the C preprocessor for arch/layout.h).
 *
 * The boot stub (.multiboot, .boot.*) is linked at its physical address,
 * because it runs before paging.  Everything else is linked at
 * KERNEL_VMA + physical and loaded right after it.  Each higher-half part
 * gets its own segment and page-aligned bounds, so paging_init() can give
 * text R-X, rodata R--, and data/bss RW- with NX.
 *
 * The page-alignment padding sits INSIDE each output section, so every
 * segment's memory size runs up to the next segment: the image is one
 * gap-free range.  With gaps, GRUB treats the padding as free and puts the
 * boot information or the symbol table there, inside the kernel's pages. */
#include "arch/layout.h"

OUTPUT_FORMAT("elf64-x86-64")
ENTRY(_start)

PHDRS
{
    boot   PT_LOAD FLAGS(7);
    text   PT_LOAD FLAGS(5);
    rodata PT_LOAD FLAGS(4);
    data   PT_LOAD FLAGS(6);
}

SECTIONS
{
    . = KERNEL_PHYS_BASE;
    .boot : {
        KEEP(*(.multiboot))
        *(.boot.text)
        *(.boot.data)
        . = ALIGN(4096);
        *(.boot.bss)
        . = ALIGN(4096);
    } :boot

    . = ALIGN(4096) + KERNEL_VMA;
    __kernel_start = .;
    __text_start = .;
    .text : AT(ADDR(.text) - KERNEL_VMA) {
        *(.text .text.*)
        . = ALIGN(4096);
    } :text
    __text_end = .;

    __rodata_start = .;
    .rodata : AT(ADDR(.rodata) - KERNEL_VMA) {
        *(.rodata .rodata.*)
    } :rodata
    ktests : AT(ADDR(ktests) - KERNEL_VMA) {
        __start_ktests = .;
        KEEP(*(.ktests))
        __stop_ktests = .;
        . = ALIGN(4096);
    } :rodata
    __rodata_end = .;

    __data_start = .;
    .data : AT(ADDR(.data) - KERNEL_VMA) {
        *(.data .data.*)
    } :data
    .bss : AT(ADDR(.bss) - KERNEL_VMA) {
        *(COMMON)
        *(.bss .bss.*)
        . = ALIGN(4096);
    } :data
    __kernel_end = .;

    /DISCARD/ : {
        *(.comment)
        *(.note*)
        *(.eh_frame*)
    }
}
