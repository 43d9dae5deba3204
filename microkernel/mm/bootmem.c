/* Boot-time physical memory; see include/mica/bootmem.h. */
#include <stddef.h>

#include "boot/multiboot2.h"
#include "mica/arch.h"
#include "mica/bootmem.h"
#include "mica/elf.h"
#include "mica/ksym.h"
#include "mica/log.h"
#include "mica/panic.h"

#define MAX_RANGES 512
#define MAX_RESERVED (MB2_MAX_MODULES + 32)
/* pm_sanitize needs scratch for every map entry plus every reserved range. */
_Static_assert(MAX_RANGES >= MB2_MAX_MMAP + MAX_RESERVED, "scratch set too small for pm_sanitize");

static struct pm_range free_store[MAX_RANGES], scratch_store[MAX_RANGES];
static struct pm_range ram_store[MAX_RANGES], reserved_store[MAX_RANGES], initial_store[MAX_RANGES];
static struct pm_set free_set, scratch_set, ram_set, reserved_set, initial_set;
static uint64_t info_phys; /* the raw multiboot2 information, for the proof */
static struct pm_report report;
static uint64_t kernel_frames;
static bool handed_over;

/* What each reserved range is, for the boot log (the set merges them). */
struct reserved_item {
    const char *what;
    uint64_t base, end;
};
static struct reserved_item reserved_log[MAX_RESERVED];
static size_t nreserved_log;

const struct pm_set *bootmem_free(void)
{
    return &free_set;
}
const struct pm_set *bootmem_ram(void)
{
    return &ram_set;
}
const struct pm_set *bootmem_initial_free(void)
{
    return &initial_set;
}
const struct pm_set *bootmem_reserved(void)
{
    return &reserved_set;
}
uint64_t bootmem_kernel_frames(void)
{
    return kernel_frames;
}

/* Round [base, end) outward to whole pages and add it to s. */
static void add_pages(struct pm_set *s, uint64_t base, uint64_t end)
{
    if (end <= base)
        return;
    base &= ~(PM_PAGE_SIZE - 1);
    end = end > PM_PHYS_LIMIT - PM_PAGE_SIZE ? PM_PHYS_LIMIT : (end + PM_PAGE_SIZE - 1) & ~(PM_PAGE_SIZE - 1);
    if (pm_add(s, base, end) != PM_OK)
        LOG_WARN("memory: too many ranges; [0x%llx, 0x%llx) not recorded", (unsigned long long)base,
                 (unsigned long long)end);
}

/* Reserve [base, end) (rounded out to pages) and remember what it is. */
static void reserve(const char *what, uint64_t base, uint64_t end)
{
    add_pages(&reserved_set, base, end);
    if (nreserved_log < MAX_RESERVED)
        reserved_log[nreserved_log++] = (struct reserved_item){what, base, end};
}

/* Everything in use before the kernel allocates anything: the first MiB,
 * the image (with the boot stub's tables and stacks), the boot
 * information, the modules, the symbol data, the framebuffer. */
static void collect_reserved(const struct mb2_info *mb, uint64_t mb_phys)
{
    uint64_t kbase, kend;
    arch_kernel_image(&kbase, &kend);
    reserve("first MiB (BIOS, real-mode data)", 0, 1ull << 20);
    reserve("kernel image, boot page tables and stacks", kbase, kend);
    reserve("multiboot2 information", mb_phys, mb_phys + mb->total_size);
    for (size_t i = 0; i < mb->nmodules; i++)
        reserve(mb->modules[i].string[0] ? mb->modules[i].string : "module", mb->modules[i].start,
                mb->modules[i].end);
    struct ksym_range syms[16];
    unsigned long n = ksym_loaded_ranges(mb, syms, 16);
    for (unsigned long i = 0; i < n; i++)
        reserve("kernel ELF section loaded by GRUB (.symtab, .strtab, ...)", syms[i].base, syms[i].end);
    if (mb->have_framebuffer)
        reserve("framebuffer", mb->fb.addr, mb->fb.addr + (uint64_t)mb->fb.pitch * mb->fb.height);
}

/* RAM the direct map covers: available, ACPI and NVS entries, plus what
 * the loader placed (boot information, modules), wherever it is; never the
 * framebuffer. */
static void collect_ram(const struct mb2_info *mb)
{
    for (size_t i = 0; i < mb->nmmap; i++) {
        const struct mb2_mmap_entry *e = &mb->mmap[i];
        if (e->type != MB2_MMAP_AVAILABLE && e->type != MB2_MMAP_ACPI_RECLAIMABLE && e->type != MB2_MMAP_NVS)
            continue;
        uint64_t end = e->base + e->length;
        if (end < e->base || end > PM_PHYS_LIMIT)
            end = PM_PHYS_LIMIT;
        add_pages(&ram_set, e->base, end);
    }
    /* The in-use ranges are merged, so the one holding the first MiB may
     * also hold the kernel and modules: clip it to 1 MiB, do not skip it
     * (GRUB can leave modules where its own cutmem removed RAM). */
    for (size_t i = 0; i < reserved_set.n; i++) {
        uint64_t base = reserved_set.r[i].base < (1ull << 20) ? (1ull << 20) : reserved_set.r[i].base;
        if (base < reserved_set.r[i].end)
            add_pages(&ram_set, base, reserved_set.r[i].end);
    }
    /* The framebuffer is device memory: the screen console maps it
     * write-combining, and a cached alias in the direct map would give the
     * same bytes two memory types. */
    if (mb->have_framebuffer) {
        uint64_t base = mb->fb.addr & ~(PM_PAGE_SIZE - 1);
        uint64_t end = mb->fb.addr + (uint64_t)mb->fb.pitch * mb->fb.height;
        pm_remove(&ram_set, base, (end + PM_PAGE_SIZE - 1) & ~(PM_PAGE_SIZE - 1));
    }
}

int bootmem_init(const struct mb2_info *mb, uint64_t mb_phys)
{
    pm_init(&free_set, free_store, MAX_RANGES);
    pm_init(&scratch_set, scratch_store, MAX_RANGES);
    pm_init(&ram_set, ram_store, MAX_RANGES);
    pm_init(&reserved_set, reserved_store, MAX_RANGES);
    pm_init(&initial_set, initial_store, MAX_RANGES);
    info_phys = mb_phys;
    if (!mb->have_mmap || mb->nmmap == 0) {
        LOG_FAIL("memory: the boot loader gave no usable memory map; cannot continue");
        return -1;
    }
    collect_reserved(mb, mb_phys);
    collect_ram(mb);
    if (pm_sanitize(mb->mmap, mb->nmmap, reserved_set.r, reserved_set.n, &free_set, &scratch_set, &report) !=
        PM_OK) {
        LOG_FAIL("memory: the memory map is too fragmented to sanitize (%zu entries)", mb->nmmap);
        return -1;
    }
    if (free_set.n == 0) {
        LOG_FAIL("memory: no free memory left after removing what is in use");
        return -1;
    }
    /* The free set before the kernel takes anything: what the proof of
     * the self-tests checks (same capacity, so the copy cannot fail). */
    for (size_t i = 0; i < free_set.n; i++)
        pm_add(&initial_set, free_set.r[i].base, free_set.r[i].end);
    return 0;
}

void bootmem_hand_over(void)
{
    handed_over = true;
}

uint64_t bootmem_alloc_page(void)
{
    uint64_t pa;
    ASSERT(!handed_over);
    /* Below 4 GiB: the boot stub's direct map reaches only that far, and
     * these frames are written before the kernel's own tables exist. */
    if (pm_take(&free_set, PM_PAGE_SIZE, PM_PAGE_SIZE, 1ull << 20, 4ull << 30, &pa) != PM_OK)
        return 0;
    uint64_t *p = phys_to_virt(pa);
    for (size_t i = 0; i < PM_PAGE_SIZE / sizeof *p; i++)
        p[i] = 0;
    kernel_frames++;
    return pa;
}

/* Print one range as a table row. */
static void print_row(uint64_t base, uint64_t end, const char *what)
{
    kprintf("         0x%016llx-0x%016llx %10llu KiB  %s\n", (unsigned long long)base,
            (unsigned long long)end, (unsigned long long)((end - base) >> 10), what);
}

void bootmem_print(const struct mb2_info *mb)
{
    LOG_INFO("memory: boot loader map, %zu entries:", mb->nmmap);
    for (size_t i = 0; i < mb->nmmap; i++) {
        const struct mb2_mmap_entry *e = &mb->mmap[i];
        uint64_t end = e->base + e->length;
        print_row(e->base, end < e->base ? UINT64_MAX : end, mb2_mmap_type_name(e->type));
    }
    LOG_INFO("memory: in use at boot, removed from the free set:");
    for (size_t i = 0; i < nreserved_log; i++)
        print_row(reserved_log[i].base, reserved_log[i].end, reserved_log[i].what);
    LOG_OK("memory: free after sanitizing: %zu ranges, %llu KiB (%llu MiB); kernel took %llu frames",
           free_set.n, (unsigned long long)(pm_total(&free_set) >> 10),
           (unsigned long long)(pm_total(&free_set) >> 20), (unsigned long long)kernel_frames);
    for (size_t i = 0; i < free_set.n; i++)
        print_row(free_set.r[i].base, free_set.r[i].end, "free");
    if (report.entries_ignored || report.entries_clamped || report.overlaps)
        LOG_WARN("memory: map oddities: %zu entries ignored, %zu clamped, %zu overlaps resolved "
                 "in favour of the unusable type",
                 report.entries_ignored, report.entries_clamped, report.overlaps);
}

/* ---- the proof ---------------------------------------------------------------
 *
 * The free set was built from reserved_set, so checking it against
 * reserved_set proves nothing about a reservation that was never made.  The
 * proof reads the same facts again from where they live: the multiboot2
 * information as GRUB wrote it (its own extent, every module tag, the ELF
 * sections tag), the linker's symbols for the kernel image, and the page
 * tables reachable from a root.  Everything read is bounds-checked first;
 * a block that does not parse ends the walk (the parser refused it at boot
 * already) and never faults. */

extern char _start[], boot_pml4[], boot_pml5[], __kernel_end[];

struct verify_ctx {
    const struct pm_set *free;
    bool log;
    unsigned bad;
};

/* Count (and log) a range of `what` found in the free set. */
static void must_not_be_free(struct verify_ctx *ctx, const char *what, uint64_t base, uint64_t end)
{
    if (end <= base || !pm_overlaps(ctx->free, base, end))
        return;
    if (ctx->log)
        LOG_FAIL("memory: %s [0x%llx, 0x%llx) is in the free set", what, (unsigned long long)base,
                 (unsigned long long)end);
    ctx->bad++;
}

/* Page-table walker callback: a table frame must not be free. */
static void check_table(uint64_t pa, void *arg)
{
    must_not_be_free(arg, "page-table frame", pa, pa + PM_PAGE_SIZE);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The non-allocated sections GRUB loaded (.symtab, .strtab, ...) from the
 * raw ELF sections tag of `size` bytes at t. */
static void check_elf_sections(struct verify_ctx *ctx, const uint8_t *t, uint32_t size)
{
    if (size < 20)
        return;
    uint32_t num = rd32(t + 8), entsize = rd32(t + 12);
    if (entsize < sizeof(Elf64_Shdr) || num > (size - 20) / entsize)
        return;
    for (uint32_t i = 0; i < num; i++) {
        Elf64_Shdr sh;
        __builtin_memcpy(&sh, t + 20 + (uint64_t)i * entsize, sizeof sh);
        if ((sh.sh_flags & SHF_ALLOC) || sh.sh_type == SHT_NOBITS || sh.sh_addr == 0 ||
            sh.sh_size > PM_PHYS_LIMIT || sh.sh_addr > PM_PHYS_LIMIT - sh.sh_size)
            continue;
        must_not_be_free(ctx, "kernel ELF section (raw tag)", sh.sh_addr, sh.sh_addr + sh.sh_size);
    }
}

/* The raw multiboot2 block: itself, each module, the ELF sections. */
static void check_raw_boot_info(struct verify_ctx *ctx)
{
    const uint8_t *info = phys_to_virt(info_phys);
    uint64_t total = rd32(info);
    if (total < 16 || info_phys >= (4ull << 30) || total > (4ull << 30) - info_phys)
        return; /* the parser's bounds: such a block stopped the boot already */
    must_not_be_free(ctx, "multiboot2 information", info_phys, info_phys + total);
    for (uint64_t off = 8; off + 8 <= total;) {
        uint32_t type = rd32(info + off), size = rd32(info + off + 4);
        if (type == MB2_TAG_END || size < 8 || size > total - off)
            break;
        if (type == MB2_TAG_MODULE && size >= 16)
            must_not_be_free(ctx, "module (raw tag)", rd32(info + off + 8), rd32(info + off + 12));
        if (type == MB2_TAG_ELF_SECTIONS)
            check_elf_sections(ctx, info + off, size);
        off += ((uint64_t)size + 7) & ~7ull;
    }
}

/* The kernel image, from the linker's symbols: the boot stub (linked at its
 * physical address) up to the end of .bss (linked high). */
static void check_image(struct verify_ctx *ctx)
{
    uint64_t lo = (uint64_t)_start;
    if ((uint64_t)boot_pml4 < lo)
        lo = (uint64_t)boot_pml4;
    if ((uint64_t)boot_pml5 < lo)
        lo = (uint64_t)boot_pml5;
    lo &= ~(PM_PAGE_SIZE - 1);
    must_not_be_free(ctx, "kernel image (linker symbols)", lo, virt_to_phys_kernel_image(__kernel_end));
    must_not_be_free(ctx, "boot page table", (uint64_t)boot_pml4, (uint64_t)boot_pml4 + PM_PAGE_SIZE);
    must_not_be_free(ctx, "boot page table", (uint64_t)boot_pml5, (uint64_t)boot_pml5 + PM_PAGE_SIZE);
}

unsigned bootmem_verify_set(const struct pm_set *free, uint64_t root, bool log)
{
    struct verify_ctx ctx = {.free = free, .log = log};
    if (root != 0)
        arch_pt_for_each_table(root, check_table, &ctx);
    check_raw_boot_info(&ctx);
    check_image(&ctx);
    must_not_be_free(&ctx, "first MiB", 0, 1ull << 20);
    return ctx.bad;
}

unsigned bootmem_verify(uint64_t root)
{
    return bootmem_verify_set(&free_set, root, true);
}
