/* The user half of an address space: the one map that the kernel (init's
 * space), libipc (the link address, pager regions), init (the loader, the
 * servers' stacks) and the pager agree on.  docs/memory-layout.md draws it
 * beside the kernel half.
 *
 * Three consumers read it: C, libipc/user.ld.S (through the C preprocessor)
 * and docs.  So, as arch/layout.h: only #define lines with plain numbers —
 * no casts, no suffixes; kernel/init_task.c checks the order with
 * _Static_assert.
 *
 *   0000000000400000  MICA_IMAGE_BASE    programs are linked here (user.ld.S)
 *        ...          below MICA_IMAGE_TOP: every ELF segment (loaders refuse others)
 *   0000100000000000  MICA_WINDOW_BASE   init only: free memory at WINDOW_BASE + phys,
 *                                        until the pager takes it (the pager maps it
 *                                        at the same addresses)
 *   0000600000000000  PAGER_VM_BASE      pager regions: client id's at BASE + id * SLICE
 *                                        (init's heap, servers' stacks, mica_vm_alloc)
 *   00007e0000000000  MICA_IMAGE_TOP
 *   00007f0000000000  MICA_MODULES_BASE  init only: the GRUB modules, read-only
 *   00007fd000000000  MICA_STACK_TOP     init's and the pager's first stack,
 *                                        MICA_STACK_PAGES below it
 *   00007fe000000000  MICA_IPCBUF_ADDR   every program's first IPC buffer
 *   00007fe000010000  MICA_START_ADDR    servers only: the start-up record, read-only
 *   00007ff000000000  MICA_BOOTINFO_ADDR init only: the boot information, read-only
 *   0000800000000000  the top of the user half with 4-level paging (5-level: 2^56)
 *
 * Everything sits below the 4-level top, so one map serves both modes. */
#ifndef MICA_LAYOUT_H
#define MICA_LAYOUT_H

/* The link address of every user program, and the bound its segments
 * must stay below (the kernel's loader for init, init's for servers). */
#define MICA_IMAGE_BASE 0x400000
#define MICA_IMAGE_TOP 0x7e0000000000

/* Init's window on free memory: physical p at MICA_WINDOW_BASE + p, in
 * 2 MiB pages where they fit, up to MICA_MODULES_BASE. */
#define MICA_WINDOW_BASE 0x100000000000

/* Where the pager places regions (PAGER_VM_ALLOC and friends, <mica/pager.h>):
 * client id's start at PAGER_VM_BASE + id * PAGER_VM_SLICE, so the addresses
 * of different clients never coincide (init shares pages with the tasks it
 * starts at the same addresses). */
#define PAGER_VM_BASE 0x600000000000
#define PAGER_VM_SLICE 0x1000000000 /* 64 GiB */

/* Init's copies of the GRUB modules, read-only, one after another. */
#define MICA_MODULES_BASE 0x7f0000000000

/* The first thread's stack of init (mapped by the kernel) and of a
 * program init starts without a pager region (the pager itself):
 * MICA_STACK_PAGES pages below MICA_STACK_TOP, nothing under them. */
#define MICA_STACK_TOP 0x7fd000000000
#define MICA_STACK_PAGES 16 /* 64 KiB */
/* A server's stack: a pager region of this size, filled on demand. */
#define MICA_SERVER_STACK_BYTES 0x40000 /* 256 KiB */

/* Where a program's first thread finds its IPC buffer: the kernel maps
 * init's there, and init's loader maps every server's there. */
#define MICA_IPCBUF_ADDR 0x7fe000000000

/* Where init maps a server's start-up record (read-only, one page;
 * <mica/start.h>, docs/servers.md). */
#define MICA_START_ADDR 0x7fe000010000

/* The kernel maps the boot information read-only into init here. */
#define MICA_BOOTINFO_ADDR 0x7ff000000000

/* The most pages one SYS_MAP, SYS_UNMAP or SYS_PROTECT takes (256 MiB): it
 * bounds the time the kernel spends in one call. */
#define MICA_MAP_MAX_PAGES 65536

#endif
