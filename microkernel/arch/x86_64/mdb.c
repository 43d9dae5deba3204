/* The mapping database; see arch/mdb.h and docs/pager.md.
 *
 * Nodes live beside the page tables.  Every user table at level 1 (4 KiB
 * leaves) is two pool pages: the 512 entries the MMU reads and 512
 * eight-byte nodes (tag "map nodes"), node i for entry i; a level-2 table
 * gets its page of nodes when it first holds a 2 MiB leaf.  So a mapping's
 * node is found from its entry with no search, and a mapping costs no
 * allocation of its own.
 *
 * A node links its mapping into the derivation list of its root: a doubly
 * linked list in preorder, each node with its depth (a root 0; a mapping
 * made from a mapping of depth d has depth d + 1 and goes right behind
 * it).  What was derived from a node is exactly the run of nodes after it
 * that are deeper than it.  Links are references to entries: the entry's
 * offset in the pool in 8-byte words, plus one (0: none).  A node is
 *   bits  0..23  next   bits 24..47  prev   bits 48..63  depth
 * For each pool page that is a leaf table, `tables` says whose, where it
 * maps, and where its nodes are: 16 bytes per pool page, in the kernel's
 * bss (no boot work, nothing per frame of RAM). */
#include "arch/mdb.h"
#include "arch/layout.h"
#include "arch/paging.h"
#include "mica/arch.h"
#include "mica/kmem.h"
#include "mica/object.h"
#include "mica/panic.h"
#include "mica/pool.h"

#define MDB_POOL_PAGES 16384u /* 64 MiB, the largest pool (main.c) */
#define REF_MASK 0xffffffull
#define PREV_SHIFT 24
#define DEPTH_SHIFT 48

struct mdb_table {
    uint32_t nodes; /* pool page index of its nodes, plus one; 0: not a leaf table */
    uint32_t task;  /* byte offset of its task in the pool */
    uint64_t va;    /* what its slot 0 maps; bits 0..1: its level (1 or 2) */
};
_Static_assert(sizeof(struct mdb_table) == 16, "16 bytes per pool page");
_Static_assert((uint64_t)MDB_POOL_PAGES * 512 < REF_MASK, "every entry of the pool has a reference");

static struct mdb_table tables[MDB_POOL_PAGES];
static uint64_t pool_pa;

void mdb_init(void)
{
    uint64_t end;
    pool_range(&pool_pa, &end);
    ASSERT((end - pool_pa) >> PAGE_SHIFT <= MDB_POOL_PAGES);
}

/* ---- references, nodes and tables ------------------------------------- */

static uint32_t ref_of(const uint64_t *e)
{
    return (uint32_t)(((uint64_t)e - HHDM_BASE - pool_pa) >> 3) + 1;
}

static uint64_t *entry_of(uint32_t ref)
{
    return (uint64_t *)(HHDM_BASE + pool_pa) + (ref - 1);
}

static struct mdb_table *table_of(uint32_t ref)
{
    return &tables[(ref - 1) >> 9];
}

static uint64_t *node_of(uint32_t ref)
{
    const struct mdb_table *t = table_of(ref);
    return (uint64_t *)(HHDM_BASE + pool_pa + ((uint64_t)(t->nodes - 1) << PAGE_SHIFT)) + ((ref - 1) & 511);
}

static uint32_t next_of(uint64_t n)
{
    return (uint32_t)(n & REF_MASK);
}

static uint32_t prev_of(uint64_t n)
{
    return (uint32_t)((n >> PREV_SHIFT) & REF_MASK);
}

static uint32_t depth_of(uint64_t n)
{
    return (uint32_t)(n >> DEPTH_SHIFT);
}

static uint64_t node_make(uint32_t next, uint32_t prev, uint32_t depth)
{
    return (uint64_t)next | (uint64_t)prev << PREV_SHIFT | (uint64_t)depth << DEPTH_SHIFT;
}

static void set_next(uint32_t ref, uint32_t next)
{
    uint64_t *n = node_of(ref);
    *n = (*n & ~REF_MASK) | next;
}

static void set_prev(uint32_t ref, uint32_t prev)
{
    uint64_t *n = node_of(ref);
    *n = (*n & ~(REF_MASK << PREV_SHIFT)) | (uint64_t)prev << PREV_SHIFT;
}

/* The level (1 or 2) of the table holding ref. */
static unsigned level_of(uint32_t ref)
{
    return (unsigned)(table_of(ref)->va & 3);
}

static struct task *task_of_table(const struct mdb_table *t)
{
    return (struct task *)(HHDM_BASE + pool_pa + t->task);
}

static struct task *task_of(uint32_t ref)
{
    return task_of_table(table_of(ref));
}

/* The user address the entry of ref maps. */
static uint64_t va_of(uint32_t ref)
{
    const struct mdb_table *t = table_of(ref);
    unsigned shift = (t->va & 3) == 2 ? 21 : 12;
    return (t->va & ~(uint64_t)3) + ((uint64_t)((ref - 1) & 511) << shift);
}

/* The one place the database takes memory: a page of nodes for a table
 * of `owner`, charged to its kernel-memory quota (mica/kmem.h), or NULL. */
static void *mdb_node_alloc(struct task *owner)
{
    return kmem_page_alloc(&owner->kmem, MICA_TAG_MDB);
}

/* The one place the database gives memory back: a page of nodes of owner. */
static void mdb_node_free(void *page, struct task *owner)
{
    kmem_page_free(&owner->kmem, page, MICA_TAG_MDB);
}

/* Give the leaf table m its page of nodes; false when the pool is empty. */
static bool table_nodes(struct mdb_table *m)
{
    void *nodes = mdb_node_alloc(task_of_table(m));
    if (nodes == NULL)
        return false;
    m->nodes = (uint32_t)((virt_to_phys_direct(nodes) - pool_pa) >> PAGE_SHIFT) + 1;
    return true;
}

uint64_t mdb_table_alloc(struct task *t, unsigned level, uint64_t va)
{
    uint64_t pa = kmem_pt_alloc(&t->kmem);
    if (pa == 0)
        return 0;
    if (level > 2)
        return pa;
    struct mdb_table *m = &tables[(pa - pool_pa) >> PAGE_SHIFT];
    m->task = (uint32_t)(virt_to_phys_direct(t) - pool_pa);
    m->va = va | level;
    if (level == 1 && !table_nodes(m)) {
        *m = (struct mdb_table){0};
        kmem_page_free(&t->kmem, phys_to_virt(pa), MICA_TAG_PAGE_TABLE);
        return 0;
    }
    return pa;
}

bool mdb_large_ready(const uint64_t *e)
{
    struct mdb_table *m = &tables[(virt_to_phys_direct(e) - pool_pa) >> PAGE_SHIFT];
    return m->nodes != 0 || table_nodes(m);
}

void mdb_table_free(struct task *t, uint64_t table_pa)
{
    struct mdb_table *m = &tables[(table_pa - pool_pa) >> PAGE_SHIFT];
    if (m->nodes != 0)
        mdb_node_free((void *)(HHDM_BASE + pool_pa + ((uint64_t)(m->nodes - 1) << PAGE_SHIFT)),
                      task_of_table(m));
    *m = (struct mdb_table){0};
    kmem_page_free(&t->kmem, phys_to_virt(table_pa), MICA_TAG_PAGE_TABLE);
}

/* ---- derivation ---------------------------------------------------------- */

void mdb_root(uint64_t *e)
{
    *node_of(ref_of(e)) = 0;
}

bool mdb_can_derive(const uint64_t *e)
{
    return depth_of(*node_of(ref_of(e))) < MDB_DEPTH_MAX;
}

uint32_t mdb_depth(const uint64_t *e)
{
    return depth_of(*node_of(ref_of(e)));
}

void mdb_derive(uint64_t *parent, uint64_t *child)
{
    uint32_t p = ref_of(parent), c = ref_of(child);
    uint64_t *pn = node_of(p);
    uint32_t next = next_of(*pn);
    *node_of(c) = node_make(next, p, depth_of(*pn) + 1);
    *pn = (*pn & ~REF_MASK) | c;
    if (next != 0)
        set_prev(next, c);
}

void mdb_move(uint64_t *from, uint64_t *to)
{
    uint32_t f = ref_of(from), t = ref_of(to);
    uint64_t n = *node_of(f);
    *node_of(t) = n;
    *node_of(f) = 0;
    if (prev_of(n) != 0)
        set_next(prev_of(n), t);
    if (next_of(n) != 0)
        set_prev(next_of(n), t);
}

/* Clear the entry of ref and its TLB entry (its node is the caller's). */
static void clear_mapping(uint32_t ref)
{
    *entry_of(ref) = 0;
    tlb_invalidate(task_of(ref), va_of(ref));
}

uint64_t mdb_revoke_derived(uint64_t *e)
{
    uint32_t self = ref_of(e);
    uint64_t *sn = node_of(self);
    uint32_t depth = depth_of(*sn), first = next_of(*sn), r = first;
    uint64_t cleared = 0;
    while (r != 0) {
        uint64_t *n = node_of(r);
        if (depth_of(*n) <= depth)
            break;
        uint32_t next = next_of(*n);
        clear_mapping(r);
        *n = 0;
        cleared++;
        r = next;
    }
    if (r == first)
        return 0; /* nothing was derived from e: the common case */
    /* r: the first node after what was derived from e, or none. */
    *sn = (*sn & ~REF_MASK) | r;
    if (r != 0)
        set_prev(r, self);
    return cleared;
}

bool mdb_unlink_alone(uint64_t *e)
{
    uint32_t self = ref_of(e);
    uint64_t *sn = node_of(self);
    uint32_t next = next_of(*sn), prev = prev_of(*sn);
    if (next != 0) {
        uint64_t *nn = node_of(next);
        if (depth_of(*nn) > depth_of(*sn))
            return false; /* something was derived from e */
        *nn = (*nn & ~(REF_MASK << PREV_SHIFT)) | (uint64_t)prev << PREV_SHIFT;
    }
    if (prev != 0)
        set_next(prev, next);
    *sn = 0;
    return true;
}

void mdb_unlink(uint64_t *e)
{
    uint64_t *sn = node_of(ref_of(e));
    uint32_t prev = prev_of(*sn), next = next_of(*sn);
    if (prev != 0)
        set_next(prev, next);
    if (next != 0)
        set_prev(next, prev);
    *sn = 0;
}

void mdb_lower_derived(uint64_t *e, uint32_t rights)
{
    uint32_t self = ref_of(e);
    uint64_t sn = *node_of(self);
    uint32_t depth = depth_of(sn);
    for (uint32_t r = next_of(sn); r != 0;) {
        uint64_t n = *node_of(r);
        if (depth_of(n) <= depth)
            break;
        uint64_t *x = entry_of(r);
        uint32_t have = pte_rights(*x), want = have & rights;
        if (want != have) {
            *x = (*x & (PTE_ADDR_MASK | PTE_PS)) | rights_to_pte(want) | PTE_P;
            tlb_invalidate(task_of(r), va_of(r));
        }
        r = next_of(n);
    }
}

/* ---- splitting 2 MiB pages ------------------------------------------------ */

void mdb_split_need_add(struct mdb_split_need *need, const uint64_t *e)
{
    uint32_t self = ref_of(e);
    uint32_t depth = depth_of(*node_of(self));
    for (uint32_t r = self; r != 0;) {
        uint64_t n = *node_of(r);
        if (r != self && depth_of(n) <= depth)
            break;
        if (level_of(r) == 2)
            mdb_split_need_charge(need, task_of(r), MDB_TABLE_PAGES);
        r = next_of(n);
    }
}

void mdb_split_need_charge(struct mdb_split_need *need, struct task *owner, uint64_t pages)
{
    for (unsigned i = 0; i < need->n; i++) {
        if (need->owner[i] == owner) {
            need->pages[i] += pages;
            return;
        }
    }
    if (need->n == MDB_SPLIT_OWNERS) {
        need->overflow = true; /* refused as if it did not fit */
        return;
    }
    need->owner[need->n] = owner;
    need->pages[need->n++] = pages;
}

bool mdb_split_need_fits(const struct mdb_split_need *need)
{
    if (need->overflow)
        return false;
    for (unsigned i = 0; i < need->n; i++)
        if (kmem_room(&need->owner[i]->kmem) < need->pages[i])
            return false;
    return true;
}

bool mdb_derived_large(const uint64_t *e)
{
    uint32_t self = ref_of(e);
    uint32_t depth = depth_of(*node_of(self));
    for (uint32_t r = next_of(*node_of(self)); r != 0 && depth_of(*node_of(r)) > depth;
         r = next_of(*node_of(r)))
        if (level_of(r) == 2)
            return true;
    return false;
}

/* The last node of the run that starts at ref c of depth d: c and what was
 * derived from it. */
static uint32_t run_end(uint32_t c, uint32_t d)
{
    uint32_t end = c;
    for (uint32_t x = next_of(*node_of(c)); x != 0 && depth_of(*node_of(x)) > d; x = next_of(*node_of(x)))
        end = x;
    return end;
}

uint64_t mdb_revoke_derived_part(uint64_t *e, uint64_t pa, uint64_t size)
{
    uint32_t self = ref_of(e);
    uint32_t d = depth_of(*node_of(self));
    uint64_t cleared = 0;
    for (uint32_t c = next_of(*node_of(self)); c != 0 && depth_of(*node_of(c)) > d;) {
        uint64_t frame = *entry_of(c) & PTE_ADDR_MASK;
        if (depth_of(*node_of(c)) != d + 1 || frame < pa || frame >= pa + size) {
            c = next_of(*node_of(c)); /* another frame's, or below one */
            continue;
        }
        uint32_t after = next_of(*node_of(run_end(c, d + 1)));
        cleared += mdb_revoke_derived(entry_of(c)) + 1;
        mdb_unlink(entry_of(c));
        clear_mapping(c);
        c = after;
    }
    return cleared;
}

/* Split one 2 MiB leaf q whose derived mappings are all small pages: a new
 * level-1 table maps the same frames with the same rights; node i of it
 * takes the place of q for the mappings derived from frame i.  While the
 * runs are sorted out, node i's prev field holds the last node of its run. */
static void split_one(uint32_t q)
{
    uint64_t *pde = entry_of(q);
    struct task *t = task_of(q);
    uint64_t va = va_of(q);
    uint64_t pt = mdb_table_alloc(t, 1, va);
    ASSERT(pt != 0); /* mdb_split_need_fits said so before anything changed */
    uint64_t *ptv = phys_to_virt(pt);
    uint64_t flags = *pde & ~PTE_ADDR_MASK & ~PTE_PS;
    uint64_t frame = *pde & PTE_ADDR_MASK & ~(PAGE_2M - 1);
    for (unsigned i = 0; i < 512; i++)
        ptv[i] = (frame + i * PAGE_SIZE) | flags;
    uint64_t qn = *node_of(q);
    uint32_t d = depth_of(qn), first = ref_of(&ptv[0]);
    uint64_t *nodes = node_of(first);
    for (unsigned i = 0; i < 512; i++)
        nodes[i] = node_make(0, first + i, d);
    uint32_t c = next_of(qn);
    while (c != 0 && depth_of(*node_of(c)) > d) {
        uint32_t end = run_end(c, d + 1), after = next_of(*node_of(end));
        unsigned i = (unsigned)(((*entry_of(c) & PTE_ADDR_MASK) - frame) >> PAGE_SHIFT);
        uint32_t tail = prev_of(nodes[i]);
        set_next(tail, c);
        set_prev(c, tail);
        set_next(end, 0);
        nodes[i] = (nodes[i] & ~(REF_MASK << PREV_SHIFT)) | (uint64_t)end << PREV_SHIFT;
        c = after;
    }
    /* Chain the 512 runs in order between q's neighbours. */
    uint32_t prev_tail = prev_of(qn);
    for (unsigned i = 0; i < 512; i++) {
        uint32_t tail = prev_of(nodes[i]);
        nodes[i] = (nodes[i] & ~(REF_MASK << PREV_SHIFT)) | (uint64_t)prev_tail << PREV_SHIFT;
        if (prev_tail != 0)
            set_next(prev_tail, first + i);
        prev_tail = tail;
    }
    set_next(prev_tail, c);
    if (c != 0)
        set_prev(c, prev_tail);
    *node_of(q) = 0;
    *pde = pt | PTE_P | PTE_W | PTE_U;
    tlb_invalidate(t, va);
}

void mdb_split(uint64_t *e)
{
    uint32_t self = ref_of(e);
    for (;;) {
        /* The last 2 MiB mapping in preorder has no 2 MiB one below it. */
        uint32_t depth = depth_of(*node_of(self)), last = 0;
        for (uint32_t r = next_of(*node_of(self)); r != 0 && depth_of(*node_of(r)) > depth;
             r = next_of(*node_of(r)))
            if (level_of(r) == 2)
                last = r;
        if (last == 0)
            break;
        split_one(last);
    }
    split_one(self);
}
