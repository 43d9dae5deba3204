/* Host unit tests for libbase/elf.c.  Files are described field by field
 * in a struct spec, laid out in bytes by build(), damaged in one place per
 * test, and handed to elf_parse() in a heap block of exactly their size,
 * so AddressSanitizer reports any read past the end. */
#include "test/host/check.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/elf.h"

#define FILE_MAX 0x100000
#define USER_TOP 0x800000000000ull
#define MIN_VADDR 0x1000ull
#define MAX_PH 80

#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_NOTE 4
#define PT_PHDR 6
#define PT_TLS 7
#define PT_GNU_STACK 0x6474e551u
#define PT_GNU_RELRO 0x6474e552u

#define R ELF_PF_R
#define W ELF_PF_W
#define X ELF_PF_X

/* ---- file builder --------------------------------------------------------- */

/* One program header as written to the file. */
struct ph {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz, align;
};

/* An ELF file described field by field.  nph headers are written at phoff
 * while e_phnum says phnum, so the two can disagree on purpose. */
struct spec {
    uint8_t ident[16];
    uint16_t type, machine, phentsize, phnum;
    uint32_t version;
    uint64_t entry, phoff;
    size_t size; /* bytes handed to elf_parse */
    unsigned nph;
    struct ph ph[MAX_PH];
};

static struct spec sp;
static struct elf_image img;
static uint8_t file[FILE_MAX];
static bool input_written; /* set when elf_parse changed a byte of its input */

/* Store v as n little-endian bytes at p. */
static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Lay out sp in dst (FILE_MAX bytes): a byte pattern over the file's
 * size, the ELF header, and as many program headers as fit in dst. */
static void build(uint8_t *dst)
{
    for (size_t i = 0; i < sp.size && i < FILE_MAX; i++)
        dst[i] = (uint8_t)(i * 7 + 3);
    memcpy(dst, sp.ident, 16);
    put_le(dst + 16, sp.type, 2);
    put_le(dst + 18, sp.machine, 2);
    put_le(dst + 20, sp.version, 4);
    put_le(dst + 24, sp.entry, 8);
    put_le(dst + 32, sp.phoff, 8);
    put_le(dst + 40, 0, 8); /* e_shoff: no sections */
    put_le(dst + 48, 0, 4);
    put_le(dst + 52, 64, 2);
    put_le(dst + 54, sp.phentsize, 2);
    put_le(dst + 56, sp.phnum, 2);
    put_le(dst + 58, 64, 2);
    put_le(dst + 60, 0, 4);
    for (unsigned i = 0; i < sp.nph; i++) {
        uint64_t at = sp.phoff + (uint64_t)i * 56;
        const struct ph *h = &sp.ph[i];

        if (sp.phoff > FILE_MAX || at + 56 > FILE_MAX)
            break;
        if (at < 64)
            continue; /* keep the ELF header intact */
        put_le(dst + at, h->type, 4);
        put_le(dst + at + 4, h->flags, 4);
        put_le(dst + at + 8, h->offset, 8);
        put_le(dst + at + 16, h->vaddr, 8);
        put_le(dst + at + 24, h->vaddr, 8); /* p_paddr */
        put_le(dst + at + 32, h->filesz, 8);
        put_le(dst + at + 40, h->memsz, 8);
        put_le(dst + at + 48, h->align, 8);
    }
}

/* Append a program header to sp and keep e_phnum in step. */
static struct ph *add_ph(uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr, uint64_t filesz,
                         uint64_t memsz)
{
    struct ph *h = &sp.ph[sp.nph++];

    *h = (struct ph){type, flags, offset, vaddr, filesz, memsz, 0x1000};
    sp.phnum = (uint16_t)sp.nph;
    return h;
}

/* An empty but otherwise valid header: no program headers yet. */
static void spec_empty(void)
{
    static const uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1};

    memset(&sp, 0, sizeof sp);
    memcpy(sp.ident, ident, 16);
    sp.type = 2;
    sp.machine = 62;
    sp.version = 1;
    sp.phoff = 64;
    sp.phentsize = 56;
    sp.size = 0x2100;
}

/* The valid program most tests damage, laid out the way GNU ld does it:
 * headers (R), text (RX), data + bss (RW) ending exactly at the end of the
 * file, and a PT_GNU_STACK.  Segments: 0x400000, 0x401000, 0x402000. */
static void spec_default(void)
{
    spec_empty();
    add_ph(PT_LOAD, R, 0, 0x400000, 0x200, 0x200);
    add_ph(PT_LOAD, R | X, 0x1000, 0x401000, 0x800, 0x800);
    add_ph(PT_LOAD, R | W, 0x2000, 0x402000, 0x100, 0x3000);
    add_ph(PT_GNU_STACK, R | W, 0, 0, 0, 0)->align = 16;
    sp.entry = 0x401010;
}

/* Parse `size` bytes at `src` from an exact-size heap copy, with bounds. */
static int parse_bytes(const uint8_t *src, size_t size, uint64_t min_vaddr, uint64_t top)
{
    uint8_t *copy = malloc(size); /* for size 0 too: any read is reported */
    int rc;

    if (copy == NULL)
        abort();
    memcpy(copy, src, size);
    rc = elf_parse(copy, size, min_vaddr, top, &img);
    if (memcmp(copy, src, size) != 0)
        input_written = true;
    free(copy);
    return rc;
}

/* Build sp and parse it with explicit bounds. */
static int run_bounds(uint64_t min_vaddr, uint64_t top)
{
    build(file);
    return parse_bytes(file, sp.size, min_vaddr, top);
}

/* Build sp and parse it with the usual user window. */
static int run(void)
{
    return run_bounds(MIN_VADDR, USER_TOP);
}

/* True when every field of img is zero (padding bytes are not fields). */
static bool img_is_zero(void)
{
    bool zero = img.entry == 0 && img.nsegments == 0 && img.lowest == 0 && img.highest == 0;

    for (unsigned i = 0; i < ELF_MAX_SEGMENTS; i++) {
        const struct elf_segment *s = &img.seg[i];

        zero &= s->vaddr == 0 && s->memsz == 0 && s->offset == 0 && s->filesz == 0 && s->flags == 0;
    }
    return zero;
}

/* True when a and b agree in every field. */
static bool img_equal(const struct elf_image *a, const struct elf_image *b)
{
    bool eq = a->entry == b->entry && a->nsegments == b->nsegments && a->lowest == b->lowest &&
              a->highest == b->highest;

    for (unsigned i = 0; i < ELF_MAX_SEGMENTS; i++) {
        const struct elf_segment *s = &a->seg[i], *t = &b->seg[i];

        eq &= s->vaddr == t->vaddr && s->memsz == t->memsz && s->offset == t->offset &&
              s->filesz == t->filesz && s->flags == t->flags;
    }
    return eq;
}

/* True when img.seg[i] is exactly these values. */
static bool seg_is(unsigned i, uint64_t vaddr, uint64_t memsz, uint64_t offset, uint64_t filesz,
                   uint32_t flags)
{
    const struct elf_segment *s = &img.seg[i];

    return s->vaddr == vaddr && s->memsz == memsz && s->offset == offset && s->filesz == filesz &&
           s->flags == flags;
}

/* ---- accepted files --------------------------------------------------------- */

static void test_valid(void)
{
    spec_default();
    CHECK_EQ_U64(run(), ELF_OK);
    CHECK_EQ_U64(img.entry, 0x401010);
    CHECK_EQ_U64(img.nsegments, 3);
    CHECK(seg_is(0, 0x400000, 0x200, 0, 0x200, R));
    CHECK(seg_is(1, 0x401000, 0x800, 0x1000, 0x800, R | X));
    CHECK(seg_is(2, 0x402000, 0x3000, 0x2000, 0x100, R | W)); /* ends at the end of the file */
    CHECK_EQ_U64(img.lowest, 0x400000);
    CHECK_EQ_U64(img.highest, 0x405000);
}

/* The program headers of a `gcc -static` hello world (GNU ld 2.40): four
 * loads, the last one starting mid-page, plus notes, TLS and RELRO. */
static void test_gnu_ld_layout(void)
{
    spec_empty();
    add_ph(PT_LOAD, R, 0, 0x400000, 0x518, 0x518);
    add_ph(PT_LOAD, R | X, 0x1000, 0x401000, 0x77d01, 0x77d01);
    add_ph(PT_LOAD, R, 0x79000, 0x479000, 0x26fbc, 0x26fbc);
    add_ph(PT_LOAD, R | W, 0xa06d8, 0x4a06d8, 0x5b98, 0xb3c8);
    add_ph(PT_NOTE, R, 0x270, 0x400270, 0x20, 0x20)->align = 8;
    add_ph(PT_NOTE, R, 0x290, 0x400290, 0x44, 0x44)->align = 4;
    add_ph(PT_TLS, R, 0xa06d8, 0x4a06d8, 0x18, 0x60)->align = 8;
    add_ph(0x6474e553, R, 0x270, 0x400270, 0x20, 0x20)->align = 8; /* PT_GNU_PROPERTY */
    add_ph(PT_GNU_STACK, R | W, 0, 0, 0, 0)->align = 16;
    add_ph(PT_GNU_RELRO, R, 0xa06d8, 0x4a06d8, 0x3928, 0x3928)->align = 1;
    sp.entry = 0x401550;
    sp.size = 0xa6270;
    CHECK_EQ_U64(run(), ELF_OK);
    CHECK_EQ_U64(img.nsegments, 4);
    CHECK(seg_is(3, 0x4a06d8, 0xb3c8, 0xa06d8, 0x5b98, R | W));
    CHECK(img.lowest == 0x400000 && img.highest == 0x4ac000);
}

/* The same file parsed at odd addresses gives the same result. */
static void test_unaligned(void)
{
    struct elf_image ref;
    static uint8_t buf[FILE_MAX + 8];

    spec_default();
    CHECK_EQ_U64(run(), ELF_OK);
    ref = img;
    for (unsigned shift = 1; shift < 8; shift += 2) {
        build(buf + shift);
        CHECK(parse_bytes(buf + shift, sp.size, MIN_VADDR, USER_TOP) == ELF_OK && img_equal(&img, &ref));
    }
}

/* Program headers other than PT_LOAD are skipped, as are empty loads. */
static void test_ignored_headers(void)
{
    spec_default();
    add_ph(0, 0, 0, 0, 0, 0); /* PT_NULL */
    add_ph(PT_NOTE, R, 0x100, 0x400100, 0x20, 0x20);
    add_ph(PT_PHDR, R, 64, 0x400040, 56 * 9, 56 * 9);
    add_ph(PT_TLS, R, 0x2000, 0x402000, 0x10, 0x40);
    add_ph(0x70000000, W | X, 0, 0, 0, 0);              /* processor specific */
    add_ph(PT_LOAD, R | W | X, 0xdead, 0x401234, 0, 0); /* empty: skipped */
    CHECK_EQ_U64(run(), ELF_OK);
    CHECK_EQ_U64(img.nsegments, 3);
    sp.ident[7] = 3; /* ELFOSABI_GNU is fine */
    CHECK_EQ_U64(run(), ELF_OK);
}

/* ---- the ELF header ------------------------------------------------------ */

static void test_ident(void)
{
    spec_default();
    sp.size = 0;
    CHECK_EQ_U64(run(), ELF_ESHORT);
    sp.size = 63;
    CHECK_EQ_U64(run(), ELF_ESHORT);
    sp.size = 64; /* header complete, table missing */
    CHECK_EQ_U64(run(), ELF_EPHDR);
    for (int i = 0; i < 4; i++) {
        spec_default();
        sp.ident[i] ^= 0x20;
        CHECK_EQ_U64(run(), ELF_EMAGIC);
    }
    spec_default();
    sp.ident[4] = 1; /* ELFCLASS32 */
    CHECK_EQ_U64(run(), ELF_ECLASS);
    sp.ident[4] = 0;
    CHECK_EQ_U64(run(), ELF_ECLASS);
    spec_default();
    sp.ident[5] = 2; /* big endian */
    CHECK_EQ_U64(run(), ELF_EDATA);
    sp.ident[5] = 0;
    CHECK_EQ_U64(run(), ELF_EDATA);
    spec_default();
    sp.ident[6] = 0;
    CHECK_EQ_U64(run(), ELF_EVERSION);
    spec_default();
    sp.version = 0;
    CHECK_EQ_U64(run(), ELF_EVERSION);
    sp.version = 0x101; /* only the low byte right */
    CHECK_EQ_U64(run(), ELF_EVERSION);
}

static void test_type_machine(void)
{
    static const uint16_t bad_types[] = {0, 1, 3, 4, 0xfe00};       /* none, REL, DYN, CORE, OS */
    static const uint16_t bad_machines[] = {0, 3, 183, 62 | 0x100}; /* none, 386, AArch64 */

    for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++) {
        spec_default();
        sp.type = bad_types[i];
        CHECK_EQ_U64(run(), ELF_ETYPE);
    }
    for (size_t i = 0; i < sizeof bad_machines / sizeof bad_machines[0]; i++) {
        spec_default();
        sp.machine = bad_machines[i];
        CHECK_EQ_U64(run(), ELF_EMACHINE);
    }
    spec_default();
    add_ph(PT_INTERP, R, 0x200, 0x400200, 0x1c, 0x1c);
    CHECK_EQ_U64(run(), ELF_ETYPE);
    spec_default();
    add_ph(PT_DYNAMIC, R | W, 0x2000, 0x402000, 0x100, 0x100);
    CHECK_EQ_U64(run(), ELF_ETYPE);
}

static void test_phdr_table(void)
{
    static const uint16_t bad_entsize[] = {0, 32, 55, 57, 64};

    for (size_t i = 0; i < sizeof bad_entsize / sizeof bad_entsize[0]; i++) {
        spec_default();
        sp.phentsize = bad_entsize[i];
        CHECK_EQ_U64(run(), ELF_EPHDR);
    }
    spec_default();
    sp.phnum = 0;
    CHECK_EQ_U64(run(), ELF_EPHDR);
    sp.phoff = 0; /* over the ELF header */
    sp.phnum = 4;
    CHECK_EQ_U64(run(), ELF_EPHDR);
    sp.phoff = 63;
    CHECK_EQ_U64(run(), ELF_EPHDR);
    sp.phoff = sp.size - 4 * 56; /* the table is the last thing in the file */
    CHECK_EQ_U64(run(), ELF_OK);
    sp.phoff++; /* one byte past */
    CHECK_EQ_U64(run(), ELF_EPHDR);
    sp.phoff = sp.size;
    CHECK_EQ_U64(run(), ELF_EPHDR);
    sp.phoff = UINT64_MAX - 8;
    CHECK_EQ_U64(run(), ELF_EPHDR);
    sp.phoff = (uint64_t)0 - 2 * 56; /* phoff + table size wraps to a small number */
    CHECK_EQ_U64(run(), ELF_EPHDR);
    spec_default();
    sp.phnum = 5; /* claims one header more than written */
    sp.size = 64 + 5 * 56 - 1;
    CHECK_EQ_U64(run(), ELF_EPHDR);
}

/* ---- segment counts --------------------------------------------------------- */

/* A file with n one-page loads, the first executable; entry in it. */
static void spec_many(unsigned n)
{
    spec_empty();
    for (unsigned i = 0; i < n; i++)
        add_ph(PT_LOAD, i == 0 ? R | X : R, 0, 0x400000 + i * 0x1000ull, 0x40, 0x1000);
    sp.entry = 0x400000;
    sp.size = 0x1000;
}

static void test_counts(void)
{
    spec_many(ELF_MAX_SEGMENTS);
    CHECK_EQ_U64(run(), ELF_OK);
    CHECK(img.nsegments == 16 && img.seg[15].vaddr == 0x40f000 && img.highest == 0x410000);
    spec_many(ELF_MAX_SEGMENTS + 1);
    CHECK_EQ_U64(run(), ELF_ETOOMANY);
    spec_many(ELF_MAX_SEGMENTS);
    while (sp.nph < 64)
        add_ph(PT_GNU_STACK, R | W, 0, 0, 0, 0);
    CHECK_EQ_U64(run(), ELF_OK); /* 64 headers, 16 loads */
    spec_many(ELF_MAX_SEGMENTS);
    while (sp.nph < 64)
        add_ph(PT_LOAD, R, 0, 0x400000, 0, 0); /* empty loads do not count */
    CHECK_EQ_U64(run(), ELF_OK);
    sp.phnum = 65;
    sp.size = 0x2000;
    CHECK_EQ_U64(run(), ELF_ETOOMANY);
    sp.phnum = 0xffff; /* PN_XNUM: the count would be in section 0 */
    CHECK_EQ_U64(run(), ELF_ETOOMANY);
    spec_empty();
    add_ph(PT_GNU_STACK, R | W, 0, 0, 0, 0);
    CHECK_EQ_U64(run(), ELF_ENOSEGMENTS);
    add_ph(PT_LOAD, R | X, 0x1000, 0x401000, 0, 0);
    add_ph(PT_NOTE, R, 0x100, 0x400100, 0x20, 0x20);
    CHECK_EQ_U64(run(), ELF_ENOSEGMENTS);
}

/* ---- file bytes ---------------------------------------------------------- */

static void test_filesz(void)
{
    spec_default();
    sp.ph[1].filesz = sp.ph[1].memsz + 1;
    CHECK_EQ_U64(run(), ELF_EFILESZ);
    spec_default();
    sp.ph[1].memsz = 0; /* an "empty" load with file bytes */
    CHECK_EQ_U64(run(), ELF_EFILESZ);
    spec_default();
    sp.ph[2].filesz = 0x101; /* one byte past the end of the file */
    CHECK_EQ_U64(run(), ELF_EFILESZ);
    spec_default();
    sp.ph[2].offset = sp.size; /* pure bss placed at the end: fine */
    sp.ph[2].vaddr = 0x402100;
    sp.ph[2].filesz = 0;
    CHECK_EQ_U64(run(), ELF_OK);
    sp.ph[2].offset = sp.size + 0x1000; /* bss, but its offset is past the end */
    CHECK_EQ_U64(run(), ELF_EFILESZ);
    spec_default();
    sp.ph[2].offset = UINT64_MAX - 0xfff; /* offset + filesz wraps to 0x1000 */
    sp.ph[2].filesz = 0x2000;
    CHECK_EQ_U64(run(), ELF_EFILESZ);
    sp.ph[2].offset = 0x2000;
    sp.ph[2].filesz = UINT64_MAX - 0xfff; /* the same sum, the other way round */
    sp.ph[2].memsz = UINT64_MAX;
    CHECK_EQ_U64(run(), ELF_EFILESZ);
    spec_default();
    sp.ph[0].offset = UINT64_MAX; /* empty loads are not looked at */
    sp.ph[0].vaddr = 0;
    sp.ph[0].filesz = sp.ph[0].memsz = 0;
    CHECK_EQ_U64(run(), ELF_OK);
    CHECK_EQ_U64(img.nsegments, 2);
}

/* ---- addresses ------------------------------------------------------------- */

/* spec_default with the data segment moved to [vaddr, vaddr + memsz). */
static int run_data_at(uint64_t vaddr, uint64_t memsz)
{
    spec_default();
    sp.ph[2].vaddr = vaddr;
    sp.ph[2].offset = vaddr & 0xfff;
    sp.ph[2].filesz = 0;
    sp.ph[2].memsz = memsz;
    return run();
}

static void test_range(void)
{
    CHECK_EQ_U64(run_data_at(0, 0x1000), ELF_ERANGE);
    CHECK_EQ_U64(run_data_at(0xfff, 1), ELF_ERANGE);      /* last byte of page 0 */
    CHECK_EQ_U64(run_data_at(MIN_VADDR, 0x1000), ELF_OK); /* exactly at min_vaddr */
    CHECK_EQ_U64(img.lowest, MIN_VADDR);
    CHECK_EQ_U64(run_data_at(USER_TOP - 0x1000, 0x1000), ELF_OK); /* ends exactly at user_top */
    CHECK_EQ_U64(img.highest, USER_TOP);
    CHECK_EQ_U64(run_data_at(USER_TOP - 0x1000, 0x1001), ELF_ERANGE);
    CHECK_EQ_U64(run_data_at(USER_TOP - 1, 1), ELF_OK);
    CHECK_EQ_U64(run_data_at(USER_TOP, 1), ELF_ERANGE);
    CHECK_EQ_U64(run_data_at(0xffffffff80000000ull, 0x1000), ELF_ERANGE);    /* higher half */
    CHECK_EQ_U64(run_data_at(0xfffffffffffff000ull, 0x2000), ELF_ERANGE);    /* wraps */
    CHECK_EQ_U64(run_data_at(0x402000, UINT64_MAX), ELF_ERANGE);             /* wraps */
    CHECK_EQ_U64(run_data_at(0x402000, (uint64_t)0 - 0x402000), ELF_ERANGE); /* ends at 2^64 */
    /* A window reaching the top of the address space still cannot wrap. */
    run_data_at(0xfffffffffffff000ull, 0x1000);
    CHECK_EQ_U64(run_bounds(MIN_VADDR, UINT64_MAX), ELF_ERANGE);
    run_data_at(0xffffffffffffe000ull, 0x1000);
    CHECK_EQ_U64(run_bounds(MIN_VADDR, UINT64_MAX), ELF_OK);
    CHECK_EQ_U64(img.highest, 0xfffffffffffff000ull);
    /* Unaligned bounds are rounded inwards: whole pages must fit. */
    CHECK_EQ_U64(run_data_at(0x1900, 0x100), ELF_OK);
    CHECK_EQ_U64(run_bounds(0x1800, USER_TOP), ELF_ERANGE); /* byte above, page below */
    spec_default();
    CHECK_EQ_U64(run_bounds(0x400001, USER_TOP), ELF_ERANGE);
    CHECK_EQ_U64(run_bounds(0x400000, 0x405000), ELF_OK);
    CHECK_EQ_U64(run_bounds(0x400000, 0x404fff), ELF_ERANGE);
    CHECK_EQ_U64(run_bounds(0, 0), ELF_ERANGE);
    CHECK_EQ_U64(run_bounds(0x500000, 0x400000), ELF_ERANGE); /* empty window */
}

/* Page overlap between PT_LOAD segments, whatever their table order. */
static void test_overlap(void)
{
    spec_default();
    sp.ph[1].memsz = sp.ph[1].filesz = 0x1000; /* text ends where data starts */
    CHECK_EQ_U64(run(), ELF_OK);
    spec_default();
    sp.ph[2].vaddr = 0x401800; /* bytes apart, page shared */
    sp.ph[2].offset = 0x1800;
    CHECK_EQ_U64(run(), ELF_EOVERLAP);
    spec_default();
    sp.ph[2].vaddr = sp.ph[1].vaddr; /* the same range twice */
    sp.ph[2].offset = sp.ph[1].offset;
    CHECK_EQ_U64(run(), ELF_EOVERLAP);
    spec_default();
    sp.ph[0].memsz = 0x10000; /* covers the others (found at seg 1) */
    CHECK_EQ_U64(run(), ELF_EOVERLAP);
    spec_default();
    sp.ph[2].vaddr = 0x400000; /* meets the first, not the second */
    sp.ph[2].offset = 0;
    CHECK_EQ_U64(run(), ELF_EOVERLAP);
    spec_default();
    sp.ph[0].vaddr = 0x404000; /* meets the last page of bss */
    CHECK_EQ_U64(run(), ELF_EOVERLAP);
    spec_default();
    {
        struct ph t = sp.ph[0]; /* table order reversed */
        sp.ph[0] = sp.ph[2];
        sp.ph[2] = t;
    }
    CHECK_EQ_U64(run(), ELF_OK);
    CHECK(img.seg[0].vaddr == 0x402000 && img.seg[2].vaddr == 0x400000); /* kept in table order */
    CHECK(img.lowest == 0x400000 && img.highest == 0x405000);
    spec_default();
    add_ph(PT_LOAD, R | W, 0x1000, 0x401000, 0, 0); /* empty load inside text: skipped */
    CHECK_EQ_U64(run(), ELF_OK);
}

/* ---- permissions, alignment, entry ---------------------------------------- */

static void test_wx(void)
{
    spec_default();
    sp.ph[1].flags = W | X;
    CHECK_EQ_U64(run(), ELF_EWX);
    sp.ph[1].flags = R | W | X;
    CHECK_EQ_U64(run(), ELF_EWX);
    sp.ph[1].flags = X; /* execute only */
    CHECK_EQ_U64(run(), ELF_OK);
    sp.ph[1].flags = 0x0ff00000 | R | X; /* OS / processor bits dropped */
    CHECK_EQ_U64(run(), ELF_OK);
    CHECK_EQ_U64(img.seg[1].flags, R | X);
    sp.ph[2].flags = 0; /* no access at all: allowed */
    CHECK_EQ_U64(run(), ELF_OK);
    spec_default();
    add_ph(PT_LOAD, R | W | X, 0, 0x500000, 0, 0); /* empty W+X load: skipped */
    CHECK_EQ_U64(run(), ELF_OK);
}

static void test_align(void)
{
    static const uint64_t good[] = {0, 1, 2, 0x1000, 0x200000, 1ull << 63};
    static const uint64_t bad[] = {3, 0x1800, 0x1001, UINT64_MAX};

    spec_default();
    sp.ph[1].offset = 0x1001;
    CHECK_EQ_U64(run(), ELF_EALIGN);
    spec_default();
    sp.ph[1].vaddr = 0x401001;
    sp.entry = 0x401001;
    CHECK_EQ_U64(run(), ELF_EALIGN);
    sp.ph[1].offset = 0x1001; /* congruent, not page aligned: fine */
    CHECK_EQ_U64(run(), ELF_OK);
    spec_default();
    sp.ph[1].offset = 0x3000; /* different page, same offset in it */
    sp.size = 0x3800;
    CHECK_EQ_U64(run(), ELF_OK);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        spec_default();
        sp.ph[2].align = good[i];
        CHECK_EQ_U64(run(), ELF_OK);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        spec_default();
        sp.ph[2].align = bad[i];
        CHECK_EQ_U64(run(), ELF_EALIGN);
    }
}

static void test_entry(void)
{
    static const struct {
        uint64_t entry;
        int want;
    } cases[] = {
        {0x401000, ELF_OK},     /* first byte of text */
        {0x4017ff, ELF_OK},     /* last byte */
        {0x401800, ELF_EENTRY}, /* one past, same page */
        {0x400fff, ELF_EENTRY}, /* one before */
        {0x400010, ELF_EENTRY}, /* readable, not executable */
        {0x402010, ELF_EENTRY}, /* writable data */
        {0, ELF_EENTRY},        {UINT64_MAX, ELF_EENTRY},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        spec_default();
        sp.entry = cases[i].entry;
        CHECK_EQ_U64(run(), cases[i].want);
    }
    spec_default();
    sp.ph[1].memsz = 0x1000; /* entry in the zero-filled tail: inside the segment */
    sp.entry = 0x401f00;
    CHECK_EQ_U64(run(), ELF_OK);
}

/* ---- reporting ---------------------------------------------------------------- */

/* With several problems, the first one in the documented order wins. */
static void test_order(void)
{
    spec_default();
    sp.machine = 3;
    sp.phentsize = 32;
    CHECK_EQ_U64(run(), ELF_EMACHINE);
    spec_default();
    sp.ph[1].flags = R | W | X;
    sp.entry = 0;
    CHECK_EQ_U64(run(), ELF_EWX);
    spec_default();
    sp.ph[0].vaddr = 0;       /* range problem in an earlier header... */
    sp.ph[1].offset = 0x1001; /* ...than this alignment problem */
    CHECK_EQ_U64(run(), ELF_ERANGE);
    spec_default();
    sp.ph[2].vaddr = 0x401000; /* overlap found before the later PT_INTERP */
    sp.ph[2].offset = 0x2000 - 0x1000;
    add_ph(PT_INTERP, R, 0x200, 0x400200, 0x1c, 0x1c);
    CHECK_EQ_U64(run(), ELF_EOVERLAP);
    spec_many(ELF_MAX_SEGMENTS + 1);
    sp.ph[16].flags = W | X; /* the 17th is itself bad: that is reported */
    CHECK_EQ_U64(run(), ELF_EWX);
}

/* A failure leaves nothing behind, however late it is found. */
static void test_failure_clears(void)
{
    spec_default();
    memset(&img, 0xaa, sizeof img);
    sp.ident[0] = 0;
    CHECK(run() == ELF_EMAGIC && img_is_zero());
    spec_default();
    memset(&img, 0xaa, sizeof img);
    sp.entry = 0x402000; /* found after every segment was accepted */
    CHECK(run() == ELF_EENTRY && img_is_zero());
    spec_many(ELF_MAX_SEGMENTS + 1);
    CHECK(run() == ELF_ETOOMANY && img_is_zero());
    spec_default();
    memset(&img, 0xaa, sizeof img);
    CHECK(run() == ELF_OK && img.seg[3].vaddr == 0 && img.seg[15].flags == 0); /* unused slots zero */
}

static void test_strerror(void)
{
    bool distinct = true, known = true;
    const char *unknown = elf_strerror(-1);

    for (int a = ELF_OK; a <= ELF_EENTRY; a++) {
        const char *s = elf_strerror(a);

        known &= s != NULL && s[0] != '\0' && strcmp(s, unknown) != 0;
        for (int b = ELF_OK; b < a; b++)
            distinct &= strcmp(s, elf_strerror(b)) != 0;
    }
    CHECK(known);
    CHECK(distinct);
    CHECK(strcmp(elf_strerror(ELF_EWX), "segment is both writable and executable") == 0);
    CHECK(strcmp(elf_strerror(ELF_EENTRY + 1), unknown) == 0);
    CHECK(strcmp(elf_strerror(INT_MIN), unknown) == 0 && strcmp(elf_strerror(INT_MAX), unknown) == 0);
}

int main(void)
{
    test_valid();
    test_gnu_ld_layout();
    test_unaligned();
    test_ignored_headers();
    test_ident();
    test_type_machine();
    test_phdr_table();
    test_counts();
    test_filesz();
    test_range();
    test_overlap();
    test_wx();
    test_align();
    test_entry();
    test_order();
    test_failure_clears();
    test_strerror();
    CHECK(!input_written);
    return check_done();
}
