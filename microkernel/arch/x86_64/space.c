/* User address spaces on x86_64; see include/mica/space.h.
 *
 * Every user page table comes from the kernel object pool (tag "page
 * table"), charged to the kernel-memory quota of the task whose space it
 * is, so running out is that task's MICA_ENOMEM, never a panic nor another
 * task's failure, and all of them are freed when the space dies.  The kernel half (top-level slots 256..511)
 * is copied from the kernel's own root when a space is created; nothing
 * adds top-level kernel entries later, so the copies stay true. */
#include "mica/space.h"
#include "arch/cpu.h"
#include "arch/desc.h"
#include "arch/layout.h"
#include "arch/paging.h"
#include "arch/percpu.h"
#include "arch/trap.h"
#include "mica/abi.h"
#include "mica/arch.h"
#include "mica/kmem.h"
#include "mica/object.h"
#include "mica/panic.h"
#include "mica/sched.h"

uint64_t user_top;
struct percpu percpu;

/* Page tables are charged to the task whose space they are in (mica/kmem.h).
 * pt_map's allocator takes no argument, and the kernel is not preemptible,
 * so pt_alloc_for names the account right before each pt_map call. */
static struct kmem_account *pt_account;

/* pt_map's allocator: a table charged to pt_account. */
static uint64_t charged_pt_alloc(void)
{
    return kmem_pt_alloc(pt_account);
}

/* The allocator for tables of t's space. */
static pt_alloc_fn pt_alloc_for(struct task *t)
{
    pt_account = &t->kmem;
    return charged_pt_alloc;
}

int arch_space_create(struct task *t)
{
    uint64_t root = kmem_pt_alloc(&t->kmem);
    if (root == 0)
        return -1;
    const uint64_t *k = phys_to_virt(kernel_root());
    uint64_t *u = phys_to_virt(root);
    for (int i = 256; i < 512; i++)
        u[i] = k[i];
    t->root = root;
    /* A PCID may have served a dead task: flush it on first use. */
    t->arch.pcid = cpu_features.pcid ? (uint16_t)(t->id % 4095 + 1) : 0;
    t->arch.cr3 = root | t->arch.pcid;
    t->arch.tlb_stale = 1;
    return 0;
}

/* Free the tables below entry e of a table at `level` (not leaves), and
 * give their pages back to account a. */
static void free_tables(struct kmem_account *a, uint64_t table_pa, unsigned level, unsigned first,
                        unsigned last)
{
    uint64_t *t = phys_to_virt(table_pa);
    if (level > 1) {
        for (unsigned i = first; i < last; i++) {
            uint64_t e = t[i];
            if ((e & PTE_P) && !(e & PTE_PS))
                free_tables(a, e & PTE_ADDR_MASK, level - 1, 0, 512);
        }
    }
    kmem_page_free(a, t, MICA_TAG_PAGE_TABLE);
}

void arch_space_destroy(struct task *t)
{
    if (t->root == 0)
        return;
    if ((percpu.cr3 & PTE_ADDR_MASK) == t->root) {
        percpu.cr3 = kernel_root();
        write_cr3(kernel_root());
    }
    free_tables(&t->kmem, t->root, paging_levels, 0, 256);
    t->root = 0;
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

/* Page-table bits for MICA_MAP_* rights.  Never writable and executable:
 * asking for both gives a writable, non-executable page that keeps the
 * right to grant execution (PTE_XGRANT). */
static uint64_t rights_to_pte(uint32_t rights)
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

int space_map_page(struct task *t, uint64_t va, uint64_t pa, uint32_t rights)
{
    uint64_t flags = rights_to_pte(rights);
    uint64_t old_pa, old_flags;
    if (pt_translate(t->root, va, &old_pa, &old_flags))
        return MICA_EEXISTS;
    if (pt_map(t->root, va, pa, PAGE_SIZE, PAGE_SIZE, flags, pt_alloc_for(t)) != 0)
        return MICA_ENOMEM;
    return MICA_OK;
}

static uint64_t fill_2m(struct task *t, uint64_t va, uint64_t pa, uint64_t n, uint64_t flags);

int space_map_frames(struct task *t, uint64_t va, uint64_t pa, uint64_t size, uint32_t rights)
{
    uint64_t flags = rights_to_pte(rights);
    for (uint64_t end = pa + size; pa < end;) {
        uint64_t page = ((va | pa) % PAGE_2M) == 0 && end - pa >= PAGE_2M ? PAGE_2M : PAGE_SIZE;
        if (pt_map(t->root, va, pa, page, page, flags, pt_alloc_for(t)) != 0)
            return MICA_ENOMEM;
        va += page;
        pa += page;
        if (page == PAGE_2M && end - pa >= PAGE_2M) {
            uint64_t n = fill_2m(t, va, pa, (end - pa) / PAGE_2M, flags); /* the rest of this directory */
            va += n * PAGE_2M;
            pa += n * PAGE_2M;
        }
    }
    return MICA_OK;
}

void space_unmap_page(struct task *t, uint64_t va)
{
    if (!pt_unmap_4k(t->root, va))
        return;
    if ((percpu.cr3 & PTE_ADDR_MASK) == t->root)
        invlpg(va); /* the current PCID's entry */
    else
        t->arch.tlb_stale = 1; /* its PCID may hold the old entry: flush on next load */
}

bool space_lookup(struct task *t, uint64_t va, uint64_t *pa, uint32_t *rights)
{
    uint64_t flags;
    if (va >= user_top || !pt_translate(t->root, va, pa, &flags) || !(flags & PTE_U))
        return false;
    *rights = MICA_MAP_READ | ((flags & PTE_W) ? MICA_MAP_WRITE : 0) |
              ((flags & PTE_NX) && !(flags & PTE_XGRANT) ? 0 : MICA_MAP_EXEC);
    return true;
}

void *space_user_ptr(struct task *t, uint64_t va, bool write)
{
    uint64_t pa, flags;
    if (!pt_translate(t->root, va, &pa, &flags) || !(flags & PTE_U) || (write && !(flags & PTE_W)))
        return NULL;
    return (void *)(HHDM_BASE + pa); /* phys_to_virt, without the call */
}

#define MAX_MAP_PAGES 65536u /* 256 MiB per call bounds the time spent with interrupts off */
#define PAGES_2M (PAGE_2M / PAGE_SIZE)

static uint64_t *pd_entry(struct task *t, uint64_t va);
static uint32_t pte_rights(uint64_t e);

/* ---- runs of 2 MiB pages ------------------------------------------------
 * Handing a large window over (init to the pager) maps, checks and unmaps
 * thousands of 2 MiB leaves at a time: these walk to the page directory
 * once and then go slot by slot, so the cost is a few instructions per
 * 2 MiB, not a walk of every tree per page. */

/* Slots left in va's page directory from va's slot on (va 2 MiB aligned). */
static uint64_t pd_slots_left(uint64_t va)
{
    return 512 - ((va >> (PAGE_SHIFT + 9)) & 511);
}

/* The smallest of three counts. */
static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Pages from s (source) and d (destination) of a map request with `left`
 * pages to go that are whole 2 MiB user leaves of `from`, granting
 * `rights`, going to empty slots of `to`, within one page directory of
 * each: a multiple of 512, 0 when the first one is not (the per-page check
 * then runs and names the error). */
static uint64_t check_2m_run(struct task *from, struct task *to, uint64_t s, uint64_t d, uint64_t left,
                             uint64_t rights)
{
    if (left < PAGES_2M || ((s | d) & (PAGE_2M - 1)) != 0)
        return 0;
    uint64_t *fe = pd_entry(from, s), *de = pd_entry(to, d); /* de NULL: no table, all empty */
    uint64_t max = min3(pd_slots_left(s), pd_slots_left(d), left / PAGES_2M), k = 0;
    for (; fe != NULL && k < max; k++) {
        uint64_t e = fe[k];
        if ((e & (PTE_P | PTE_PS | PTE_U)) != (PTE_P | PTE_PS | PTE_U) ||
            (rights & ~(uint64_t)pte_rights(e)) || (de != NULL && (de[k] & PTE_P)))
            break;
    }
    return k * PAGES_2M;
}

/* After a 2 MiB page was mapped at d - 2 MiB: map the 2 MiB leaves of
 * `from` at s onwards into the empty slots from d on, while both stay in
 * their page directories (check_2m_run passed them); pages mapped. */
static uint64_t map_2m_rest(struct task *from, struct task *to, uint64_t s, uint64_t d, uint64_t left,
                            uint64_t rights)
{
    if (left < PAGES_2M || ((s | d) & (PAGE_2M - 1)) != 0)
        return 0;
    uint64_t *fe = pd_entry(from, s), *de = pd_entry(to, d);
    uint64_t max = min3(pd_slots_left(s), pd_slots_left(d), left / PAGES_2M), k = 0;
    uint64_t bits = rights_to_pte((uint32_t)rights) | PTE_P | PTE_PS;
    for (; fe != NULL && de != NULL && k < max; k++) {
        if ((fe[k] & (PTE_P | PTE_PS)) != (PTE_P | PTE_PS) || (de[k] & PTE_P))
            break;
        de[k] = (fe[k] & PTE_ADDR_MASK & ~(PAGE_2M - 1)) | bits;
    }
    return k * PAGES_2M;
}

/* Map frames [pa, pa + 2 MiB * n) at va onwards into empty slots of the
 * page directory that holds va (it exists), with `flags`; slots filled. */
static uint64_t fill_2m(struct task *t, uint64_t va, uint64_t pa, uint64_t n, uint64_t flags)
{
    uint64_t *de = pd_entry(t, va);
    uint64_t max = de != NULL && n < pd_slots_left(va) ? n : (de != NULL ? pd_slots_left(va) : 0), k = 0;
    for (; k < max && !(de[k] & PTE_P); k++)
        de[k] = ((pa + k * PAGE_2M) & PTE_ADDR_MASK) | flags | PTE_P | PTE_PS;
    return k;
}

int space_map_check(struct task *from, struct task *to, uint64_t src, uint64_t dst, uint64_t pages,
                    uint64_t rights)
{
    if (pages > MAX_MAP_PAGES || rights == 0 ||
        (rights & ~(uint64_t)(MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC)))
        return MICA_EINVAL;
    int err = user_range_check(src, pages);
    if (err == MICA_OK)
        err = user_range_check(dst, pages);
    for (uint64_t i = 0; err == MICA_OK && i < pages; i++) {
        uint64_t pa, dpa,
            run = check_2m_run(from, to, src + i * PAGE_SIZE, dst + i * PAGE_SIZE, pages - i, rights);
        uint32_t have, dhave;
        if (run > 0)
            i += run - 1;
        else if (!space_lookup(from, src + i * PAGE_SIZE, &pa, &have))
            err = MICA_ENOTOWNER;
        else if (rights & ~(uint64_t)have)
            err = MICA_EUPGRADE;
        else if (space_lookup(to, dst + i * PAGE_SIZE, &dpa, &dhave))
            err = MICA_EEXISTS;
    }
    return err;
}

/* True when a whole 2 MiB leaf of `from` at src can become one 2 MiB leaf
 * of `to` at dst: both aligned, enough pages left, and src a large page. */
static bool can_map_2m(struct task *from, uint64_t src, uint64_t dst, uint64_t left)
{
    uint64_t pa, flags;
    return left >= PAGES_2M && ((src | dst) & (PAGE_2M - 1)) == 0 &&
           pt_translate(from->root, src, &pa, &flags) && (flags & PTE_PS);
}

/* The level-1 entry for va in the tree at root, or NULL when a table on
 * the way is missing or a large page is in the way. */
static uint64_t *leaf_slot(uint64_t root, uint64_t va)
{
    uint64_t *t = phys_to_virt(root);
    for (unsigned l = paging_levels; l > 1; l--) {
        uint64_t e = t[(va >> (PAGE_SHIFT + 9 * (l - 1))) & 511];
        if ((e & (PTE_P | PTE_PS)) != PTE_P)
            return NULL;
        t = phys_to_virt(e & PTE_ADDR_MASK);
    }
    return &t[(va >> PAGE_SHIFT) & 511];
}

/* One 4 KiB page whose destination tables exist already (the common case of
 * a fault in a region): one walk of each tree, checks as space_map_check.
 * Returns 1 when it does not apply (the general path then runs). */
static int map_one(struct task *from, struct task *to, uint64_t src, uint64_t dst, uint64_t rights)
{
    if (rights == 0 || (rights & ~(uint64_t)(MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC)) ||
        ((src | dst) & (PAGE_SIZE - 1)) || src >= user_top || dst >= user_top)
        return 1;
    uint64_t *d = leaf_slot(to->root, dst);
    uint64_t pa, flags;
    if (d == NULL || !pt_translate(from->root, src, &pa, &flags) || !(flags & PTE_U))
        return 1;
    uint32_t have = MICA_MAP_READ | ((flags & PTE_W) ? MICA_MAP_WRITE : 0) |
                    ((flags & PTE_NX) && !(flags & PTE_XGRANT) ? 0 : MICA_MAP_EXEC);
    if (rights & ~(uint64_t)have)
        return MICA_EUPGRADE;
    if (*d & PTE_P)
        return MICA_EEXISTS;
    *d = (pa & PTE_ADDR_MASK) | rights_to_pte((uint32_t)rights) | PTE_P;
    return MICA_OK;
}

int space_map_range(struct task *from, struct task *to, uint64_t src, uint64_t dst, uint64_t pages,
                    uint64_t rights)
{
    if (pages == 1) {
        int fast = map_one(from, to, src, dst, rights);
        if (fast != 1)
            return fast;
    }
    int err = space_map_check(from, to, src, dst, pages, rights);
    uint64_t done = 0;
    while (err == MICA_OK && done < pages) {
        uint64_t pa;
        uint32_t have;
        uint64_t s = src + done * PAGE_SIZE, d = dst + done * PAGE_SIZE;
        space_lookup(from, s, &pa, &have);
        if (can_map_2m(from, s, d, pages - done)) {
            if (pt_map(to->root, d, pa, PAGE_2M, PAGE_2M, rights_to_pte((uint32_t)rights),
                       pt_alloc_for(to)) != 0)
                err = MICA_ENOMEM;
            else
                done += PAGES_2M +
                        map_2m_rest(from, to, s + PAGE_2M, d + PAGE_2M, pages - done - PAGES_2M, rights);
            continue;
        }
        err = space_map_page(to, d, pa & ~(uint64_t)(PAGE_SIZE - 1), (uint32_t)rights);
        if (err == MICA_OK)
            done++;
    }
    if (err != MICA_OK && done > 0)
        space_unmap_range(to, dst, done); /* out of page tables: undo */
    return err;
}

/* The level-2 entry (page directory slot) that maps va in t, or NULL. */
static uint64_t *pd_entry(struct task *t, uint64_t va)
{
    uint64_t *tab = phys_to_virt(t->root);
    for (unsigned l = paging_levels; l > 2; l--) {
        uint64_t e = tab[(va >> (PAGE_SHIFT + 9 * (l - 1))) & 511];
        if (!(e & PTE_P) || (e & PTE_PS))
            return NULL;
        tab = phys_to_virt(e & PTE_ADDR_MASK);
    }
    return &tab[(va >> (PAGE_SHIFT + 9)) & 511];
}

/* True when va lies in a 2 MiB page of t that [lo, hi) covers only in part. */
static bool needs_split(struct task *t, uint64_t va, uint64_t lo, uint64_t hi)
{
    uint64_t *e = pd_entry(t, va);
    uint64_t base = va & ~(PAGE_2M - 1);
    return e && (*e & PTE_P) && (*e & PTE_PS) && (base < lo || base + PAGE_2M > hi);
}

/* Turn the 2 MiB page holding va into a table of 512 small pages. */
static void split_2m(struct task *t, uint64_t va)
{
    uint64_t *e = pd_entry(t, va);
    uint64_t pt = kmem_pt_alloc(&t->kmem); /* split_edges checked the room */
    uint64_t *ptv = phys_to_virt(pt);
    uint64_t flags = (*e & ~PTE_ADDR_MASK & ~PTE_PS) | (*e & PTE_NX);
    uint64_t pa = *e & PTE_ADDR_MASK & ~(PAGE_2M - 1);
    for (unsigned i = 0; i < 512; i++)
        ptv[i] = (pa + i * PAGE_SIZE) | flags;
    *e = pt | PTE_P | PTE_W | PTE_U;
}

/* Split the 2 MiB pages at both ends of [dst, end) that the range covers
 * only in part; MICA_ENOMEM (nothing changed) if t's kernel-memory quota
 * cannot pay for the page tables. */
static int split_edges(struct task *t, uint64_t dst, uint64_t end)
{
    unsigned splits = needs_split(t, dst, dst, end) + needs_split(t, end - 1, dst, end);
    if (kmem_room(&t->kmem) < splits)
        return MICA_ENOMEM;
    if (needs_split(t, dst, dst, end))
        split_2m(t, dst);
    if (needs_split(t, end - 1, dst, end))
        split_2m(t, end - 1);
    return MICA_OK;
}

/* The rights a present user leaf entry grants (as space_lookup reports). */
static uint32_t pte_rights(uint64_t e)
{
    return MICA_MAP_READ | ((e & PTE_W) ? MICA_MAP_WRITE : 0) |
           ((e & PTE_NX) && !(e & PTE_XGRANT) ? 0 : MICA_MAP_EXEC);
}

int space_protect_range(struct task *t, uint64_t dst, uint64_t pages, uint64_t rights)
{
    int err = pages > MAX_MAP_PAGES ? MICA_EINVAL : user_range_check(dst, pages);
    if (err == MICA_OK &&
        (rights == 0 || (rights & ~(uint64_t)(MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC))))
        err = MICA_EINVAL;
    uint64_t *slot = (err == MICA_OK && pages == 1) ? leaf_slot(t->root, dst) : NULL;
    if (slot != NULL) {
        /* One small page: one walk (the common case of a pager's remap). */
        if (!(*slot & PTE_P) || !(*slot & PTE_U))
            return MICA_EINVAL;
        if (rights & ~(uint64_t)pte_rights(*slot))
            return MICA_EUPGRADE;
        *slot = (*slot & PTE_ADDR_MASK) | rights_to_pte((uint32_t)rights) | PTE_P;
        if ((percpu.cr3 & PTE_ADDR_MASK) == t->root)
            invlpg(dst);
        else
            t->arch.tlb_stale = 1;
        return MICA_OK;
    }
    for (uint64_t i = 0; err == MICA_OK && i < pages; i++) {
        uint64_t pa;
        uint32_t have;
        if (!space_lookup(t, dst + i * PAGE_SIZE, &pa, &have))
            err = MICA_EINVAL;
        else if (rights & ~(uint64_t)have)
            err = MICA_EUPGRADE;
    }
    uint64_t end = dst + pages * PAGE_SIZE;
    if (err == MICA_OK)
        err = split_edges(t, dst, end);
    if (err)
        return err;
    uint64_t bits = rights_to_pte((uint32_t)rights) | PTE_P;
    bool current_space = (percpu.cr3 & PTE_ADDR_MASK) == t->root;
    for (uint64_t va = dst; va < end;) {
        uint64_t *e = pd_entry(t, va);
        uint64_t step = (e && (*e & PTE_PS)) ? PAGE_2M : PAGE_SIZE;
        if (step == PAGE_SIZE)
            e = leaf_slot(t->root, va);
        *e = (*e & PTE_ADDR_MASK) | bits | (step == PAGE_2M ? PTE_PS : 0);
        if (current_space)
            invlpg(va);
        va += step;
    }
    if (!current_space)
        t->arch.tlb_stale = 1;
    return MICA_OK;
}

/* Clear the 2 MiB leaves from slot e (mapping va, whole inside [va, end))
 * on, while they stay in the range and in e's page directory; the first
 * address left.  Out of line: the one-page path of the caller stays short. */
__attribute__((noinline)) static uint64_t unmap_2m_run(uint64_t *e, uint64_t va, uint64_t end,
                                                       bool current_space)
{
    uint64_t max = (end - va) / PAGE_2M < pd_slots_left(va) ? (end - va) / PAGE_2M : pd_slots_left(va);
    for (uint64_t k = 0; k < max && (e[k] & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS); k++) {
        e[k] = 0;
        if (current_space)
            invlpg(va);
        va += PAGE_2M;
    }
    return va;
}

int space_unmap_range(struct task *t, uint64_t dst, uint64_t pages)
{
    int err = pages > MAX_MAP_PAGES ? MICA_EINVAL : user_range_check(dst, pages);
    if (err)
        return err;
    if (pages == 1) {
        /* One small page: one walk, no split possible. */
        uint64_t *slot = leaf_slot(t->root, dst);
        if (slot != NULL) {
            if (*slot & PTE_P) {
                *slot = 0;
                if ((percpu.cr3 & PTE_ADDR_MASK) == t->root)
                    invlpg(dst);
                else
                    t->arch.tlb_stale = 1;
            }
            return MICA_OK;
        }
    }
    uint64_t end = dst + pages * PAGE_SIZE;
    err = split_edges(t, dst, end);
    if (err)
        return err;
    bool current_space = (percpu.cr3 & PTE_ADDR_MASK) == t->root;
    for (uint64_t va = dst; va < end;) {
        uint64_t *e = pd_entry(t, va);
        if (e && (*e & PTE_P) && (*e & PTE_PS)) {
            va = unmap_2m_run(e, va, end, current_space); /* whole 2 MiB pages inside the range */
            continue;
        }
        if (pt_unmap_4k(t->root, va) && current_space)
            invlpg(va);
        va += PAGE_SIZE;
    }
    if (!current_space)
        t->arch.tlb_stale = 1;
    return MICA_OK;
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
