/* x86_64 page tables, 4- or 5-level, chosen at boot.
 *
 * The kernel's own tables are built once by paging_init() from frames it
 * takes out of the free set before anyone else can have them. */
#ifndef MICA_ARCH_PAGING_H
#define MICA_ARCH_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_A 0x20ull
#define PTE_D 0x40ull
#define PTE_PS 0x80ull
#define PTE_G 0x100ull
/* Software bit (ignored by the CPU): the holder of this user mapping may
 * grant execute rights on the frame although the mapping itself is NX.
 * Free memory is handed out this way, so nothing is ever W and X at once. */
#define PTE_XGRANT 0x200ull
#define PTE_NX (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

#define PAGE_2M (2ull << 20)
#define PAGE_1G (1ull << 30)

/* PCIDs: no two live address spaces hold the same one, so a CR3 load that
 * keeps a PCID's TLB entries (bit 63) finds only its own space's there.
 * pcid_take returns a PCID no live space holds, or 0 when all 4095 are
 * taken: PCID 0 may be shared, because loading it always flushes it.
 * pcid_release(0) does nothing. */
#define PCID_COUNT 4096
uint16_t pcid_take(void);
void pcid_release(uint16_t pcid);

/* 4 or 5: how many levels the CPU walks; set once by the boot stub's choice. */
extern unsigned paging_levels;

/* A source of zeroed 4 KiB frames for page tables; returns 0 when empty. */
typedef uint64_t (*pt_alloc_fn)(void);

/* Map [va, va + size) to [pa, pa + size) in the tree rooted at physical
 * `root` with pages of `page` bytes (4 KiB, 2 MiB or 1 GiB), all aligned.
 * Returns 0, or -1 when `alloc` ran dry or a mapping is already there. */
int pt_map(uint64_t root, uint64_t va, uint64_t pa, uint64_t size, uint64_t page, uint64_t flags,
           pt_alloc_fn alloc);

/* Clear the 4 KiB leaf for va; false if there is none (or a large page). */
bool pt_unmap_4k(uint64_t root, uint64_t va);

/* Translate va through the tree at `root`; on success store the physical
 * address and the leaf's flags (NX, U, W combined over the levels as the
 * CPU does: W and U only if set at every level, NX if set at any). */
bool pt_translate(uint64_t root, uint64_t va, uint64_t *pa, uint64_t *flags);

/* Call fn(table_phys, ctx) for the root and for every table reachable from it. */
void arch_pt_for_each_table(uint64_t root, void (*fn)(uint64_t table_phys, void *ctx), void *ctx);

/* The root (CR3 address) of the kernel's tables, once built. */
uint64_t kernel_root(void);

struct pm_set;
/* Build the kernel's tables: the image with per-section rights, the direct
 * map of every RAM range in `ram`, nothing else; then switch CR3 to them. */
void paging_init(const struct pm_set *ram, pt_alloc_fn alloc);

/* Sign-extend a virtual address to canonical form for the active mode. */
uint64_t va_canonical(uint64_t va);

#endif
