/* Page-table construction and walking; see arch/paging.h. */
#include <stddef.h>

#include "arch/cpu.h"
#include "arch/layout.h"
#include "arch/paging.h"
#include "mica/arch.h"
#include "mica/log.h"
#include "mica/panic.h"
#include "mm/physmap.h"

unsigned paging_levels = 4;
static uint64_t kroot;
static uint64_t direct_pages[3]; /* the direct map's leaves: 4 KiB, 2 MiB, 1 GiB */

/* Section bounds from the linker script (virtual addresses). */
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __kernel_end[];

void *phys_to_virt(uint64_t pa)
{
    return (void *)(HHDM_BASE + pa);
}

uint64_t virt_to_phys_kernel_image(const void *va)
{
    return (uint64_t)va - KERNEL_VMA;
}

uint64_t virt_to_phys_direct(const void *va)
{
    return (uint64_t)va - HHDM_BASE;
}

uint64_t kernel_root(void)
{
    return kroot;
}

uint64_t va_canonical(uint64_t va)
{
    unsigned bits = 12 + 9 * paging_levels;
    unsigned shift = 64 - bits;
    return (uint64_t)((int64_t)(va << shift) >> shift);
}

/* Index of va in a table of `level` (1 = page table ... 5 = PML5). */
static unsigned pt_index(uint64_t va, unsigned level)
{
    return (unsigned)(va >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}

/* The table at physical address pa, through the direct map. */
static uint64_t *table(uint64_t pa)
{
    return phys_to_virt(pa & PTE_ADDR_MASK);
}

/* Level at which a page of `page` bytes is a leaf (1, 2 or 3). */
static unsigned leaf_level(uint64_t page)
{
    return page == PAGE_1G ? 3 : page == PAGE_2M ? 2 : 1;
}

/* Walk to the table of `level` that holds va, creating tables on the way. */
static uint64_t *walk_create(uint64_t root, uint64_t va, unsigned level, uint64_t user, pt_alloc_fn alloc)
{
    uint64_t *t = table(root);
    for (unsigned l = paging_levels; l > level; l--) {
        uint64_t *e = &t[pt_index(va, l)];
        if (!(*e & PTE_P)) {
            uint64_t frame = alloc();
            if (frame == 0)
                return NULL;
            *e = frame | PTE_P | PTE_W | user;
        } else if (*e & PTE_PS) {
            return NULL; /* a large page is in the way */
        }
        t = table(*e);
    }
    return t;
}

int pt_map(uint64_t root, uint64_t va, uint64_t pa, uint64_t size, uint64_t page, uint64_t flags,
           pt_alloc_fn alloc)
{
    unsigned level = leaf_level(page);
    uint64_t leaf = flags | PTE_P | (level > 1 ? PTE_PS : 0);
    for (uint64_t off = 0; off < size; off += page) {
        uint64_t *t = walk_create(root, va + off, level, flags & PTE_U, alloc);
        if (t == NULL)
            return -1;
        uint64_t *e = &t[pt_index(va + off, level)];
        if (*e & PTE_P)
            return -1;
        *e = ((pa + off) & PTE_ADDR_MASK) | leaf;
    }
    return 0;
}

bool pt_unmap_4k(uint64_t root, uint64_t va)
{
    uint64_t *t = table(root);
    for (unsigned l = paging_levels; l > 1; l--) {
        uint64_t e = t[pt_index(va, l)];
        if (!(e & PTE_P) || (e & PTE_PS))
            return false;
        t = table(e);
    }
    uint64_t *e = &t[pt_index(va, 1)];
    if (!(*e & PTE_P))
        return false;
    *e = 0;
    return true;
}

bool pt_translate(uint64_t root, uint64_t va, uint64_t *pa, uint64_t *flags)
{
    uint64_t *t = table(root);
    uint64_t acc = PTE_W | PTE_U;
    for (unsigned l = paging_levels; l >= 1; l--) {
        uint64_t e = t[pt_index(va, l)];
        if (!(e & PTE_P))
            return false;
        acc = (acc & (e | ~(PTE_W | PTE_U))) | (e & PTE_NX);
        if (l == 1 || (l <= 3 && (e & PTE_PS))) {
            uint64_t span = 1ull << (PAGE_SHIFT + 9 * (l - 1));
            uint64_t base = e & PTE_ADDR_MASK & ~(span - 1);
            *pa = base + (va & (span - 1));
            *flags = acc | (e & (PTE_P | PTE_G | PTE_PS | PTE_XGRANT));
            return true;
        }
        t = table(e);
    }
    return false;
}

/* Visit the table at pa of `level` and every table below it. */
static void visit(uint64_t pa, unsigned level, void (*fn)(uint64_t, void *), void *ctx)
{
    fn(pa, ctx);
    if (level == 1)
        return;
    uint64_t *t = table(pa);
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = t[i];
        if ((e & PTE_P) && !((level == 2 || level == 3) && (e & PTE_PS)))
            visit(e & PTE_ADDR_MASK, level - 1, fn, ctx);
    }
}

void arch_pt_for_each_table(uint64_t root, void (*fn)(uint64_t table_phys, void *ctx), void *ctx)
{
    visit(root & PTE_ADDR_MASK, paging_levels, fn, ctx);
}

/* Map one kernel-image section with its rights, 4 KiB pages. */
static void map_image_range(const char *start, const char *end, uint64_t flags, pt_alloc_fn alloc)
{
    uint64_t va = (uint64_t)start;
    uint64_t size = (uint64_t)(end - start);
    if (pt_map(kroot, va, virt_to_phys_kernel_image(start), size, PAGE_SIZE, flags | PTE_G, alloc))
        PANIC("cannot map kernel image at %p", (void *)start);
}

/* Rights of the direct-map alias of physical page pa: the kernel's text and
 * read-only data stay read-only there too, so no alias can patch them. */
static uint64_t hhdm_flags(uint64_t pa)
{
    uint64_t ro_start = virt_to_phys_kernel_image(__text_start);
    uint64_t ro_end = virt_to_phys_kernel_image(__rodata_end);
    uint64_t f = PTE_NX | PTE_G;
    return (pa >= ro_start && pa < ro_end) ? f : f | PTE_W;
}

/* Map 2 MiB pages of the direct map from pa on, as many as fit in pa's
 * page directory, stay below `end` and miss [ro_start, ro_end): one walk
 * for up to 1 GiB (a machine without 1 GiB pages maps 64 GiB with 64 walks,
 * not 32,768).  Returns the first address not mapped. */
static uint64_t map_direct_2m(uint64_t pa, uint64_t end, uint64_t ro_start, uint64_t ro_end,
                              pt_alloc_fn alloc)
{
    uint64_t *pd = walk_create(kroot, HHDM_BASE + pa, 2, 0, alloc);
    if (pd == NULL)
        PANIC("cannot map the direct map at phys 0x%llx", (unsigned long long)pa);
    unsigned i = pt_index(HHDM_BASE + pa, 2);
    do {
        if (pd[i] & PTE_P)
            PANIC("the direct map at phys 0x%llx is mapped twice", (unsigned long long)pa);
        pd[i++] = (pa & PTE_ADDR_MASK) | hhdm_flags(pa) | PTE_P | PTE_PS;
        direct_pages[1]++;
        pa += PAGE_2M;
    } while (i < 512 && end - pa >= PAGE_2M && (pa + PAGE_2M <= ro_start || pa >= ro_end));
    return pa;
}

/* Map [base, end) of RAM into the direct map, with the largest pages that
 * fit, and 4 KiB pages around the kernel's read-only sections. */
static void map_direct(uint64_t base, uint64_t end, pt_alloc_fn alloc)
{
    uint64_t ro_start = virt_to_phys_kernel_image(__text_start) & ~(PAGE_2M - 1);
    uint64_t ro_end = (virt_to_phys_kernel_image(__rodata_end) + PAGE_2M - 1) & ~(PAGE_2M - 1);
    uint64_t pa = base;
    while (pa < end) {
        uint64_t page = PAGE_SIZE;
        if (cpu_features.pdpe1gb && (pa % PAGE_1G) == 0 && end - pa >= PAGE_1G &&
            (pa + PAGE_1G <= ro_start || pa >= ro_end))
            page = PAGE_1G;
        else if ((pa % PAGE_2M) == 0 && end - pa >= PAGE_2M && (pa + PAGE_2M <= ro_start || pa >= ro_end)) {
            pa = map_direct_2m(pa, end, ro_start, ro_end, alloc);
            continue;
        }
        if (pt_map(kroot, HHDM_BASE + pa, pa, page, page, hhdm_flags(pa), alloc))
            PANIC("cannot map the direct map at phys 0x%llx", (unsigned long long)pa);
        direct_pages[leaf_level(page) - 1]++;
        pa += page;
    }
}

void paging_init(const struct pm_set *ram, pt_alloc_fn alloc)
{
    kroot = alloc();
    if (kroot == 0)
        PANIC("no frame for the kernel's top-level page table");
    map_image_range(__text_start, __text_end, 0, alloc);
    map_image_range(__rodata_start, __rodata_end, PTE_NX, alloc);
    map_image_range(__data_start, __kernel_end, PTE_W | PTE_NX, alloc);
    for (size_t i = 0; i < ram->n; i++) {
        uint64_t end = ram->r[i].end < HHDM_SIZE ? ram->r[i].end : HHDM_SIZE;
        if (ram->r[i].base < end)
            map_direct(ram->r[i].base, end, alloc);
    }
    write_cr4(read_cr4() | (cpu_features.pge ? CR4_PGE : 0));
    write_cr3(kroot);
}

/* True when the direct map sends HHDM_BASE + pa to pa, writable unless
 * in the kernel's read-only sections. */
static bool direct_ok(uint64_t pa)
{
    uint64_t got, flags;
    return pt_translate(kroot, HHDM_BASE + pa, &got, &flags) && got == pa &&
           (flags & PTE_W) == (hhdm_flags(pa) & PTE_W);
}

bool arch_direct_map_check(const struct pm_set *ram)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < ram->n; i++) {
        uint64_t base = ram->r[i].base, end = ram->r[i].end < HHDM_SIZE ? ram->r[i].end : HHDM_SIZE;
        if (base >= end)
            continue;
        if (!direct_ok(base) || !direct_ok(end - 1)) {
            LOG_FAIL("memory: the direct map does not cover RAM [0x%llx, 0x%llx)", (unsigned long long)base,
                     (unsigned long long)end);
            return false;
        }
        bytes += end - base;
    }
    LOG_OK("memory: direct map: %llu MiB of RAM in %zu ranges, both ends of each checked; %llu pages of "
           "1 GiB, %llu of 2 MiB, %llu of 4 KiB",
           (unsigned long long)(bytes >> 20), ram->n, (unsigned long long)direct_pages[2],
           (unsigned long long)direct_pages[1], (unsigned long long)direct_pages[0]);
    return true;
}

/* PAT entry 4 (selected by the PAT bit alone in a 4 KiB entry) becomes
 * write-combining; it was write-back, a type no entry asks for with that
 * bit, so no existing mapping changes meaning. */
#define PTE_PAT_4K 0x80ull
#define PAT_ENTRY4_SHIFT 32
#define PAT_WC 0x01ull
#define CPUID1_EDX_PAT (1u << 16)

void *arch_map_framebuffer(uint64_t pa, uint64_t size, uint64_t (*alloc)(void))
{
    uint64_t base = pa & ~(uint64_t)(PAGE_SIZE - 1);
    uint64_t end = (pa + size + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    uint64_t type = PTE_PCD | PTE_PWT; /* uncached */
    if (size == 0 || end <= base || end - base > FB_WINDOW_SIZE)
        return NULL;
    if (cpuid(1, 0).edx & CPUID1_EDX_PAT) {
        uint64_t pat = rdmsr(MSR_PAT) & ~(0xffull << PAT_ENTRY4_SHIFT);
        wrmsr(MSR_PAT, pat | PAT_WC << PAT_ENTRY4_SHIFT);
        type = PTE_PAT_4K;
    }
    if (pt_map(kroot, FB_WINDOW_BASE, base, end - base, PAGE_SIZE, PTE_W | PTE_NX | PTE_G | type, alloc))
        return NULL;
    return (void *)(FB_WINDOW_BASE + (pa - base));
}
