/* Host unit tests for microkernel/mm/physmap.c: range-set algebra, pm_take
 * and the memory map sanitizer, including adversarial maps.  A randomized
 * differential test compares pm_add/pm_remove against a byte bitmap. */
#include "test/host/check.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "microkernel/mm/physmap.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define PG PM_PAGE_SIZE

/* True when `s` is sorted, disjoint, non-adjacent and has no empty range. */
static bool well_formed(const struct pm_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->r[i].base >= s->r[i].end)
            return false;
        if (i > 0 && s->r[i - 1].end >= s->r[i].base)
            return false;
    }
    return s->n <= s->cap;
}

/* True when `s` holds exactly the `n` ranges given as base, end pairs. */
static bool equals(const struct pm_set *s, size_t n, const uint64_t *pairs)
{
    if (s->n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s->r[i].base != pairs[2 * i] || s->r[i].end != pairs[2 * i + 1])
            return false;
    return true;
}

/* True when every byte of the set is page aligned at both ends. */
static bool page_aligned(const struct pm_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->r[i].base % PG || s->r[i].end % PG)
            return false;
    return true;
}

static void test_add(void)
{
    struct pm_range st[4];
    struct pm_set s;

    pm_init(&s, st, 4);
    CHECK(pm_add(&s, 300, 400) == PM_OK);
    CHECK(pm_add(&s, 100, 200) == PM_OK); /* inserted before: sorted */
    CHECK(equals(&s, 2, (const uint64_t[]){100, 200, 300, 400}));
    CHECK(pm_add(&s, 200, 300) == PM_OK); /* touches both: one range */
    CHECK(equals(&s, 1, (const uint64_t[]){100, 400}));
    CHECK(pm_add(&s, 50, 120) == PM_OK && pm_add(&s, 390, 500) == PM_OK);
    CHECK(equals(&s, 1, (const uint64_t[]){50, 500}));
    CHECK(pm_add(&s, 600, 600) == PM_OK && pm_add(&s, 700, 650) == PM_OK);
    CHECK_EQ_U64(s.n, 1);                      /* empty and inverted: no-ops */
    CHECK(pm_add(&s, 0, UINT64_MAX) == PM_OK); /* the whole space */
    CHECK(equals(&s, 1, (const uint64_t[]){0, UINT64_MAX}));
    CHECK_EQ_U64(pm_total(&s), UINT64_MAX);
}

static void test_add_enospc_and_swallow(void)
{
    struct pm_range st[3];
    struct pm_set s;

    pm_init(&s, st, 3);
    pm_add(&s, 10, 20);
    pm_add(&s, 30, 40);
    pm_add(&s, 50, 60);
    CHECK(pm_add(&s, 70, 80) == PM_ENOSPC);
    CHECK(equals(&s, 3, (const uint64_t[]){10, 20, 30, 40, 50, 60}));
    CHECK(pm_add(&s, 0, 5) == PM_ENOSPC); /* insertion at the front too */
    CHECK(equals(&s, 3, (const uint64_t[]){10, 20, 30, 40, 50, 60}));
    CHECK(pm_add(&s, 15, 55) == PM_OK); /* full, but a merge needs no slot */
    CHECK(equals(&s, 1, (const uint64_t[]){10, 60}));
}

static void test_remove(void)
{
    struct pm_range st[3];
    struct pm_set s;

    pm_init(&s, st, 3);
    pm_add(&s, 0, 100);
    CHECK(pm_remove(&s, 40, 60) == PM_OK); /* hole: split */
    CHECK(equals(&s, 2, (const uint64_t[]){0, 40, 60, 100}));
    CHECK(pm_remove(&s, 40, 60) == PM_OK && s.n == 2); /* touching: untouched */
    CHECK(pm_remove(&s, 30, 70) == PM_OK);             /* trims both neighbours */
    CHECK(equals(&s, 2, (const uint64_t[]){0, 30, 70, 100}));
    pm_add(&s, 200, 300);
    CHECK(pm_remove(&s, 10, 20) == PM_ENOSPC); /* full: a split has no slot */
    CHECK(equals(&s, 3, (const uint64_t[]){0, 30, 70, 100, 200, 300}));
    CHECK(pm_remove(&s, 0, 10) == PM_OK);   /* a trim needs none */
    CHECK(pm_remove(&s, 20, 250) == PM_OK); /* spans three ranges */
    CHECK(equals(&s, 2, (const uint64_t[]){10, 20, 250, 300}));
    CHECK(pm_remove(&s, 0, UINT64_MAX) == PM_OK && s.n == 0);
}

static void test_queries(void)
{
    struct pm_range st[4];
    struct pm_set s;

    pm_init(&s, st, 4);
    pm_add(&s, 100, 200);
    pm_add(&s, 300, 400);
    CHECK(pm_overlaps(&s, 199, 301));
    CHECK(!pm_overlaps(&s, 200, 300)); /* half-open: touches only */
    CHECK(!pm_overlaps(&s, 150, 150));
    CHECK(pm_contains(&s, 100, 200));
    CHECK(!pm_contains(&s, 100, 201));
    CHECK(!pm_contains(&s, 150, 350)); /* spans the gap */
    CHECK(!pm_contains(&s, 0, 50));
    CHECK(pm_contains(&s, 500, 500)); /* empty: vacuous */
}

static void test_align_total(void)
{
    struct pm_range st[4];
    struct pm_set s;

    pm_init(&s, st, 4);
    pm_add(&s, 0x1001, 0x3fff); /* shrinks to [0x2000, 0x3000) */
    pm_add(&s, 0x5000, 0x5800); /* less than a page: dropped */
    pm_add(&s, 0x7800, 0xa000);
    pm_add(&s, UINT64_MAX - 10, UINT64_MAX); /* rounding up would wrap */
    pm_align_inward(&s, PG);
    CHECK(equals(&s, 2, (const uint64_t[]){0x2000, 0x3000, 0x8000, 0xa000}));
    CHECK_EQ_U64(pm_total(&s), 0x3000);
    pm_align_inward(&s, 3); /* not a power of two: no-op */
    CHECK_EQ_U64(s.n, 2);
}

static void test_take(void)
{
    struct pm_range st[3];
    struct pm_set s;
    uint64_t at = 0;

    pm_init(&s, st, 3);
    pm_add(&s, 0x1000, 0x3000);
    pm_add(&s, 0x10000, 0x40000);
    CHECK(pm_take(&s, 0x2000, PG, 0, UINT64_MAX, &at) == PM_OK && at == 0x1000);
    CHECK(equals(&s, 1, (const uint64_t[]){0x10000, 0x40000})); /* exact fit consumed */
    CHECK(pm_take(&s, PG, 0x20000, 0, UINT64_MAX, &at) == PM_OK && at == 0x20000);
    CHECK(equals(&s, 2, (const uint64_t[]){0x10000, 0x20000, 0x21000, 0x40000}));
    CHECK(pm_take(&s, PG, PG, 0x30000, 0x32000, &at) == PM_OK && at == 0x30000);
    CHECK(pm_take(&s, 0x3000, PG, 0x3e000, 0x40000, &at) == PM_ENOSPC); /* window too small */
    CHECK(pm_take(&s, 0x100000, PG, 0, UINT64_MAX, &at) == PM_ENOSPC);
    CHECK(pm_take(&s, 0x1800, PG, 0, UINT64_MAX, &at) == PM_EINVAL); /* not pages */
    CHECK(pm_take(&s, PG, 0x3000, 0, UINT64_MAX, &at) == PM_EINVAL); /* align not 2^n */
    CHECK(pm_take(&s, 0, PG, 0, UINT64_MAX, &at) == PM_EINVAL);
    CHECK_EQ_U64(pm_total(&s), 0x2e000); /* failures took nothing */
}

/* A full set cannot split; pm_take must pass over to a range it can trim. */
static void test_take_full_set(void)
{
    struct pm_range st[2];
    struct pm_set s;
    uint64_t at = 0;

    pm_init(&s, st, 2);
    pm_add(&s, 0x0000, 0x10000);
    pm_add(&s, 0x20000, 0x30000);
    CHECK(pm_take(&s, PG, PG, 0x4000, UINT64_MAX, &at) == PM_OK && at == 0x20000);
    CHECK(equals(&s, 2, (const uint64_t[]){0, 0x10000, 0x21000, 0x30000}));
    CHECK(pm_take(&s, PG, PG, 0x4000, 0x10000, &at) == PM_ENOSPC);
    CHECK(equals(&s, 2, (const uint64_t[]){0, 0x10000, 0x21000, 0x30000}));
    /* Near the top of the address space: no wrap in alignment or size. */
    pm_init(&s, st, 2);
    pm_add(&s, UINT64_MAX - 3 * PG, UINT64_MAX);
    CHECK(pm_take(&s, 2 * PG, 1ull << 63, 0, UINT64_MAX, &at) == PM_ENOSPC);
}

/* Storage for sanitize tests, big enough for the adversarial cases. */
#define BIG 8192
static struct pm_range free_st[BIG], scratch_st[BIG];
static struct mb2_mmap_entry big_map[BIG / 2];

/* Run pm_sanitize with `fcap` result slots and `scap` scratch slots. */
static int sanitize(const struct mb2_mmap_entry *m, size_t n, const struct pm_range *res, size_t nres,
                    struct pm_set *fr, size_t fcap, size_t scap, struct pm_report *rep)
{
    struct pm_set sc;

    pm_init(fr, free_st, fcap);
    pm_init(&sc, scratch_st, scap);
    return pm_sanitize(m, n, res, nres, fr, &sc, rep);
}

/* A QEMU-like BIOS e820 map with the kernel and the first MiB reserved. */
static void test_sanitize_bios(void)
{
    const struct mb2_mmap_entry map[] = {
        {0x0, 0x9fc00, MB2_MMAP_AVAILABLE},      {0x9fc00, 0x400, MB2_MMAP_RESERVED},
        {0xf0000, 0x10000, MB2_MMAP_RESERVED},   {0x100000, 0x7ee0000, MB2_MMAP_AVAILABLE},
        {0x7fe0000, 0x20000, MB2_MMAP_RESERVED}, {0xfffc0000, 0x40000, MB2_MMAP_RESERVED},
    };
    const struct pm_range res[] = {
        {0, 1 * MiB},         /* real-mode structures, BIOS */
        {0x200000, 0x345678}, /* kernel image, unaligned end */
    };
    struct pm_set fr;
    struct pm_report rep;

    CHECK(sanitize(map, 6, res, 2, &fr, 16, 8, &rep) == PM_OK);
    CHECK(equals(&fr, 2, (const uint64_t[]){0x100000, 0x200000, 0x346000, 0x7fe0000}));
    CHECK_EQ_U64(rep.available_bytes, 0x9fc00 + 0x7ee0000);
    CHECK_EQ_U64(rep.free_bytes, 0x100000 + 0x7fe0000 - 0x346000);
    CHECK(rep.overlaps == 0 && rep.entries_clamped == 0 && rep.entries_ignored == 0);
}

/* Overlapping, unsorted, unaligned, duplicated and adjacent available
 * entries merge; unusable types win wherever they overlap. */
static void test_sanitize_messy(void)
{
    const struct mb2_mmap_entry map[] = {
        {0x300000, 0x100000, MB2_MMAP_AVAILABLE},
        {0x100800, 0x100000, MB2_MMAP_AVAILABLE},      /* unaligned base */
        {0x180000, 0x200000, MB2_MMAP_AVAILABLE},      /* overlaps both */
        {0x300000, 0x100000, MB2_MMAP_AVAILABLE},      /* identical duplicate */
        {0x400000, 0x100000, MB2_MMAP_AVAILABLE},      /* exactly adjacent */
        {0x250000, 0x1000, MB2_MMAP_ACPI_RECLAIMABLE}, /* reserved inside available */
        {0x480123, 0x10, 99},                          /* unknown type: unusable */
        {0x600000, 0, MB2_MMAP_RESERVED},              /* zero length: ignored */
    };
    struct pm_set fr;
    struct pm_report rep;

    CHECK(sanitize(map, 8, NULL, 0, &fr, 16, 16, &rep) == PM_OK);
    CHECK(well_formed(&fr) && page_aligned(&fr));
    CHECK(equals(&fr, 3, (const uint64_t[]){0x101000, 0x250000, 0x251000, 0x480000, 0x481000, 0x500000}));
    CHECK_EQ_U64(rep.entries_ignored, 1);
    CHECK_EQ_U64(rep.overlaps, 2); /* the 0x180000 and 0x400000 entries */
    CHECK_EQ_U64(rep.available_bytes, 0x100000 * 4 + 0x200000);
}

/* Wrapping, huge and above-limit entries are clamped or ignored. */
static void test_sanitize_huge(void)
{
    const struct mb2_mmap_entry map[] = {
        {0x100000000ull, UINT64_MAX, MB2_MMAP_AVAILABLE},  /* base+len wraps */
        {PM_PHYS_LIMIT, 0x100000, MB2_MMAP_AVAILABLE},     /* wholly above */
        {UINT64_MAX - 0xfff, 0x1000, MB2_MMAP_RESERVED},   /* top byte, above */
        {PM_PHYS_LIMIT - 0x2000, 0x1000, MB2_MMAP_BADRAM}, /* below, unusable */
        {0x1000, UINT64_MAX, MB2_MMAP_RESERVED},           /* wraps too */
    };
    struct pm_set fr;
    struct pm_report rep;

    CHECK(sanitize(map, 3, NULL, 0, &fr, 4, 4, &rep) == PM_OK);
    CHECK(equals(&fr, 1, (const uint64_t[]){0x100000000ull, PM_PHYS_LIMIT}));
    CHECK_EQ_U64(rep.entries_clamped, 1);
    CHECK_EQ_U64(rep.entries_ignored, 2);
    CHECK_EQ_U64(rep.available_bytes, PM_PHYS_LIMIT - 0x100000000ull);
    CHECK(sanitize(map, 4, NULL, 0, &fr, 4, 4, &rep) == PM_OK);
    CHECK(equals(
        &fr, 2,
        (const uint64_t[]){0x100000000ull, PM_PHYS_LIMIT - 0x2000, PM_PHYS_LIMIT - 0x1000, PM_PHYS_LIMIT}));
    CHECK(sanitize(map, 5, NULL, 0, &fr, 4, 4, &rep) == PM_OK); /* reserved swallows all */
    CHECK(fr.n == 0 && rep.free_bytes == 0 && rep.entries_clamped == 2);
    /* Ending exactly at the limit is neither clamped nor ignored. */
    CHECK(sanitize(map + 3, 1, NULL, 0, &fr, 4, 4, &rep) == PM_OK);
    CHECK(rep.entries_clamped == 0 && rep.entries_ignored == 0);
    {
        const struct mb2_mmap_entry top = {PM_PHYS_LIMIT - 0x1000, 0x1000, MB2_MMAP_AVAILABLE};
        CHECK(sanitize(&top, 1, NULL, 0, &fr, 4, 4, &rep) == PM_OK);
        CHECK(equals(&fr, 1, (const uint64_t[]){PM_PHYS_LIMIT - 0x1000, PM_PHYS_LIMIT}) &&
              rep.entries_clamped == 0);
    }
}

/* Available inside reserved vanishes; reserved ranges cut holes. */
static void test_sanitize_reserved(void)
{
    const struct mb2_mmap_entry map[] = {
        {0x10000000, 0x10000000, MB2_MMAP_NVS},
        {0x14000000, 0x1000000, MB2_MMAP_AVAILABLE}, /* inside NVS */
        {0x40000000, 0x40000000, MB2_MMAP_AVAILABLE},
    };
    const struct pm_range res[] = {
        {0x50000000, 0x50001000}, /* module */
        {0x7ffff000, 0x90000000}, /* runs past the end */
        {0x60000000, 0x50000000}, /* inverted: no-op */
    };
    struct pm_set fr;
    struct pm_report rep;

    CHECK(sanitize(map, 3, res, 3, &fr, 4, 8, &rep) == PM_OK);
    CHECK(equals(&fr, 2, (const uint64_t[]){0x40000000, 0x50000000, 0x50001000, 0x7ffff000}));
    CHECK_EQ_U64(rep.overlaps, 1);
    CHECK(!pm_overlaps(&fr, 0x10000000, 0x20000000));
}

/* Thousands of tiny entries: the result needs many slots. */
static void test_sanitize_many(void)
{
    size_t n = BIG / 2;
    struct pm_set fr;
    struct pm_report rep;

    for (size_t i = 0; i < n; i++) /* one page, one hole, alternating */
        big_map[i] = (struct mb2_mmap_entry){2 * i * PG, PG, MB2_MMAP_AVAILABLE};
    CHECK(sanitize(big_map, n, NULL, 0, &fr, n - 1, n, &rep) == PM_ENOSPC);
    CHECK_EQ_U64(fr.n, 0); /* result did not fit */
    CHECK(sanitize(big_map, n, NULL, 0, &fr, n, n / 2, &rep) == PM_ENOSPC);
    CHECK_EQ_U64(fr.n, 0); /* scratch ran out */
    CHECK(sanitize(big_map, n, NULL, 0, &fr, n, n, &rep) == PM_OK);
    CHECK(fr.n == n && well_formed(&fr) && rep.free_bytes == n * PG);

    /* Reserved slivers splitting one big range every 4 pages: the worst
     * case of scratch use, exactly nmmap + nreserved slots. */
    big_map[0] = (struct mb2_mmap_entry){0, n * 4 * PG, MB2_MMAP_AVAILABLE};
    for (size_t i = 1; i < n; i++)
        big_map[i] = (struct mb2_mmap_entry){4 * i * PG - 1, 2, MB2_MMAP_RESERVED};
    CHECK(sanitize(big_map, n, NULL, 0, &fr, n, n - 1, &rep) == PM_ENOSPC && fr.n == 0);
    CHECK(sanitize(big_map, n, NULL, 0, &fr, n, n, &rep) == PM_OK);
    CHECK(fr.n == n && rep.overlaps == 1 && page_aligned(&fr));
    CHECK_EQ_U64(rep.free_bytes, (2 * n + 2) * PG); /* 3 + 2 * (n - 2) + 3 pages */
}

/* available_bytes counts entries as given, so it can exceed 2^64: it
 * saturates instead of wrapping to a small number. */
static void test_sanitize_saturate(void)
{
    size_t n = BIG / 2; /* n * 2^52 == 2^64 */
    struct pm_set fr;
    struct pm_report rep;

    for (size_t i = 0; i < n; i++)
        big_map[i] = (struct mb2_mmap_entry){0, PM_PHYS_LIMIT, MB2_MMAP_AVAILABLE};
    CHECK(sanitize(big_map, n, NULL, 0, &fr, 1, 1, &rep) == PM_OK);
    CHECK_EQ_U64(rep.available_bytes, UINT64_MAX);
    CHECK_EQ_U64(rep.free_bytes, PM_PHYS_LIMIT);
}

/* A reserved range that splits the only range needs a second scratch slot. */
static void test_sanitize_reserved_enospc(void)
{
    const struct mb2_mmap_entry map[] = {{0, 1 * GiB, MB2_MMAP_AVAILABLE}};
    const struct pm_range res[] = {{0x1000, 0x2000}};
    struct pm_set fr;
    struct pm_report rep;

    CHECK(sanitize(map, 1, res, 1, &fr, 4, 1, &rep) == PM_ENOSPC && fr.n == 0);
    CHECK(sanitize(map, 1, res, 1, &fr, 4, 2, &rep) == PM_OK && fr.n == 2);
}

static void test_sanitize_contract(void)
{
    const struct mb2_mmap_entry map[] = {{0x100000, 0x100000, MB2_MMAP_AVAILABLE}};
    struct pm_set fr, sc;
    struct pm_report rep;

    pm_init(&fr, free_st, 4);
    pm_init(&sc, scratch_st, 4);
    pm_add(&fr, 0, PG);
    CHECK(pm_sanitize(map, 1, NULL, 0, &fr, &sc, &rep) == PM_EINVAL); /* free not empty */
    CHECK(equals(&fr, 1, (const uint64_t[]){0, PG}));
    pm_init(&fr, free_st, 4);
    CHECK(pm_sanitize(map, 1, NULL, 0, &fr, &fr, &rep) == PM_EINVAL);        /* aliased */
    CHECK(sanitize(map, 1, NULL, 0, &fr, 1, 1, NULL) == PM_OK && fr.n == 1); /* no report */
    CHECK(sanitize(map, 0, NULL, 0, &fr, 1, 0, &rep) == PM_OK && fr.n == 0);
}

/* Small deterministic PRNG for the differential test (xorshift64). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random add/remove on a tiny universe, against a byte map model.  An
 * ENOSPC must leave both set and model unchanged; anything else must keep
 * them equal and the set well formed. */
static void test_differential(void)
{
    enum { U = 96, CAP = 6, OPS = 200000 };
    struct pm_range st[CAP], before[CAP];
    bool model[U];
    struct pm_set s;
    size_t mismatches = 0, enospc = 0;

    pm_init(&s, st, CAP);
    memset(model, 0, sizeof model);
    for (int op = 0; op < OPS; op++) {
        /* Mostly short ranges, so the set fragments and fills up. */
        uint64_t a = rng() % U, len = rng() % 8 == 0 ? rng() % U : rng() % 5;
        uint64_t b = a + len > U ? U : a + len;
        bool add = rng() & 1;
        size_t n0 = s.n;
        int rc;

        memcpy(before, st, sizeof st);
        rc = add ? pm_add(&s, a, b) : pm_remove(&s, a, b);
        if (rc == PM_ENOSPC) {
            enospc++;
            if (s.n != n0 || memcmp(before, st, n0 * sizeof st[0]) != 0)
                mismatches++;
            continue;
        }
        for (uint64_t x = a; x < b; x++)
            model[x] = add;
        if (rc != PM_OK || !well_formed(&s))
            mismatches++;
        for (uint64_t x = 0; x < U; x++)
            if (pm_contains(&s, x, x + 1) != model[x] || pm_overlaps(&s, x, x + 1) != model[x])
                mismatches++;
    }
    CHECK_EQ_U64(mismatches, 0);
    CHECK(enospc > 1000); /* the ENOSPC path was really taken */
}

int main(void)
{
    test_add();
    test_add_enospc_and_swallow();
    test_remove();
    test_queries();
    test_align_total();
    test_take();
    test_take_full_set();
    test_sanitize_bios();
    test_sanitize_messy();
    test_sanitize_huge();
    test_sanitize_reserved();
    test_sanitize_many();
    test_sanitize_saturate();
    test_sanitize_reserved_enospc();
    test_sanitize_contract();
    test_differential();
    return check_done();
}
