/* libFuzzer target: the input is a multiboot2 information block.  It is
 * parsed, its memory map is sanitized with reserved ranges derived from the
 * parsed modules, and every promise of both interfaces is checked; a broken
 * one aborts so libFuzzer keeps the input.
 *
 * Build and run (from the repository root):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *     test/fuzz/fuzz_multiboot2.c microkernel/boot/multiboot2.c \
 *     microkernel/mm/physmap.c -o /tmp/fz
 *   /tmp/fz -max_total_time=60 test/fuzz/corpus/multiboot2
 * Seeds are produced by test/fuzz/gen_mb2_seeds.c. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "microkernel/boot/multiboot2.h"
#include "microkernel/mm/physmap.h"
#include "test/fuzz/require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NRES_MAX (MB2_MAX_MODULES + 2)
#define SLOTS (MB2_MAX_MMAP + NRES_MAX)

/* Kept static: struct mb2_info is ~9 KiB. */
static struct mb2_info info;
static struct pm_range free_st[SLOTS], scratch_st[SLOTS], small_st[SLOTS], reserved[NRES_MAX];
static struct pm_set free_set; /* the sanitized set, for check_take */

/* True when [p, p + len) lies inside [lo, lo + n); no pointer arithmetic
 * beyond the object, so compare as integers. */
static bool inside(const void *lo, size_t n, const void *p, uint64_t len)
{
    uintptr_t a = (uintptr_t)lo, x = (uintptr_t)p;

    return x >= a && x - a <= n && len <= n - (x - a);
}

/* A returned string must start inside the block and end with a NUL in it. */
static void check_string(const uint8_t *blk, size_t n, const char *s)
{
    REQUIRE(inside(blk, n, s, 1));
    REQUIRE(memchr(s, 0, n - (size_t)((const uint8_t *)s - blk)) != NULL);
}

/* After a failed parse everything but the diagnostics must be zero. */
static void check_failed_parse(void)
{
    static struct mb2_info copy, zero;

    REQUIRE(info.ndiags >= 1);
    copy = info;
    memset(copy.diags, 0, sizeof copy.diags);
    copy.ndiags = 0;
    copy.ndiags_total = 0;
    REQUIRE(memcmp(&copy, &zero, sizeof copy) == 0);
}

/* Modules: well ordered, with terminated strings, not overlapping. */
static void check_modules(const uint8_t *blk, size_t n)
{
    REQUIRE(info.nmodules <= MB2_MAX_MODULES);
    for (size_t i = 0; i < info.nmodules; i++) {
        const struct mb2_module *a = &info.modules[i];
        REQUIRE(a->start <= a->end && a->end <= UINT32_MAX);
        check_string(blk, n, a->string);
        for (size_t j = 0; j < i; j++) {
            const struct mb2_module *b = &info.modules[j];
            bool empty = a->start == a->end || b->start == b->end;
            REQUIRE(empty || a->end <= b->start || b->end <= a->start);
        }
    }
}

/* Every pointer and length the parser returned stays inside the block. */
static void check_parsed(const uint8_t *blk)
{
    size_t n = info.total_size;

    REQUIRE(info.ndiags <= MB2_MAX_DIAGS && info.ndiags <= info.ndiags_total);
    REQUIRE(info.ndiags == (info.ndiags_total < MB2_MAX_DIAGS ? info.ndiags_total : MB2_MAX_DIAGS));
    if (info.cmdline)
        check_string(blk, n, info.cmdline);
    if (info.loader_name)
        check_string(blk, n, info.loader_name);
    check_modules(blk, n);
    REQUIRE(info.nmmap <= MB2_MAX_MMAP && (info.have_mmap || info.nmmap == 0));
    if (info.have_framebuffer)
        REQUIRE(info.fb.bpp != 0 && (uint64_t)info.fb.pitch >= (uint64_t)info.fb.width * info.fb.bpp / 8);
    if (info.have_elf_sections) {
        REQUIRE(info.elf_num > 0 && info.elf_entsize >= 64 && info.elf_shndx < info.elf_num);
        REQUIRE(inside(blk, n, info.elf_shdrs, (uint64_t)info.elf_num * info.elf_entsize));
    } else {
        REQUIRE(info.elf_shdrs == NULL);
    }
    if (info.rsdp_old) {
        REQUIRE(info.rsdp_old_len >= 20 && inside(blk, n, info.rsdp_old, info.rsdp_old_len));
        REQUIRE(memcmp(info.rsdp_old, "RSD PTR ", 8) == 0);
    }
    if (info.rsdp_new) {
        REQUIRE(info.rsdp_new_len >= 36 && inside(blk, n, info.rsdp_new, info.rsdp_new_len));
        REQUIRE(memcmp(info.rsdp_new, "RSD PTR ", 8) == 0);
    }
    if (info.efi_mmap)
        REQUIRE(info.efi_desc_size >= 40 &&
                inside(blk, n, info.efi_mmap, (uint64_t)info.efi_ndesc * info.efi_desc_size));
}

/* Reserved ranges as the kernel would pass them: the first MiB, a kernel
 * image at the load base, and every module rounded out to whole pages. */
static size_t make_reserved(void)
{
    size_t n = 0;

    reserved[n++] = (struct pm_range){0, 0x100000};
    if (info.have_load_base)
        reserved[n++] = (struct pm_range){info.load_base, (uint64_t)info.load_base + 0x300000};
    for (size_t i = 0; i < info.nmodules; i++)
        reserved[n++] = (struct pm_range){info.modules[i].start & ~(PM_PAGE_SIZE - 1),
                                          (info.modules[i].end + PM_PAGE_SIZE - 1) & ~(PM_PAGE_SIZE - 1)};
    return n;
}

/* End of a raw map entry, saturating where base + length wraps. */
static uint64_t raw_end(const struct mb2_mmap_entry *e)
{
    return e->length > UINT64_MAX - e->base ? UINT64_MAX : e->base + e->length;
}

/* True when byte `x` lies in some AVAILABLE entry of the map. */
static bool in_available(uint64_t x)
{
    for (size_t k = 0; k < info.nmmap; k++)
        if (info.mmap[k].type == MB2_MMAP_AVAILABLE && info.mmap[k].base <= x && x < raw_end(&info.mmap[k]))
            return true;
    return false;
}

/* True when [b, e) meets an unusable map entry or a reserved range. */
static bool hits_unusable(uint64_t b, uint64_t e, size_t nres)
{
    for (size_t k = 0; k < info.nmmap; k++)
        if (info.mmap[k].type != MB2_MMAP_AVAILABLE && info.mmap[k].length && info.mmap[k].base < e &&
            b < raw_end(&info.mmap[k]))
            return true;
    for (size_t k = 0; k < nres; k++) /* an empty range (empty module) has no byte */
        if (reserved[k].base < reserved[k].end && reserved[k].base < e && b < reserved[k].end)
            return true;
    return false;
}

/* The free set: well formed, page aligned, below the limit, made only of
 * available bytes that nothing unusable or reserved touches. */
static void check_free(const struct pm_set *fr, size_t nres)
{
    for (size_t i = 0; i < fr->n; i++) {
        const struct pm_range *r = &fr->r[i];
        REQUIRE(r->base < r->end && r->end <= PM_PHYS_LIMIT);
        REQUIRE(r->base % PM_PAGE_SIZE == 0 && r->end % PM_PAGE_SIZE == 0);
        REQUIRE(i == 0 || fr->r[i - 1].end < r->base);
        REQUIRE(in_available(r->base) && in_available(r->end - 1));
        REQUIRE(!hits_unusable(r->base, r->end, nres));
    }
}

/* Completeness, sampled: a whole page inside one available entry that
 * nothing unusable or reserved touches must be free. */
static void check_complete(const struct pm_set *fr, size_t nres)
{
    for (size_t k = 0; k < info.nmmap; k++) {
        const struct mb2_mmap_entry *e = &info.mmap[k];
        uint64_t end = raw_end(e) < PM_PHYS_LIMIT ? raw_end(e) : PM_PHYS_LIMIT;
        uint64_t first = (e->base + PM_PAGE_SIZE - 1) & ~(PM_PAGE_SIZE - 1);
        uint64_t last = (end & ~(PM_PAGE_SIZE - 1)) - PM_PAGE_SIZE;

        if (e->type != MB2_MMAP_AVAILABLE || e->base >= PM_PHYS_LIMIT || first < e->base ||
            end < PM_PAGE_SIZE || first > last)
            continue;
        if (!hits_unusable(first, first + PM_PAGE_SIZE, nres))
            REQUIRE(pm_contains(fr, first, first + PM_PAGE_SIZE));
        if (!hits_unusable(last, last + PM_PAGE_SIZE, nres))
            REQUIRE(pm_contains(fr, last, last + PM_PAGE_SIZE));
    }
}

/* Sanitize with ample storage, then again with a result set too small for
 * some inputs: that must fail cleanly (empty) or agree exactly. */
static void check_sanitize(uint8_t small_cap)
{
    size_t nres = make_reserved();
    struct pm_set sc, small;
    struct pm_set *fr = &free_set;
    struct pm_report rep;

    pm_init(fr, free_st, SLOTS);
    pm_init(&sc, scratch_st, info.nmmap + nres); /* the documented requirement */
    REQUIRE(pm_sanitize(info.mmap, info.nmmap, reserved, nres, fr, &sc, &rep) == PM_OK);
    check_free(fr, nres);
    check_complete(fr, nres);
    REQUIRE(rep.free_bytes == pm_total(fr) && rep.free_bytes <= rep.available_bytes);
    REQUIRE(rep.entries_ignored + rep.entries_clamped <= info.nmmap);
    REQUIRE(rep.overlaps <= info.nmmap);

    pm_init(&small, small_st, small_cap % 8);
    if (pm_sanitize(info.mmap, info.nmmap, reserved, nres, &small, &sc, &rep) == PM_OK) {
        REQUIRE(small.n == fr->n && memcmp(small.r, fr->r, fr->n * sizeof fr->r[0]) == 0);
    } else {
        REQUIRE(small.n == 0 && fr->n > small.cap);
    }
}

/* Carve a few allocations out of the sanitized set, with size, alignment
 * and window taken from the input: a success must hand out aligned bytes
 * that were free and are not any more; a failure must change nothing. */
static void check_take(const uint8_t *data, size_t size)
{
    for (size_t k = 0; k + 3 < size && k < 16; k += 4) {
        uint64_t len = (1 + data[k] % 16) * PM_PAGE_SIZE;
        uint64_t align = PM_PAGE_SIZE << (data[k + 1] % 12);
        uint64_t min = (uint64_t)data[k + 2] << 20, max = UINT64_MAX >> (data[k + 3] % 40);
        uint64_t at = 0, before = pm_total(&free_set);
        size_t n0 = free_set.n;

        if (pm_take(&free_set, len, align, min, max, &at) == PM_OK) {
            REQUIRE(at % align == 0 && at >= min && at + len <= max);
            REQUIRE(!pm_overlaps(&free_set, at, at + len));
            REQUIRE(pm_total(&free_set) == before - len);
        } else {
            REQUIRE(free_set.n == n0 && pm_total(&free_set) == before);
        }
        for (size_t i = 0; i < free_set.n; i++)
            REQUIRE(free_set.r[i].base < free_set.r[i].end &&
                    (i == 0 || free_set.r[i - 1].end < free_set.r[i].base));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int rc = mb2_parse(data, size, &info);

    REQUIRE(rc == 0 || rc == -1);
    if (rc == -1) {
        check_failed_parse();
        return 0;
    }
    REQUIRE(info.total_size >= 16 && info.total_size <= size);
    check_parsed(data);
    check_sanitize(size ? data[size - 1] : 0);
    check_take(data, size);
    return 0;
}
