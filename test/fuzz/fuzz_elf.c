/* libFuzzer target: the input is an ELF file.  It is parsed with the user
 * window the kernel uses (min_vaddr 0x1000, user_top 0x800000000000) and
 * once more with a window taken from the input's last 16 bytes; every
 * promise of base/elf.h is then checked, partly against a second, naive
 * reading of the raw program headers.  A broken promise aborts so libFuzzer
 * keeps the input.  The parser's own reads are checked by ASan: libFuzzer
 * hands it a heap block of exactly `size` bytes, and complains by itself
 * if the input is written.
 *
 * Build and run (from the repository root):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ilibbase/include \
 *     test/fuzz/fuzz_elf.c libbase/elf.c -o /tmp/fe
 *   /tmp/fe -max_total_time=60 test/fuzz/corpus/elf
 * Seeds are produced by test/fuzz/gen_elf_seeds.c. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/elf.h"
#include "test/fuzz/require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAGE 4096ull
#define USER_TOP 0x800000000000ull
#define MIN_VADDR 0x1000ull

/* The little-endian number in n bytes at p. */
static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* True when every field of img is zero. */
static bool all_zero(const struct elf_image *img)
{
    bool z = img->entry == 0 && img->nsegments == 0 && img->lowest == 0 && img->highest == 0;

    for (unsigned i = 0; i < ELF_MAX_SEGMENTS; i++)
        z &= img->seg[i].vaddr == 0 && img->seg[i].memsz == 0 && img->seg[i].offset == 0 &&
             img->seg[i].filesz == 0 && img->seg[i].flags == 0;
    return z;
}

/* True when a and b agree in every field. */
static bool same(const struct elf_image *a, const struct elf_image *b)
{
    bool eq = a->entry == b->entry && a->nsegments == b->nsegments && a->lowest == b->lowest &&
              a->highest == b->highest;

    for (unsigned i = 0; i < ELF_MAX_SEGMENTS; i++)
        eq &= a->seg[i].vaddr == b->seg[i].vaddr && a->seg[i].memsz == b->seg[i].memsz &&
              a->seg[i].offset == b->seg[i].offset && a->seg[i].filesz == b->seg[i].filesz &&
              a->seg[i].flags == b->seg[i].flags;
    return eq;
}

/* Each accepted segment on its own: sizes, file bytes, window, rights. */
static void check_segment(const struct elf_segment *s, size_t size, uint64_t lo, uint64_t top)
{
    uint64_t last = s->vaddr + (s->memsz - 1);

    REQUIRE(s->memsz > 0 && s->filesz <= s->memsz);
    REQUIRE(s->offset <= size && s->filesz <= size - s->offset);
    REQUIRE(last >= s->vaddr); /* no wrap */
    REQUIRE((s->vaddr & ~(PAGE - 1)) >= lo);
    REQUIRE(last / PAGE < top / PAGE); /* whole last page below top */
    REQUIRE((s->flags & ~7u) == 0);
    REQUIRE(!((s->flags & ELF_PF_W) && (s->flags & ELF_PF_X)));
    REQUIRE(s->vaddr % PAGE == s->offset % PAGE);
}

/* The promises about the whole image: disjoint pages, span, entry. */
static void check_image(const struct elf_image *img, size_t size, uint64_t lo, uint64_t top)
{
    uint64_t low = UINT64_MAX, high = 0;
    bool entry_in_x = false;

    REQUIRE(img->nsegments >= 1 && img->nsegments <= ELF_MAX_SEGMENTS);
    for (unsigned i = 0; i < img->nsegments; i++) {
        const struct elf_segment *s = &img->seg[i];
        uint64_t first = s->vaddr / PAGE, last = (s->vaddr + (s->memsz - 1)) / PAGE;

        check_segment(s, size, lo, top);
        for (unsigned j = 0; j < i; j++) {
            const struct elf_segment *t = &img->seg[j];
            REQUIRE(last < t->vaddr / PAGE || (t->vaddr + (t->memsz - 1)) / PAGE < first);
        }
        low = first * PAGE < low ? first * PAGE : low;
        high = (last + 1) * PAGE > high ? (last + 1) * PAGE : high;
        entry_in_x |= (s->flags & ELF_PF_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz;
    }
    for (unsigned i = img->nsegments; i < ELF_MAX_SEGMENTS; i++)
        REQUIRE(img->seg[i].memsz == 0 && img->seg[i].vaddr == 0 && img->seg[i].flags == 0);
    REQUIRE(entry_in_x);
    REQUIRE(img->lowest == low && img->highest == high);
    REQUIRE(lo <= img->lowest && img->lowest < img->highest && img->highest <= top);
}

/* Read the raw file the simple way and require the same answer: the
 * header fields, and seg[] = the non-empty PT_LOAD entries in table order. */
static void check_against_raw(const uint8_t *d, size_t size, const struct elf_image *img)
{
    uint64_t phoff = le(d + 32, 8), phnum = le(d + 56, 2);
    unsigned k = 0;

    REQUIRE(size >= 64 && memcmp(d,
                                 "\x7f"
                                 "ELF\x02\x01\x01",
                                 7) == 0);
    REQUIRE(le(d + 16, 2) == 2 && le(d + 18, 2) == 62 && le(d + 20, 4) == 1 && le(d + 54, 2) == 56);
    REQUIRE(phnum >= 1 && phnum <= 64 && phoff >= 64 && phoff <= size && size - phoff >= phnum * 56);
    REQUIRE(img->entry == le(d + 24, 8));
    for (uint64_t i = 0; i < phnum; i++) {
        const uint8_t *p = d + phoff + i * 56;
        uint32_t type = (uint32_t)le(p, 4);

        REQUIRE(type != 2 && type != 3);
        if (type != 1 || le(p + 40, 8) == 0)
            continue;
        REQUIRE(k < img->nsegments);
        REQUIRE(img->seg[k].vaddr == le(p + 16, 8) && img->seg[k].memsz == le(p + 40, 8) &&
                img->seg[k].offset == le(p + 8, 8) && img->seg[k].filesz == le(p + 32, 8) &&
                img->seg[k].flags == (le(p + 4, 4) & 7));
        k++;
    }
    REQUIRE(k == img->nsegments);
}

/* Parse with one window and check whatever came back. */
static int parse_and_check(const uint8_t *data, size_t size, uint64_t lo, uint64_t top, struct elf_image *img)
{
    int rc = elf_parse(data, size, lo, top, img);
    const char *msg = elf_strerror(rc);

    REQUIRE(rc >= ELF_OK && rc <= ELF_EENTRY);
    REQUIRE(msg != NULL && msg[0] != '\0' && strcmp(msg, elf_strerror(-1)) != 0);
    if (rc != ELF_OK) {
        REQUIRE(all_zero(img));
        return rc;
    }
    check_image(img, size, lo, top);
    check_against_raw(data, size, img);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct elf_image img, again;
    int rc = parse_and_check(data, size, MIN_VADDR, USER_TOP, &img);

    /* The same bytes at an odd address give the same answer. */
    if (size > 0 && size < (1u << 20)) {
        uint8_t *odd = malloc(size + 1);

        REQUIRE(odd != NULL);
        memcpy(odd + 1, data, size);
        REQUIRE(elf_parse(odd + 1, size, MIN_VADDR, USER_TOP, &again) == rc && same(&img, &again));
        free(odd);
    }
    /* Any window, even an empty or unaligned one, keeps every promise. */
    if (size >= 80)
        parse_and_check(data, size, le(data + size - 16, 8), le(data + size - 8, 8), &again);
    return 0;
}
