/* The x86_64 memory layout and boot constants.
 *
 * This file is the single source of these numbers for three consumers:
 * C (included directly), the linker script (run through the C preprocessor)
 * and nasm (the build turns asm_offsets.c into build/gen/asm_offsets.inc).
 * So: only #define lines with plain numbers here — no casts, no suffixes, no
 * C types.  docs/memory-layout.md draws the picture.
 *
 *   virtual, 4-level (48-bit)              virtual, 5-level (57-bit)
 *   0000000000000000 user, 128 TiB         0000000000000000 user, 64 PiB
 *   00007fffffffffff                       00ffffffffffffff
 *   ---- non-canonical hole ----           ---- non-canonical hole ----
 *   ffff800000000000 direct map (HHDM)     ff00000000000000 unused
 *   ffffbfffffffffff   of all RAM, 64 TiB  ffff800000000000 direct map, 64 TiB
 *   ffffc00000000000 framebuffer, 1 GiB    ffffc00000000000 framebuffer, 1 GiB
 *   ffffffff80000000 kernel image          ffffffff80000000 kernel image
 *
 * The direct map and the kernel sit at the same addresses in both modes, so
 * kernel code never asks which mode it runs in to find memory. */
#ifndef MICA_ARCH_LAYOUT_H
#define MICA_ARCH_LAYOUT_H

/* Physical load address of the kernel image (the multiboot2 ELF loader puts
 * each PT_LOAD segment at its p_paddr). */
#define KERNEL_PHYS_BASE 0x100000
/* Virtual address of physical 0 in the kernel image window (top 2 GiB,
 * as -mcmodel=kernel requires). */
#define KERNEL_VMA 0xffffffff80000000
/* The direct map: physical address p is visible at HHDM_BASE + p. */
#define HHDM_BASE 0xffff800000000000
#define HHDM_SIZE 0x400000000000

/* The framebuffer window: the boot loader's framebuffer, mapped by the
 * screen console write-combining (docs/memory-layout.md), at most 1 GiB. */
#define FB_WINDOW_BASE 0xffffc00000000000
#define FB_WINDOW_SIZE 0x40000000

#define PAGE_SIZE 4096
#define PAGE_SHIFT 12

/* Kernel stacks: the boot (later idle) stack and the IST stacks used for
 * double fault, NMI and machine check, so a blown kernel stack still gets
 * a register dump. */
#define BOOT_STACK_SIZE 16384
#define IST_STACK_SIZE 8192

/* GDT selectors.  The order is the one SYSCALL/SYSRET need:
 * STAR[47:32] = KERNEL_CS, STAR[63:48] = USER_CS32 so that SYSRET finds
 * USER_DS at +8 and USER_CS at +16. */
#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_USER_CS32 0x18
#define GDT_USER_DS 0x20
#define GDT_USER_CS 0x28
#define GDT_TSS 0x30
/* The two kernel descriptors, which boot.asm's temporary GDT holds too:
 * 64-bit code (L, P, DPL 0, execute/read) and data (P, DPL 0, read/write). */
#define GDT_DESC_KERNEL_CODE 0x00af9a000000ffff
#define GDT_DESC_KERNEL_DATA 0x00cf92000000ffff

/* Control-register and MSR bits the boot stub sets. */
#define CR0_PE 0x1
#define CR0_WP 0x10000
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define CR4_PGE 0x80
#define MSR_PAT 0x277
#define CR4_UMIP 0x800
#define CR4_PCIDE 0x20000
#define CR4_LA57 0x1000
#define CR4_SMEP 0x100000
#define CR4_SMAP 0x200000
#define MSR_EFER 0xc0000080
#define EFER_SCE 0x1
#define EFER_LME 0x100
#define EFER_NXE 0x800

/* Debug-exit device of the test harness (QEMU -device isa-debug-exit). */
#define DEBUG_EXIT_PORT 0xf4
/* The consoles, written by the boot stub and by console.c: the COM1 UART's
 * base port and the debug port (QEMU debugcon, Bochs port_e9_hack). */
#define COM1_PORT 0x3f8
#define E9_PORT 0xe9

/* The 16550 UART at COM1_PORT: register offsets, and the values the boot
 * stub programs once, before anything else (115200 baud 8N1, FIFO on and
 * cleared, DTR and RTS); console.c only reads LSR and writes DATA. */
#define UART_DATA 0 /* DLL while LCR.DLAB is set */
#define UART_IER 1  /* DLM while LCR.DLAB is set */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_IER_NONE 0x00
#define UART_LCR_DLAB 0x80
#define UART_LCR_8N1 0x03
#define UART_DIVISOR 1 /* 115200 baud */
#define UART_FCR_ON 0xc7
#define UART_MCR_DTR_RTS 0x03
#define UART_LSR_THR_EMPTY 0x20
#define UART_SPIN 100000 /* bounded waits: a missing or stuck UART must not hang the kernel */

#endif
