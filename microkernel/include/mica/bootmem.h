/* Physical memory at boot: the sanitized free set, and the kernel's own
 * early frames taken out of it.  Ownership: until the pager starts, every
 * frame in the free set belongs to nobody; the kernel takes page-table
 * frames out of it with bootmem_alloc_page(), after which they are the
 * kernel's for good. */
#ifndef MICA_BOOTMEM_H
#define MICA_BOOTMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/physmap.h"

struct mb2_info;

/* Build the free set from the boot loader's memory map minus everything in
 * use (see docs/memory-layout.md).  Returns 0, or -1 with a [FAIL] line when
 * the boot information leaves nothing usable. */
int bootmem_init(const struct mb2_info *mb, uint64_t mb_phys);

/* Take one zeroed 4 KiB frame below 4 GiB for the kernel; 0 when none. */
uint64_t bootmem_alloc_page(void);

/* Print the boot loader's map and the free set as tables. */
void bootmem_print(const struct mb2_info *mb);

/* Count (and log) frames that are in use yet in the free set: every table
 * reachable from `root`, the boot information, modules, symbol data, the
 * kernel image and the first MiB.  0 means the invariant holds.  The in-use
 * ranges are read from their own sources (the raw multiboot2 block, the
 * linker's symbols, the page tables), never from the reserved set. */
unsigned bootmem_verify(uint64_t root);
/* The same proof for any set (a copy, in the self-tests); root 0 skips the
 * page-table walk; `log` says whether each finding gets a [FAIL] line. */
unsigned bootmem_verify_set(const struct pm_set *free, uint64_t root, bool log);

/* From now on the free set belongs to init: the kernel takes no more. */
void bootmem_hand_over(void);

const struct pm_set *bootmem_free(void);
const struct pm_set *bootmem_ram(void);
/* The free set as bootmem_init left it, before the kernel took any frame. */
const struct pm_set *bootmem_initial_free(void);
const struct pm_set *bootmem_reserved(void);
uint64_t bootmem_kernel_frames(void);

#endif
