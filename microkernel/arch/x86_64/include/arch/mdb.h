/* The mapping database (arch/x86_64/mdb.c): for every user mapping, the
 * mapping it was derived from, so that taking a mapping back takes back
 * everything made from it (docs/pager.md, "The mapping database").
 *
 * Used by space.c only.  A "leaf" below is a present user entry of a table
 * made by mdb_table_alloc: a 4 KiB entry of a level-1 table or a 2 MiB
 * entry (PTE_PS) of a level-2 table.  Locking: one CPU, interrupts off; an
 * SMP kernel takes one lock around every call here (the lists of several
 * tasks are touched at once). */
#ifndef MICA_ARCH_MDB_H
#define MICA_ARCH_MDB_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/paging.h"
#include "mica/abi.h"

struct task;

/* Pool pages a new level-1 table (or a level-2 one with 2 MiB leaves)
 * takes at most: entries and nodes. */
#define MDB_TABLE_PAGES 2u
/* The deepest a mapping may be (a root is 0): a mapping this deep cannot
 * be mapped on (MICA_ENOMEM: the database has no room to record it). */
#define MDB_DEPTH_MAX 0xffffu

/* Record the pool's bounds; once, after pool_init and before any task. */
void mdb_init(void);

/* A zeroed user page table of `level` for t whose slot 0 maps va; at
 * level 1 with its page of nodes.  Physical address, or 0 when the pool
 * has no page left. */
uint64_t mdb_table_alloc(struct task *t, unsigned level, uint64_t va);
/* Make level-2 entry e ready to be a 2 MiB leaf: its table's page of
 * nodes, made on first use; false when the pool has no page left. */
bool mdb_large_ready(const uint64_t *e);
/* Free t's table made by mdb_table_alloc (and its nodes). */
void mdb_table_free(struct task *t, uint64_t table_pa);

/* Leaf e was made by the kernel itself: a root, derived from nothing. */
void mdb_root(uint64_t *e);
/* True when a mapping may still be derived from leaf e (depth limit). */
bool mdb_can_derive(const uint64_t *e);
/* Leaf child was just mapped from leaf parent (mdb_can_derive holds). */
void mdb_derive(uint64_t *parent, uint64_t *child);
/* Leaf `to` takes the place of leaf `from` (a grant): the same parent,
 * the same derived mappings; `from`'s node is cleared (not its entry). */
void mdb_move(uint64_t *from, uint64_t *to);
/* Clear every mapping derived from leaf e, in every task (not e itself);
 * stale TLB entries are dealt with.  How many were cleared. */
uint64_t mdb_revoke_derived(uint64_t *e);
/* Take leaf e out of the database (nothing is derived from it any more);
 * its entry is the caller's to clear. */
void mdb_unlink(uint64_t *e);
/* mdb_unlink when nothing was derived from leaf e (the common case, in one
 * look at its neighbours); false, changing nothing, otherwise. */
bool mdb_unlink_alone(uint64_t *e);
/* Lower every mapping derived from leaf e (not e) to at most `rights`. */
void mdb_lower_derived(uint64_t *e, uint32_t rights);
/* How many derivations leaf e is away from its root (0: a root). */
uint32_t mdb_depth(const uint64_t *e);
/* What splits would charge, and to whom (each 2 MiB page split is a new
 * level-1 table of its task: MDB_TABLE_PAGES pages of its quota). */
#define MDB_SPLIT_OWNERS 8
struct mdb_split_need {
    struct task *owner[MDB_SPLIT_OWNERS];
    uint64_t pages[MDB_SPLIT_OWNERS];
    unsigned n;
    bool overflow; /* more owners than it keeps: counts as not fitting */
};
/* Add what splitting 2 MiB leaf e (and every 2 MiB mapping derived from
 * it) charges. */
void mdb_split_need_add(struct mdb_split_need *need, const uint64_t *e);
/* Add `pages` to owner's part. */
void mdb_split_need_charge(struct mdb_split_need *need, struct task *owner, uint64_t pages);
/* True when every owner's quota has room for its part. */
bool mdb_split_need_fits(const struct mdb_split_need *need);
/* True when a 2 MiB mapping was derived from 2 MiB leaf e. */
bool mdb_derived_large(const uint64_t *e);
/* Clear the small mappings derived from the frames [pa, pa + size) of
 * 2 MiB leaf e, with what was derived from them, in every task, without
 * splitting e (none derived from e may be 2 MiB: mdb_derived_large); how
 * many were cleared.  The pager takes one frame of its window back so. */
uint64_t mdb_revoke_derived_part(uint64_t *e, uint64_t pa, uint64_t size);
/* Split 2 MiB leaf e (and its 2 MiB descendants) into small pages, each
 * derived mapping moving under the small page of its frame; the quota
 * must be there (mdb_split_need_fits). */
void mdb_split(uint64_t *e);

/* The one place a stale TLB entry for va in t is dealt with: invalidated
 * now when t's space is loaded, else t's next load flushes its PCID. */
void tlb_invalidate(struct task *t, uint64_t va);

/* Rights and page-table bits, each defined once (inline: the map, unmap
 * and fault paths use them). */

/* The MICA_MAP_* rights a present user leaf entry grants. */
static inline uint32_t pte_rights(uint64_t e)
{
    return MICA_MAP_READ | ((e & PTE_W) ? MICA_MAP_WRITE : 0) |
           ((e & PTE_NX) && !(e & PTE_XGRANT) ? 0 : MICA_MAP_EXEC);
}

/* Leaf bits (without address, P, PS) for MICA_MAP_* rights.  Never
 * writable and executable: asking for both gives a writable,
 * non-executable page that keeps the right to grant execution. */
static inline uint64_t rights_to_pte(uint32_t rights)
{
    uint64_t flags = PTE_U;
    if (rights & MICA_MAP_WRITE)
        flags |= PTE_W;
    if (!(rights & MICA_MAP_EXEC))
        flags |= PTE_NX;
    else if (rights & MICA_MAP_WRITE)
        flags |= PTE_NX | PTE_XGRANT;
    return flags;
}

/* True for a non-empty set of MICA_MAP_READ/WRITE/EXEC and nothing else. */
static inline bool rights_valid(uint64_t rights)
{
    return rights != 0 && !(rights & ~(uint64_t)(MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC));
}

#endif
