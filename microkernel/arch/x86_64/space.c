/* User address spaces on x86_64; see include/mica/space.h.
 *
 * Every user page table comes from the kernel object pool (tag "page
 * table"; a level-1 table has a page of mapping-database nodes beside it,
 * tag "map nodes", arch/mdb.h), so running out is MICA_ENOMEM, never a
 * panic, and all of them are freed when the space dies.  Every user leaf
 * is in the mapping database; every TLB invalidation goes through
 * tlb_invalidate.  The kernel half (top-level slots 256..511) is copied
 * from the kernel's own root when a space is created; nothing adds
 * top-level kernel entries later, so the copies stay true. */
#include "mica/space.h"
#include "arch/cpu.h"
#include "arch/desc.h"
#include "arch/layout.h"
#include "arch/mdb.h"
#include "arch/paging.h"
#include "arch/percpu.h"
#include "arch/trap.h"
#include "mica/abi.h"
#include "mica/arch.h"
#include "mica/kmem.h"
#include "mica/layout.h" /* MICA_MAP_MAX_PAGES */
#include "mica/object.h"
#include "mica/panic.h"
#include "mica/pool.h"
#include "mica/sched.h"

uint64_t user_top;
struct percpu percpu;

/* Which PCIDs live spaces hold, a bit each; PCID 0 is never handed out. */
static uint64_t pcid_used[PCID_COUNT / 64];
/* Where the next search starts: the word after the last PCID taken, so a
 * boot with few tasks finds a free bit in the first word it reads. */
static unsigned pcid_hint;

uint16_t pcid_take(void)
{
    for (unsigned i = 0; i < PCID_COUNT / 64; i++) {
        unsigned w = (pcid_hint + i) % (PCID_COUNT / 64);
        uint64_t free = ~pcid_used[w] & (w == 0 ? ~1ull : ~0ull);
        if (free != 0) {
            unsigned b = (unsigned)__builtin_ctzll(free);
            pcid_used[w] |= 1ull << b;
            pcid_hint = w;
            return (uint16_t)(w * 64 + b);
        }
    }
    return 0;
}

void pcid_release(uint16_t pcid)
{
    if (pcid != 0 && pcid < PCID_COUNT)
        pcid_used[pcid / 64] &= ~(1ull << (pcid % 64));
}

int arch_space_create(struct task *t)
{
    uint64_t root = mdb_table_alloc(t, paging_levels, 0);
    if (root == 0)
        return -1;
    const uint64_t *k = phys_to_virt(kernel_root());
    uint64_t *u = phys_to_virt(root);
    for (int i = 256; i < 512; i++)
        u[i] = k[i];
    t->root = root;
    /* A PCID no live space holds (two sharing one would read each other's
     * TLB entries); it may have served a dead task: flush it on first use.
     * (SMP: the flush must then happen on every CPU, once each.) */
    t->arch.pcid = cpu_features.pcid ? pcid_take() : 0;
    t->arch.cr3 = root | t->arch.pcid;
    t->arch.tlb_stale = 1;
    return 0;
}

void space_init(void)
{
    mdb_init();
}

void tlb_invalidate(struct task *t, uint64_t va)
{
    if ((percpu.cr3 & PTE_ADDR_MASK) == t->root)
        invlpg(va); /* the current PCID's entry */
    else
        t->arch.tlb_stale = 1; /* its PCID may hold the old entry: flush on next load */
}

/* Leaf e of t at va leaves the database with every mapping derived from
 * it (with `keep`, only those go); its TLB entry too.  How many went. */
static uint64_t revoke(struct task *t, uint64_t *e, uint64_t va, bool keep)
{
    if (!keep && mdb_unlink_alone(e)) {
        *e = 0;
        tlb_invalidate(t, va);
        return 1;
    }
    uint64_t n = mdb_revoke_derived(e);
    if (keep)
        return n;
    mdb_unlink(e);
    *e = 0;
    tlb_invalidate(t, va);
    return n + 1;
}

/* Free slots [first, last) of t's table at table_pa of `level`, whose slot
 * 0 maps va, and the table: each leaf leaves the mapping database with
 * what was derived from it (in any task, t too); lower tables likewise. */
static void release_tables(struct task *t, uint64_t table_pa, unsigned level, uint64_t va, unsigned first,
                           unsigned last)
{
    uint64_t *tab = phys_to_virt(table_pa);
    for (unsigned i = first; i < last; i++) {
        uint64_t e = tab[i], at = va + ((uint64_t)i << (PAGE_SHIFT + 9 * (level - 1)));
        if (!(e & PTE_P))
            continue;
        if (level == 1 || (e & PTE_PS))
            revoke(t, &tab[i], at, false);
        else
            release_tables(t, e & PTE_ADDR_MASK, level - 1, at, 0, 512);
    }
    mdb_table_free(t, table_pa);
}

void arch_space_destroy(struct task *t)
{
    if (t->root == 0)
        return;
    if ((percpu.cr3 & PTE_ADDR_MASK) == t->root) {
        percpu.cr3 = kernel_root();
        write_cr3(kernel_root());
    }
    release_tables(t, t->root, paging_levels, 0, 0, 256);
    t->root = 0;
    pcid_release(t->arch.pcid);
    t->arch.pcid = 0;
}

struct trap_frame *arch_thread_frame_init(struct thread *th, uint64_t entry, uint64_t stack, uint64_t arg0,
                                          uint64_t arg1)
{
    struct trap_frame *tf = (struct trap_frame *)(th->kstack + PAGE_SIZE) - 1;
    *tf = (struct trap_frame){
        .rip = entry,
        .cs = GDT_USER_CS | 3,
        .rflags = 0x202,
        .rsp = stack,
        .ss = GDT_USER_DS | 3,
        .rdi = arg0,
        .rsi = arg1,
    };
    return tf;
}

int user_range_check(uint64_t va, uint64_t pages)
{
    if (pages == 0 || (va & (PAGE_SIZE - 1)) != 0 || pages > (user_top >> PAGE_SHIFT))
        return MICA_EINVAL;
    if (va_canonical(va) != va)
        return MICA_ENONCANON;
    if (va >= user_top)
        return MICA_EKERNEL;
    if (va + pages * PAGE_SIZE > user_top)
        return va + pages * PAGE_SIZE < va ? MICA_ENONCANON : MICA_EKERNEL;
    return MICA_OK;
}

/* ---- entries ------------------------------------------------------------------ */

/* Index of va in a table of `level` (1 = page table ... 5 = PML5). */
static unsigned slot_index(uint64_t va, unsigned level)
{
    return (unsigned)(va >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}

/* The leaf entry that maps va in t, with its level (1: 4 KiB, 2: 2 MiB),
 * or NULL when va is in no user mapping of t.  Tables above a leaf are
 * always present, writable and user, so the leaf alone says the rights. */
static uint64_t *leaf_entry(struct task *t, uint64_t va, unsigned *level)
{
    uint64_t *tab = (uint64_t *)(HHDM_BASE + t->root);
    for (unsigned l = paging_levels;; l--) {
        uint64_t *e = &tab[slot_index(va, l)];
        if (!(*e & PTE_P))
            return NULL;
        if (l == 1 || (*e & PTE_PS)) {
            *level = l;
            return (*e & PTE_U) ? e : NULL;
        }
        tab = (uint64_t *)(HHDM_BASE + (*e & PTE_ADDR_MASK));
    }
}

/* The physical address of page va inside the leaf e of `level`. */
static uint64_t leaf_pa(uint64_t e, unsigned level, uint64_t va)
{
    if (level == 1)
        return e & PTE_ADDR_MASK;
    return (e & PTE_ADDR_MASK & ~(PAGE_2M - 1)) + (va & (PAGE_2M - 1) & ~(uint64_t)(PAGE_SIZE - 1));
}

/* The level-1 entry for va in the tree at root, or NULL when a table on
 * the way is missing or a large page is in the way. */
static uint64_t *leaf_slot(uint64_t root, uint64_t va)
{
    uint64_t *t = (uint64_t *)(HHDM_BASE + root);
    for (unsigned l = paging_levels; l > 1; l--) {
        uint64_t e = t[slot_index(va, l)];
        if ((e & (PTE_P | PTE_PS)) != PTE_P)
            return NULL;
        t = (uint64_t *)(HHDM_BASE + (e & PTE_ADDR_MASK));
    }
    return &t[slot_index(va, 1)];
}

/* The entry of `level` (1 or 2) for va in t, making the tables on the way
 * (mdb_table_alloc; a level-2 entry with its nodes); NULL when the pool is
 * empty or a 2 MiB page is in the way of a level-1 entry. */
static uint64_t *slot_create(struct task *t, uint64_t va, unsigned level)
{
    uint64_t *tab = (uint64_t *)(HHDM_BASE + t->root);
    for (unsigned l = paging_levels; l > level; l--) {
        uint64_t *e = &tab[slot_index(va, l)];
        if (!(*e & PTE_P)) {
            uint64_t span = 1ull << (PAGE_SHIFT + 9 * (l - 1)); /* what e covers */
            uint64_t pt = mdb_table_alloc(t, l - 1, va & ~(span - 1));
            if (pt == 0)
                return NULL;
            *e = pt | PTE_P | PTE_W | PTE_U;
        } else if (*e & PTE_PS) {
            return NULL;
        }
        tab = (uint64_t *)(HHDM_BASE + (*e & PTE_ADDR_MASK));
    }
    uint64_t *e = &tab[slot_index(va, level)];
    return level == 1 || mdb_large_ready(e) ? e : NULL;
}

/* ---- the kernel's own mappings (roots) ------------------------------------ */

int space_map_page(struct task *t, uint64_t va, uint64_t pa, uint32_t rights)
{
    unsigned level;
    if (leaf_entry(t, va, &level) != NULL)
        return MICA_EEXISTS;
    uint64_t *e = slot_create(t, va, 1);
    if (e == NULL)
        return MICA_ENOMEM;
    *e = pa | rights_to_pte(rights) | PTE_P;
    mdb_root(e);
    return MICA_OK;
}

/* Slots left in va's page directory from va's slot on. */
static uint64_t pd_slots_left(uint64_t va)
{
    return 512 - slot_index(va, 2);
}

int space_map_frames(struct task *t, uint64_t va, uint64_t pa, uint64_t size, uint32_t rights)
{
    uint64_t flags = rights_to_pte(rights) | PTE_P;
    for (uint64_t end = pa + size; pa < end;) {
        bool large = ((va | pa) % PAGE_2M) == 0 && end - pa >= PAGE_2M;
        uint64_t *e = slot_create(t, va, large ? 2 : 1);
        if (e == NULL || (*e & PTE_P))
            return MICA_ENOMEM;
        /* A 2 MiB page: its neighbours in the same directory follow slot by
         * slot, without a walk each (a large window is thousands of them). */
        uint64_t n = large ? (end - pa) / PAGE_2M : 1, j = 0;
        if (n > pd_slots_left(va))
            n = pd_slots_left(va);
        do {
            e[j] = (pa + j * PAGE_2M) | flags | (large ? PTE_PS : 0);
            mdb_root(&e[j]);
        } while (++j < n && !(e[j] & PTE_P));
        va += large ? j * PAGE_2M : PAGE_SIZE;
        pa += large ? j * PAGE_2M : PAGE_SIZE;
    }
    return MICA_OK;
}

bool space_lookup(struct task *t, uint64_t va, uint64_t *pa, uint32_t *rights)
{
    uint64_t flags;
    if (va >= user_top || !pt_translate(t->root, va, pa, &flags) || !(flags & PTE_U))
        return false;
    *rights = pte_rights(flags);
    return true;
}

bool space_mapping_info(struct task *t, uint64_t va, uint64_t *pa, uint32_t *rights, uint32_t *depth,
                        uint64_t *size)
{
    unsigned level;
    uint64_t *e = va < user_top ? leaf_entry(t, va, &level) : NULL;
    if (e == NULL)
        return false;
    *pa = leaf_pa(*e, level, va);
    *rights = pte_rights(*e);
    *depth = mdb_depth(e);
    *size = level == 2 ? PAGE_2M : PAGE_SIZE;
    return true;
}

void *space_user_ptr(struct task *t, uint64_t va, bool write)
{
    uint64_t pa, flags;
    if (!pt_translate(t->root, va, &pa, &flags) || !(flags & PTE_U) || (write && !(flags & PTE_W)))
        return NULL;
    return (void *)(HHDM_BASE + pa); /* phys_to_virt, without the call */
}

#define PAGES_2M (PAGE_2M / PAGE_SIZE)

/* ---- mapping -------------------------------------------------------------- */

static bool whole_2m(struct task *to, uint64_t src, uint64_t dst, uint64_t left);

/* ---- runs of 2 MiB leaves ---------------------------------------------------
 * Init's hand-over of a large window moves thousands of 2 MiB leaves in one
 * call.  Once one leaf of a run has been found by a walk, its neighbours in
 * the same page directory are the next slots: these go slot by slot, so a
 * run costs one walk per page directory, not two per 2 MiB page. */

/* The slot of to's page directory for dst, or NULL when no directory is
 * there yet (then every slot it would hold is empty). */
static uint64_t *pd_slot(struct task *to, uint64_t dst)
{
    uint64_t *tab = (uint64_t *)(HHDM_BASE + to->root);
    for (unsigned l = paging_levels; l > 2; l--) {
        uint64_t e = tab[slot_index(dst, l)];
        if (!(e & PTE_P) || (e & PTE_PS))
            return NULL;
        tab = (uint64_t *)(HHDM_BASE + (e & PTE_ADDR_MASK));
    }
    return &tab[slot_index(dst, 2)];
}

/* How many 2 MiB leaves, from the one at s (the leaf of src, 2 MiB
 * aligned, as is dst) on, stay within both page directories and `left`
 * pages, are user leaves whose rights cover `rights`, may be derived from
 * (unless `grant`) and go to empty slots of to (d, or no directory). */
static uint64_t run_2m(uint64_t *s, uint64_t *d, uint64_t src, uint64_t dst, uint64_t left, uint64_t rights,
                       bool grant)
{
    uint64_t max = pd_slots_left(src) < pd_slots_left(dst) ? pd_slots_left(src) : pd_slots_left(dst);
    if (max > left / PAGES_2M)
        max = left / PAGES_2M;
    uint64_t k = 0;
    for (; k < max; k++) {
        uint64_t e = s[k];
        if ((e & (PTE_P | PTE_PS | PTE_U)) != (PTE_P | PTE_PS | PTE_U) ||
            (rights & ~(uint64_t)pte_rights(e)) || (d != NULL && (d[k] & PTE_P)) ||
            (!grant && !mdb_can_derive(&s[k])))
            break;
    }
    return k;
}

int space_map_check(struct task *from, struct task *to, uint64_t src, uint64_t dst, uint64_t pages,
                    uint64_t rights)
{
    if (pages > MICA_MAP_MAX_PAGES || !rights_valid(rights & ~(uint64_t)MICA_MAP_GRANT))
        return MICA_EINVAL;
    int err = user_range_check(src, pages);
    if (err == MICA_OK)
        err = user_range_check(dst, pages);
    bool grant = (rights & MICA_MAP_GRANT) != 0;
    uint64_t want = rights & ~(uint64_t)MICA_MAP_GRANT;
    for (uint64_t i = 0, step; err == MICA_OK && i < pages; i += step) {
        unsigned level;
        uint64_t sva = src + i * PAGE_SIZE, dva = dst + i * PAGE_SIZE;
        uint64_t *s = leaf_entry(from, sva, &level);
        step = s != NULL && level == 2 && whole_2m(to, sva, dva, pages - i)
                   ? PAGES_2M * run_2m(s, pd_slot(to, dva), sva, dva, pages - i, want, grant)
                   : 0;
        if (step != 0)
            continue; /* whole 2 MiB leaves, all allowed, into empty space: one look each */
        step = 1;
        if (s == NULL)
            err = MICA_ENOTOWNER;
        else if (want & ~(uint64_t)pte_rights(*s))
            err = MICA_EUPGRADE;
        else if (leaf_entry(to, dva, &level) != NULL)
            err = MICA_EEXISTS;
        else if (!grant && !mdb_can_derive(s))
            err = MICA_ENOMEM;
    }
    return err;
}

/* One 4 KiB page into a space whose tables exist already (a pager's answer
 * to a fault, the common case): one walk of each tree.  False when the
 * request is not of that kind (the general path then checks and maps it);
 * true when it was decided here, with *status the call's result. */
static bool map_one(struct task *from, struct task *to, uint64_t src, uint64_t dst, uint64_t rights,
                    int *status)
{
    if (!rights_valid(rights) || ((src | dst) & (PAGE_SIZE - 1)) || src >= user_top || dst >= user_top)
        return false;
    uint64_t *d = leaf_slot(to->root, dst);
    unsigned level;
    uint64_t *s = leaf_entry(from, src, &level);
    if (d == NULL || s == NULL || !mdb_can_derive(s))
        return false;
    if (rights & ~(uint64_t)pte_rights(*s))
        *status = MICA_EUPGRADE;
    else if (*d & PTE_P)
        *status = MICA_EEXISTS;
    else {
        *d = leaf_pa(*s, level, src) | rights_to_pte((uint32_t)rights) | PTE_P;
        mdb_derive(s, d);
        *status = MICA_OK;
    }
    return true;
}

/* True when the 2 MiB leaf of `from` at src moves or maps on whole: both
 * ends aligned, the range covers it, and no table sits where it goes. */
static bool whole_2m(struct task *to, uint64_t src, uint64_t dst, uint64_t left)
{
    if (left < PAGES_2M || ((src | dst) & (PAGE_2M - 1)) != 0)
        return false;
    uint64_t *tab = (uint64_t *)(HHDM_BASE + to->root);
    for (unsigned l = paging_levels; l > 2; l--) {
        uint64_t e = tab[slot_index(dst, l)];
        if (!(e & PTE_P))
            return true;
        tab = (uint64_t *)(HHDM_BASE + (e & PTE_ADDR_MASK));
    }
    return !(tab[slot_index(dst, 2)] & PTE_P);
}

/* Map (or, with `grant`, move) the one leaf of `from` at src to dst in
 * `to`: a whole 2 MiB leaf when whole_2m allows, else one small page.  The
 * pages mapped, or 0 when the pool is empty. */
static uint64_t map_leaf(struct task *from, struct task *to, uint64_t src, uint64_t dst, uint64_t left,
                         uint32_t rights, bool grant)
{
    unsigned level;
    uint64_t *s = leaf_entry(from, src, &level);
    if (level == 2 && grant && !whole_2m(to, src, dst, left)) {
        mdb_split(s); /* a grant moves small pages out of it: pages counted by the check */
        s = leaf_entry(from, src, &level);
    }
    bool large = level == 2 && whole_2m(to, src, dst, left);
    uint64_t *d = slot_create(to, dst, large ? 2 : 1);
    if (d == NULL)
        return 0;
    *d = (large ? *s & PTE_ADDR_MASK : leaf_pa(*s, level, src)) | rights_to_pte(rights) | PTE_P |
         (large ? PTE_PS : 0);
    if (grant) {
        uint32_t had = pte_rights(*s);
        mdb_move(s, d);
        *s = 0;
        tlb_invalidate(from, src);
        if (rights != had)
            mdb_lower_derived(d, rights); /* what was derived keeps at most the new rights */
    } else {
        mdb_derive(s, d);
    }
    return large ? PAGES_2M : 1;
}

/* Map (or, with `grant`, move) the whole 2 MiB leaves of `from` from src
 * on into empty slots of `to` from dst on, while both stay within their
 * page directories: what map_leaf does to each, without its two walks per
 * leaf.  The pages done; 0 when fewer than two whole leaves start here
 * (map_leaf then takes one) or the directory cannot be made. */
static uint64_t map_2m_run(struct task *from, struct task *to, uint64_t src, uint64_t dst, uint64_t left,
                           uint32_t rights, bool grant)
{
    unsigned level = 1;
    uint64_t *s = left >= 2 * PAGES_2M ? leaf_entry(from, src, &level) : NULL;
    if (s == NULL || level != 2 || !whole_2m(to, src, dst, left))
        return 0;
    uint64_t k = run_2m(s, pd_slot(to, dst), src, dst, left, rights, grant);
    uint64_t *d = k >= 2 ? slot_create(to, dst, 2) : NULL;
    if (d == NULL)
        return 0;
    uint64_t bits = rights_to_pte(rights) | PTE_P | PTE_PS;
    for (uint64_t j = 0; j < k; j++) {
        d[j] = (s[j] & PTE_ADDR_MASK) | bits;
        if (!grant) {
            mdb_derive(&s[j], &d[j]);
            continue;
        }
        uint32_t had = pte_rights(s[j]);
        mdb_move(&s[j], &d[j]);
        s[j] = 0;
        tlb_invalidate(from, src + j * PAGE_2M);
        if (rights != had)
            mdb_lower_derived(&d[j], rights); /* what was derived keeps at most the new rights */
    }
    return k * PAGES_2M;
}

/* True when the quotas can pay for a grant of [src, src + pages): the
 * splits of 2 MiB leaves it cannot move whole (charged to their tasks)
 * and, at most, the destination's new tables (charged to `to`). */
static bool grant_fits(struct task *from, struct task *to, uint64_t src, uint64_t dst, uint64_t pages)
{
    struct mdb_split_need need = {0};
    uint64_t small = 0; /* pages that move as 4 KiB pages: they need level-1 tables */
    for (uint64_t i = 0; i < pages;) {
        unsigned level;
        uint64_t *s = leaf_entry(from, src + i * PAGE_SIZE, &level);
        if (level == 1) {
            i++;
            small++;
            continue;
        }
        uint64_t sva = src + i * PAGE_SIZE, dva = dst + i * PAGE_SIZE;
        uint64_t n = ((sva & ~(PAGE_2M - 1)) + PAGE_2M - sva) / PAGE_SIZE;
        if (!whole_2m(to, sva, dva, pages - i)) {
            mdb_split_need_add(&need, s);
            small += n;
        } else {
            n = PAGES_2M * run_2m(s, pd_slot(to, dva), sva, dva, pages - i, 0, true); /* moves whole */
        }
        i += n;
    }
    /* Level-1 and level-2 tables with their nodes, and one table a level above. */
    uint64_t tables = MDB_TABLE_PAGES * (small / PAGES_2M + 2) +
                      MDB_TABLE_PAGES * (pages / (PAGES_2M * 512) + 2) + paging_levels;
    mdb_split_need_charge(&need, to, tables);
    return mdb_split_need_fits(&need);
}

int space_map_range(struct task *from, struct task *to, uint64_t src, uint64_t dst, uint64_t pages,
                    uint64_t rights)
{
    int status;
    if (pages == 1 && map_one(from, to, src, dst, rights, &status))
        return status;
    bool grant = (rights & MICA_MAP_GRANT) != 0;
    rights &= ~(uint64_t)MICA_MAP_GRANT;
    int err = space_map_check(from, to, src, dst, pages, rights | (grant ? MICA_MAP_GRANT : 0));
    if (err == MICA_OK && grant && !grant_fits(from, to, src, dst, pages))
        err = MICA_ENOMEM; /* a grant cannot be undone halfway: all pages first */
    uint64_t done = 0;
    while (err == MICA_OK && done < pages) {
        uint64_t n = map_2m_run(from, to, src + done * PAGE_SIZE, dst + done * PAGE_SIZE, pages - done,
                                (uint32_t)rights, grant);
        if (n == 0)
            n = map_leaf(from, to, src + done * PAGE_SIZE, dst + done * PAGE_SIZE, pages - done,
                         (uint32_t)rights, grant);
        if (n == 0)
            err = MICA_ENOMEM;
        done += n;
    }
    if (err != MICA_OK && done > 0) {
        uint64_t removed;
        space_unmap_range(to, dst, done, 0, &removed); /* out of page tables: undo */
    }
    return err;
}

/* ---- unmapping and protecting ---------------------------------------------- */

/* The 2 MiB leaf of t holding va when [lo, hi) covers it only in part, else NULL. */
static uint64_t *partial_2m(struct task *t, uint64_t va, uint64_t lo, uint64_t hi)
{
    unsigned level;
    uint64_t *e = leaf_entry(t, va, &level);
    uint64_t base = va & ~(PAGE_2M - 1);
    return e && level == 2 && (base < lo || base + PAGE_2M > hi) ? e : NULL;
}

/* Split the 2 MiB pages at both ends of [dst, end) that the range covers
 * only in part (with every 2 MiB mapping derived from them); MICA_ENOMEM
 * (nothing changed) if a quota cannot pay for the page tables. */
static int split_edges(struct task *t, uint64_t dst, uint64_t end)
{
    uint64_t *lo = partial_2m(t, dst, dst, end), *hi = partial_2m(t, end - 1, dst, end);
    if (hi == lo)
        hi = NULL;
    struct mdb_split_need need = {0};
    if (lo)
        mdb_split_need_add(&need, lo);
    if (hi)
        mdb_split_need_add(&need, hi);
    if (!mdb_split_need_fits(&need))
        return MICA_ENOMEM;
    if (lo)
        mdb_split(lo);
    if (hi)
        mdb_split(hi);
    return MICA_OK;
}

/* Check a range SYS_UNMAP or SYS_PROTECT names: at most 65536 pages of
 * the user half (the errors of user_range_check, or MICA_EINVAL). */
static int range_check(uint64_t dst, uint64_t pages)
{
    return pages > MICA_MAP_MAX_PAGES ? MICA_EINVAL : user_range_check(dst, pages);
}

/* Leaf e of t at va gets `rights` (a subset of its own), every mapping
 * derived from it at most those. */
static void lower(struct task *t, uint64_t *e, uint64_t va, uint32_t rights)
{
    *e = (*e & (PTE_ADDR_MASK | PTE_PS)) | rights_to_pte(rights) | PTE_P;
    tlb_invalidate(t, va);
    mdb_lower_derived(e, rights);
}

int space_protect_range(struct task *t, uint64_t dst, uint64_t pages, uint64_t rights)
{
    int err = range_check(dst, pages);
    if (err == MICA_OK && !rights_valid(rights))
        err = MICA_EINVAL;
    unsigned level = 1;
    uint64_t *e = err == MICA_OK && pages == 1 ? leaf_entry(t, dst, &level) : NULL;
    if (e != NULL && level == 1) {
        /* One small page: one walk, no split (a pager's remap). */
        if (rights & ~(uint64_t)pte_rights(*e))
            return MICA_EUPGRADE;
        lower(t, e, dst, (uint32_t)rights);
        return MICA_OK;
    }
    for (uint64_t i = 0; err == MICA_OK && i < pages; i++) {
        e = leaf_entry(t, dst + i * PAGE_SIZE, &level);
        if (e == NULL)
            err = MICA_EINVAL;
        else if (rights & ~(uint64_t)pte_rights(*e))
            err = MICA_EUPGRADE;
    }
    uint64_t end = dst + pages * PAGE_SIZE;
    if (err == MICA_OK)
        err = split_edges(t, dst, end);
    for (uint64_t va = dst; err == MICA_OK && va < end;) {
        e = leaf_entry(t, va, &level);
        lower(t, e, va, (uint32_t)rights);
        va += level == 2 ? PAGE_2M : PAGE_SIZE;
    }
    return err;
}

/* True when MICA_UNMAP_DERIVED of [dst, end) in t needs no split: no 2 MiB
 * page the range covers in part has a 2 MiB mapping derived from it. */
static bool no_split_needed(struct task *t, uint64_t dst, uint64_t end)
{
    uint64_t *lo = partial_2m(t, dst, dst, end), *hi = partial_2m(t, end - 1, dst, end);
    return !(lo && mdb_derived_large(lo)) && !(hi && mdb_derived_large(hi));
}

/* Take back what was derived from t's pages in [dst, end), t's own stay
 * as they are (a 2 MiB page covered in part is not split); how many. */
static uint64_t revoke_derived_range(struct task *t, uint64_t dst, uint64_t end)
{
    uint64_t removed = 0;
    for (uint64_t va = dst; va < end;) {
        unsigned level = 1;
        uint64_t *e = leaf_entry(t, va, &level);
        uint64_t base = va & ~(PAGE_2M - 1), lo = va, hi = base + PAGE_2M < end ? base + PAGE_2M : end;
        if (e != NULL && level == 2 && (lo != base || hi != base + PAGE_2M))
            removed += mdb_revoke_derived_part(e, leaf_pa(*e, 2, lo), hi - lo);
        else if (e != NULL)
            removed += mdb_revoke_derived(e);
        va = e != NULL && level == 2 ? hi : va + PAGE_SIZE;
    }
    return removed;
}

int space_unmap_range(struct task *t, uint64_t dst, uint64_t pages, uint64_t flags, uint64_t *removed)
{
    int err = range_check(dst, pages);
    if (err == MICA_OK && (flags & ~(uint64_t)MICA_UNMAP_DERIVED))
        err = MICA_EINVAL;
    *removed = 0;
    unsigned level = 1;
    uint64_t *e = err == MICA_OK && pages == 1 ? leaf_entry(t, dst, &level) : NULL;
    if (e != NULL && level == 1) {
        /* One small page: one walk, no split (the common case). */
        *removed = revoke(t, e, dst, (flags & MICA_UNMAP_DERIVED) != 0);
        return MICA_OK;
    }
    uint64_t end = dst + pages * PAGE_SIZE;
    if (err == MICA_OK && (flags & MICA_UNMAP_DERIVED) && no_split_needed(t, dst, end)) {
        *removed = revoke_derived_range(t, dst, end);
        return MICA_OK;
    }
    if (err == MICA_OK)
        err = split_edges(t, dst, end);
    for (uint64_t va = dst; err == MICA_OK && va < end;) {
        level = 1;
        e = leaf_entry(t, va, &level);
        if (e != NULL)
            *removed += revoke(t, e, va, (flags & MICA_UNMAP_DERIVED) != 0);
        va += level == 2 ? PAGE_2M : PAGE_SIZE;
    }
    return err;
}

/* True when every byte of [u, u + len) is mapped user memory of the
 * current task (writable too when `write`); len > 0, no wrap (checked). */
static bool user_bytes_mapped(uint64_t u, size_t len, int write)
{
    struct task *t = current->task;
    uint64_t last = (u + len - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    for (uint64_t pg = u & ~(uint64_t)(PAGE_SIZE - 1);; pg += PAGE_SIZE) {
        uint64_t pa;
        uint32_t rights;
        if (!space_lookup(t, pg, &pa, &rights) || (write && !(rights & MICA_MAP_WRITE)))
            return false;
        if (pg == last)
            return true;
    }
}

/* Copy len bytes between kernel buffer k and user address u of the current
 * task, page by page through the direct map (no user-mode fault can happen,
 * and SMAP stays on).  The whole range is checked before the first byte
 * moves, so a failed copy changes nothing on either side. */
static int copy_user(uint64_t u, void *k, size_t len, int to_user)
{
    struct task *t = current->task;
    char *kp = k;
    if (len > 0 && !user_bytes_mapped(u, len, to_user))
        return MICA_EFAULT;
    while (len > 0) {
        uint64_t pa;
        uint32_t rights;
        bool mapped = space_lookup(t, u, &pa, &rights);
        ASSERT(mapped); /* checked above, and nothing ran since */
        size_t n = PAGE_SIZE - (u & (PAGE_SIZE - 1));
        if (n > len)
            n = len;
        char *up = phys_to_virt(pa);
        for (size_t i = 0; i < n; i++) {
            if (to_user)
                up[i] = kp[i];
            else
                kp[i] = up[i];
        }
        u += n;
        kp += n;
        len -= n;
    }
    return MICA_OK;
}

int user_bytes_check(uint64_t u, size_t len, int write)
{
    if (u >= user_top || len > user_top - u)
        return MICA_EFAULT;
    return len == 0 || user_bytes_mapped(u, len, write) ? MICA_OK : MICA_EFAULT;
}

int copy_from_user(void *dst, uint64_t src, size_t len)
{
    if (src >= user_top || len > user_top - src)
        return MICA_EFAULT;
    return copy_user(src, dst, len, 0);
}

int copy_to_user(uint64_t dst, const void *src, size_t len)
{
    if (dst >= user_top || len > user_top - dst)
        return MICA_EFAULT;
    return copy_user(dst, (void *)src, len, 1);
}

void arch_switch_space(struct task *t)
{
    arch_switch_space_inline(&t->arch);
}

void arch_set_kernel_stack(uint64_t top)
{
    arch_set_kernel_stack_inline(top);
}

void syscall_entry(void);
void syscall_compat_entry(void);

#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
/* RFLAGS bits SYSCALL clears: IF (the kernel runs with interrupts off), TF
 * (no single-step trap in ring 0), DF (C code expects it clear), AC (SMAP
 * must hold), NT (an IRETQ with NT set is a #GP in ring 0).  IOPL needs no
 * mask: ring 3 cannot raise it (POPF at CPL 3 leaves it as it is), and
 * RF and VM are cleared by SYSCALL itself. */
#define RFLAGS_TF 0x100
#define RFLAGS_IF 0x200
#define RFLAGS_DF 0x400
#define RFLAGS_NT 0x4000
#define RFLAGS_AC 0x40000
#define SFMASK_BITS (RFLAGS_IF | RFLAGS_TF | RFLAGS_DF | RFLAGS_NT | RFLAGS_AC)
_Static_assert(SFMASK_BITS == 0x44700, "SFMASK: IF TF DF NT AC");

void syscall_init(void)
{
    user_top = paging_levels == 5 ? (1ull << 56) : (1ull << 47);
    percpu.cr3 = read_cr3();
    if (cpu_features.pcid) {
        /* PCIDE may be set only while CR3's PCID field is 0, as it is. */
        write_cr4(read_cr4() | CR4_PCIDE);
    }
    wrmsr(MSR_GS_BASE, (uint64_t)&percpu);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    wrmsr(MSR_STAR, ((uint64_t)GDT_USER_CS32 << 48) | ((uint64_t)GDT_KERNEL_CS << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    /* SYSCALL from a 32-bit code segment (AMD; Intel raises #UD). */
    wrmsr(MSR_CSTAR, (uint64_t)syscall_compat_entry);
    wrmsr(MSR_SFMASK, SFMASK_BITS);
    /* SYSENTER with a null SYSENTER_CS is a #GP in ring 3 (Intel; AMD has
     * no SYSENTER in long mode): firmware may have left values here. */
    wrmsr(MSR_SYSENTER_CS, 0);
    wrmsr(MSR_SYSENTER_ESP, 0);
    wrmsr(MSR_SYSENTER_EIP, 0);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}
