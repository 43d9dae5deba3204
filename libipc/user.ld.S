/* Linker script for Mica user programs (run through the C preprocessor
 * for mica/layout.h, into build/user.ld): a static ELF64 linked at
 * MICA_IMAGE_BASE (0x400000),
 * entry _start (libipc/crt0.asm), three page-aligned PT_LOAD segments so
 * that no page is both writable and executable:
 *   text    R X   .text
 *   rodata  R     .rodata
 *   data    RW    .data, .bss
 * Link with: ld -static -nostdlib -z max-page-size=0x1000 -T build/user.ld
 * The loader maps each segment with its flags and zeroes the .bss tail
 * (p_memsz beyond p_filesz). */

#include "mica/layout.h"

OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(_start)

PHDRS
{
    text PT_LOAD FLAGS(5);      /* PF_R | PF_X */
    rodata PT_LOAD FLAGS(4);    /* PF_R */
    data PT_LOAD FLAGS(6);      /* PF_R | PF_W */
}

SECTIONS
{
    . = MICA_IMAGE_BASE;
    __mica_image_start = .;

    .text : {
        *(.text .text.*)
    } :text

    . = ALIGN(4096);
    __mica_text_end = .;
    .rodata : {
        *(.rodata .rodata.*)
        /* The test image's registered suites and cases (test/guest/guest.h);
         * empty, and the symbols undefined, in every other program. */
        . = ALIGN(8);
        PROVIDE(__start_guest_suites = .);
        KEEP(*(guest_suites))
        PROVIDE(__stop_guest_suites = .);
        PROVIDE(__start_guest_tests = .);
        KEEP(*(guest_tests))
        PROVIDE(__stop_guest_tests = .);
    } :rodata

    . = ALIGN(4096);
    __mica_rodata_end = .;
    .data : {
        *(.data .data.*)
    } :data

    .bss : {
        *(.bss .bss.*)
        *(COMMON)
    } :data

    . = ALIGN(4096);
    /* First page past the image: where a program may start a heap. */
    __mica_image_end = .;

    /DISCARD/ : {
        *(.comment)
        *(.note .note.*)
        *(.eh_frame .eh_frame_hdr)
    }
}
