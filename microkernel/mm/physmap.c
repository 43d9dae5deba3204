/* Sets of physical ranges and the memory map sanitizer (see physmap.h).
 *
 * Invariant of every set: r[0..n) has base < end, and r[i].end < r[i+1].base
 * (sorted, disjoint, with a gap between neighbours).  Because of the gap,
 * both the bases and the ends increase strictly, so a binary search on
 * either finds where a range goes, and a contiguous range is contained in
 * the set only if it is contained in a single element. */
#include "physmap.h"

/* A change never turns k ranges into more than k + 1; two new pieces (the
 * two halves left around a removed hole) is the most one edit writes. */
#define PM_MAX_PIECES 2

/* Index of the first range whose end is >= addr (n if none). */
static size_t first_end_ge(const struct pm_set *s, uint64_t addr)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->r[mid].end < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the first range whose base is > addr (n if none). */
static size_t first_base_gt(const struct pm_set *s, uint64_t addr)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->r[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Replace the `nold` ranges at index i by the `nnew` given pieces, shifting
 * the tail.  Checks capacity before touching anything: PM_ENOSPC leaves the
 * set exactly as it was. */
static int replace_ranges(struct pm_set *s, size_t i, size_t nold, const struct pm_range *pieces, size_t nnew)
{
    size_t n_after = s->n - nold + nnew;
    size_t tail = s->n - i - nold;

    if (n_after > s->cap)
        return PM_ENOSPC;
    if (nnew > nold) {
        for (size_t k = tail; k-- > 0;) /* growing: move the tail up, last first */
            s->r[i + nnew + k] = s->r[i + nold + k];
    } else if (nnew < nold) {
        for (size_t k = 0; k < tail; k++) /* shrinking: move it down, first first */
            s->r[i + nnew + k] = s->r[i + nold + k];
    }
    for (size_t k = 0; k < nnew; k++)
        s->r[i + k] = pieces[k];
    s->n = n_after;
    return PM_OK;
}

void pm_init(struct pm_set *s, struct pm_range *storage, size_t cap)
{
    s->r = storage;
    s->n = 0;
    s->cap = storage ? cap : 0;
}

/* Union: every range overlapping or touching [base, end) merges into one. */
int pm_add(struct pm_set *s, uint64_t base, uint64_t end)
{
    struct pm_range merged = {base, end};
    size_t i, j;

    if (base >= end)
        return PM_OK;
    i = first_end_ge(s, base); /* first range that reaches base */
    j = first_base_gt(s, end); /* first range that starts after end */
    if (i < j) {
        if (s->r[i].base < merged.base)
            merged.base = s->r[i].base;
        if (s->r[j - 1].end > merged.end)
            merged.end = s->r[j - 1].end;
    }
    return replace_ranges(s, i, j - i, &merged, 1);
}

/* Difference: ranges overlapping [base, end) keep only their outer parts;
 * ranges that merely touch it are untouched. */
int pm_remove(struct pm_set *s, uint64_t base, uint64_t end)
{
    struct pm_range pieces[PM_MAX_PIECES];
    size_t i, j, np = 0;

    if (base >= end)
        return PM_OK;
    i = first_end_ge(s, base + 1); /* first range with a byte >= base */
    j = first_base_gt(s, end - 1); /* first range with no byte < end */
    if (i >= j)
        return PM_OK;
    if (s->r[i].base < base)
        pieces[np++] = (struct pm_range){s->r[i].base, base};
    if (s->r[j - 1].end > end)
        pieces[np++] = (struct pm_range){end, s->r[j - 1].end};
    return replace_ranges(s, i, j - i, pieces, np);
}

bool pm_overlaps(const struct pm_set *s, uint64_t base, uint64_t end)
{
    size_t i;

    if (base >= end)
        return false;
    i = first_end_ge(s, base + 1);
    return i < s->n && s->r[i].base < end;
}

/* An empty [base, end) is vacuously contained. */
bool pm_contains(const struct pm_set *s, uint64_t base, uint64_t end)
{
    size_t i;

    if (base >= end)
        return true;
    i = first_end_ge(s, base + 1);
    return i < s->n && s->r[i].base <= base && s->r[i].end >= end;
}

/* Shrinking keeps ranges sorted and keeps a gap between neighbours (the
 * rounded-down end of one stays below the rounded-up base of the next), so
 * compacting in place preserves the invariant.  A non-power-of-two `align`
 * is a caller bug and leaves the set unchanged. */
void pm_align_inward(struct pm_set *s, uint64_t align)
{
    uint64_t mask = align - 1;
    size_t k = 0;

    if (align == 0 || (align & mask) != 0)
        return;
    for (size_t i = 0; i < s->n; i++) {
        uint64_t base = s->r[i].base, end = s->r[i].end & ~mask;
        if (base > UINT64_MAX - mask)
            continue; /* rounding up would wrap: nothing left */
        base = (base + mask) & ~mask;
        if (base < end)
            s->r[k++] = (struct pm_range){base, end};
    }
    s->n = k;
}

/* Disjoint ranges below 2^64 cannot sum past UINT64_MAX. */
uint64_t pm_total(const struct pm_set *s)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < s->n; i++)
        sum += s->r[i].end - s->r[i].base;
    return sum;
}

/* Lowest `align`-aligned address in the part of range r inside [min, max) with `size` bytes
 * after it, in *out; false if there is none. */
static bool fit_in_range(const struct pm_range *r, uint64_t size, uint64_t align, uint64_t min, uint64_t max,
                         uint64_t *out)
{
    uint64_t lo = r->base > min ? r->base : min;
    uint64_t hi = r->end < max ? r->end : max;
    uint64_t mask = align - 1;

    if (lo >= hi || lo > UINT64_MAX - mask)
        return false;
    lo = (lo + mask) & ~mask;
    if (lo >= hi || hi - lo < size)
        return false;
    *out = lo;
    return true;
}

/* Ranges are tried lowest first.  Carving from the middle of a range splits
 * it and needs a free slot; if the set is full, that candidate is passed
 * over and a higher one that does not split may still succeed. */
int pm_take(struct pm_set *s, uint64_t size, uint64_t align, uint64_t min, uint64_t max, uint64_t *out)
{
    if (size == 0 || size % PM_PAGE_SIZE != 0 || align == 0 || (align & (align - 1)) != 0)
        return PM_EINVAL;
    for (size_t i = 0; i < s->n; i++) {
        uint64_t at;
        if (!fit_in_range(&s->r[i], size, align, min, max, &at))
            continue;
        if (pm_remove(s, at, at + size) == PM_OK) {
            *out = at;
            return PM_OK;
        }
    }
    return PM_ENOSPC;
}

/* Clip a map entry to [0, PM_PHYS_LIMIT) into [*base, *end), counting it in
 * the report; false when nothing of it is left. */
static bool clip_entry(const struct mb2_mmap_entry *e, uint64_t *base, uint64_t *end, struct pm_report *rep)
{
    if (e->length == 0 || e->base >= PM_PHYS_LIMIT) {
        rep->entries_ignored++;
        return false;
    }
    *base = e->base;
    if (e->length > PM_PHYS_LIMIT - e->base) { /* wraps, or crosses the limit */
        *end = PM_PHYS_LIMIT;
        rep->entries_clamped++;
    } else {
        *end = e->base + e->length;
    }
    return true;
}

/* Clip without counting, for the second pass over the map. */
static bool clip_quiet(const struct mb2_mmap_entry *e, uint64_t *base, uint64_t *end)
{
    struct pm_report unused = {0, 0, 0, 0, 0};

    return clip_entry(e, base, end, &unused);
}

/* True when the clipped AVAILABLE entry [base, end) meets any unusable one. */
static bool overlapped_by_unusable(const struct mb2_mmap_entry *mmap, size_t nmmap, uint64_t base,
                                   uint64_t end)
{
    for (size_t k = 0; k < nmmap; k++) {
        uint64_t b, e;
        if (mmap[k].type == MB2_MMAP_AVAILABLE || !clip_quiet(&mmap[k], &b, &e))
            continue;
        if (b < end && base < e)
            return true;
    }
    return false;
}

/* Pass 1: union of the AVAILABLE entries into `acc`, filling the counts. */
static int collect_available(const struct mb2_mmap_entry *mmap, size_t nmmap, struct pm_set *acc,
                             struct pm_report *rep)
{
    for (size_t k = 0; k < nmmap; k++) {
        uint64_t b, e;
        if (!clip_entry(&mmap[k], &b, &e, rep) || mmap[k].type != MB2_MMAP_AVAILABLE)
            continue;
        /* Saturate: overlapping entries are summed as given. */
        rep->available_bytes += e - b;
        if (rep->available_bytes < e - b)
            rep->available_bytes = UINT64_MAX;
        if (overlapped_by_unusable(mmap, nmmap, b, e))
            rep->overlaps++;
        if (pm_add(acc, b, e) != PM_OK)
            return PM_ENOSPC;
    }
    return PM_OK;
}

/* Pass 2: remove every unusable entry and every reserved range from `acc`.
 * Runs only after the union is complete, so unusable always wins. */
static int remove_unusable(const struct mb2_mmap_entry *mmap, size_t nmmap, const struct pm_range *reserved,
                           size_t nreserved, struct pm_set *acc)
{
    for (size_t k = 0; k < nmmap; k++) {
        uint64_t b, e;
        if (mmap[k].type == MB2_MMAP_AVAILABLE || !clip_quiet(&mmap[k], &b, &e))
            continue;
        if (pm_remove(acc, b, e) != PM_OK)
            return PM_ENOSPC;
    }
    for (size_t k = 0; k < nreserved; k++)
        if (pm_remove(acc, reserved[k].base, reserved[k].end) != PM_OK)
            return PM_ENOSPC;
    return PM_OK;
}

/* The result is built in `scratch` and copied into `free` only when it is
 * complete, so `free` needs room for the answer alone.  Scratch needs at
 * most nmmap + nreserved slots: the union of A available entries has at
 * most A ranges, and each of the other nmmap - A + nreserved removals adds
 * at most one range (by splitting); its old contents are discarded.
 * `free` and `scratch` must not share storage. */
int pm_sanitize(const struct mb2_mmap_entry *mmap, size_t nmmap, const struct pm_range *reserved,
                size_t nreserved, struct pm_set *free, struct pm_set *scratch, struct pm_report *report)
{
    struct pm_report local;
    struct pm_report *rep = report ? report : &local;
    int err;

    if (!free || !scratch || free->n != 0 || (free->r && free->r == scratch->r) || (nmmap && !mmap) ||
        (nreserved && !reserved))
        return PM_EINVAL;
    *rep = (struct pm_report){0, 0, 0, 0, 0};
    scratch->n = 0;
    err = collect_available(mmap, nmmap, scratch, rep);
    if (err == PM_OK)
        err = remove_unusable(mmap, nmmap, reserved, nreserved, scratch);
    if (err == PM_OK) {
        pm_align_inward(scratch, PM_PAGE_SIZE);
        if (scratch->n > free->cap)
            err = PM_ENOSPC;
    }
    if (err != PM_OK)
        return err; /* free was empty and has not been written */
    for (size_t k = 0; k < scratch->n; k++)
        free->r[k] = scratch->r[k];
    free->n = scratch->n;
    rep->free_bytes = pm_total(free);
    return PM_OK;
}
