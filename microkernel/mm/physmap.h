/* Sets of physical address ranges, and the sanitizer that turns a boot
 * loader's memory map into the list of frames that are really free.
 *
 * A range is half-open, [base, end).  A set keeps its ranges sorted, disjoint
 * and non-adjacent (touching ranges are merged), in caller-supplied storage,
 * so that the kernel can use it before it has any allocator.  Every operation
 * validates first: when it would need more slots than the set has, it
 * returns PM_ENOSPC and leaves the set unchanged. */
#ifndef MICA_MM_PHYSMAP_H
#define MICA_MM_PHYSMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../boot/multiboot2.h"

#define PM_PAGE_SIZE 4096ull
/* Highest physical address x86_64 can express (52 bits); anything above is
 * clamped off, and a base+length that wraps is clamped here too. */
#define PM_PHYS_LIMIT (1ull << 52)

enum { PM_OK = 0, PM_ENOSPC = -1, PM_EINVAL = -2 };

struct pm_range {
    uint64_t base;
    uint64_t end;
};

struct pm_set {
    struct pm_range *r;
    size_t n;
    size_t cap;
};

/* Make `s` an empty set that stores up to `cap` ranges in `storage`. */
void pm_init(struct pm_set *s, struct pm_range *storage, size_t cap);

/* Add [base, end) to the set (union).  Empty or inverted ranges are a no-op. */
int pm_add(struct pm_set *s, uint64_t base, uint64_t end);

/* Remove [base, end) from the set (difference); may split a range. */
int pm_remove(struct pm_set *s, uint64_t base, uint64_t end);

/* True when any byte of [base, end) is in the set. */
bool pm_overlaps(const struct pm_set *s, uint64_t base, uint64_t end);

/* True when every byte of [base, end) is in the set. */
bool pm_contains(const struct pm_set *s, uint64_t base, uint64_t end);

/* Shrink every range inward to `align` (a power of two) and drop the empty. */
void pm_align_inward(struct pm_set *s, uint64_t align);

/* Total number of bytes in the set. */
uint64_t pm_total(const struct pm_set *s);

/* Take `size` bytes (a multiple of PM_PAGE_SIZE, aligned to `align`) from the
 * lowest range that has them between [min, max); store the base in *out and
 * remove it from the set.  Returns PM_ENOSPC if no range has room. */
int pm_take(struct pm_set *s, uint64_t size, uint64_t align, uint64_t min, uint64_t max, uint64_t *out);

/* What the sanitizer saw, for the boot log. */
struct pm_report {
    uint64_t available_bytes; /* sum of AVAILABLE entries as given (clamped) */
    uint64_t free_bytes;      /* what is left after sanitizing */
    size_t entries_ignored;   /* zero-length or wholly above PM_PHYS_LIMIT */
    size_t entries_clamped;   /* base+length wrapped or crossed PM_PHYS_LIMIT */
    size_t overlaps;          /* AVAILABLE entries overlapped by unusable ones */
};

/* Build the free set: the union of AVAILABLE entries of `mmap`, minus every
 * entry of any other type (reserved, ACPI, NVS, bad, unknown: unusable wins
 * over available wherever they overlap), minus every range in `reserved`
 * (kernel image, boot page tables, boot information, modules, the first MiB,
 * ...), aligned inward to PM_PAGE_SIZE.  `free` must be empty on entry.
 * Returns PM_OK, or PM_ENOSPC if the scratch or result storage ran out (then
 * `free` is left empty: the caller must not use a partial set). */
int pm_sanitize(const struct mb2_mmap_entry *mmap, size_t nmmap, const struct pm_range *reserved,
                size_t nreserved, struct pm_set *free, struct pm_set *scratch, struct pm_report *report);

#endif
