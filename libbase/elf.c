/* ELF64 program image parser; see include/base/elf.h.
 *
 * Layouts and constants are those of the System V gABI ("ELF Header",
 * "Program Header") and its x86_64 supplement.  Every field is read through
 * get_le(), byte by byte, so the file may sit at any alignment and the code
 * does not depend on the host's byte order.  All address arithmetic is done
 * on page numbers or checked against wrapping before it happens. */
#include "base/elf.h"

#include <stdbool.h>

#define PAGE_SHIFT 12

/* The ELF header (Elf64_Ehdr): size and the offsets of the fields we use. */
#define EHDR_SIZE 64
#define EH_TYPE 16
#define EH_MACHINE 18
#define EH_VERSION 20
#define EH_ENTRY 24
#define EH_PHOFF 32
#define EH_PHENTSIZE 54
#define EH_PHNUM 56

/* e_ident indexes and the values we accept. */
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_X86_64 62

/* A program header (Elf64_Phdr) and the offsets of its fields. */
#define PHDR_SIZE 56
#define PH_TYPE 0
#define PH_FLAGS 4
#define PH_OFFSET 8
#define PH_VADDR 16
#define PH_FILESZ 32
#define PH_MEMSZ 40
#define PH_ALIGN 48

#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3

/* One program header, decoded. */
struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz, align;
};

/* The little-endian number in the n (<= 8) bytes at p; p may be unaligned. */
static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    while (n-- > 0)
        v = v << 8 | p[n];
    return v;
}

/* Decode the program header at p, which has PHDR_SIZE readable bytes. */
static void read_phdr(const uint8_t *p, struct phdr *ph)
{
    ph->type = (uint32_t)get_le(p + PH_TYPE, 4);
    ph->flags = (uint32_t)get_le(p + PH_FLAGS, 4);
    ph->offset = get_le(p + PH_OFFSET, 8);
    ph->vaddr = get_le(p + PH_VADDR, 8);
    ph->filesz = get_le(p + PH_FILESZ, 8);
    ph->memsz = get_le(p + PH_MEMSZ, 8);
    ph->align = get_le(p + PH_ALIGN, 8);
}

/* Check e_ident of a file of `size` bytes: size, magic, class, data order
 * and version, in that order. */
static int check_ident(const uint8_t *f, size_t size)
{
    if (size < EHDR_SIZE)
        return ELF_ESHORT;
    if (f[0] != 0x7f || f[1] != 'E' || f[2] != 'L' || f[3] != 'F')
        return ELF_EMAGIC;
    if (f[EI_CLASS] != ELFCLASS64)
        return ELF_ECLASS;
    if (f[EI_DATA] != ELFDATA2LSB)
        return ELF_EDATA;
    if (f[EI_VERSION] != EV_CURRENT || get_le(f + EH_VERSION, 4) != EV_CURRENT)
        return ELF_EVERSION;
    return ELF_OK;
}

/* Check the rest of the ELF header and that the program header table
 * [phoff, phoff + phnum * 56) lies after the ELF header and in the file. */
static int check_header(const uint8_t *f, size_t size)
{
    uint64_t phoff = get_le(f + EH_PHOFF, 8);
    uint64_t phnum = get_le(f + EH_PHNUM, 2);

    if (get_le(f + EH_TYPE, 2) != ET_EXEC)
        return ELF_ETYPE;
    if (get_le(f + EH_MACHINE, 2) != EM_X86_64)
        return ELF_EMACHINE;
    if (get_le(f + EH_PHENTSIZE, 2) != PHDR_SIZE || phnum == 0)
        return ELF_EPHDR;
    if (phnum > ELF_MAX_PHNUM)
        return ELF_ETOOMANY;
    /* phnum * PHDR_SIZE <= 64 * 56 cannot overflow; phoff is checked
     * against size before it is subtracted from it. */
    if (phoff < EHDR_SIZE || phoff > size || phnum * PHDR_SIZE > size - phoff)
        return ELF_EPHDR;
    return ELF_OK;
}

/* True when n is 0 or a power of two. */
static bool pow2_or_zero(uint64_t n)
{
    return (n & (n - 1)) == 0;
}

/* Check that the segment's file bytes lie inside a file of `size` bytes,
 * without computing offset + filesz (it may wrap). */
static int check_file_bytes(const struct phdr *ph, size_t size)
{
    if (ph->offset > size || ph->filesz > size - ph->offset)
        return ELF_EFILESZ;
    return ELF_OK;
}

/* Check p_align's shape and that vaddr and offset agree within a page,
 * which a loader mapping file pages needs. */
static int check_align(const struct phdr *ph)
{
    if (!pow2_or_zero(ph->align))
        return ELF_EALIGN;
    if ((ph->vaddr ^ ph->offset) & (ELF_PAGE_SIZE - 1))
        return ELF_EALIGN;
    return ELF_OK;
}

/* Compute the first and last page numbers of a segment with memsz > 0 and
 * check that those pages lie in [min_vaddr, user_top). */
static int page_span(const struct phdr *ph, uint64_t min_vaddr, uint64_t user_top, uint64_t *first,
                     uint64_t *last)
{
    if (ph->memsz - 1 > UINT64_MAX - ph->vaddr)
        return ELF_ERANGE; /* vaddr + memsz wraps past 2^64 */
    *first = ph->vaddr >> PAGE_SHIFT;
    *last = (ph->vaddr + (ph->memsz - 1)) >> PAGE_SHIFT;
    if ((*first << PAGE_SHIFT) < min_vaddr || *last >= user_top >> PAGE_SHIFT)
        return ELF_ERANGE;
    return ELF_OK;
}

/* First and last page numbers of an already accepted segment. */
static void seg_pages(const struct elf_segment *s, uint64_t *first, uint64_t *last)
{
    *first = s->vaddr >> PAGE_SHIFT;
    *last = (s->vaddr + (s->memsz - 1)) >> PAGE_SHIFT;
}

/* True when the pages [first, last] meet a page of a segment in img. */
static bool overlaps(const struct elf_image *img, uint64_t first, uint64_t last)
{
    for (unsigned i = 0; i < img->nsegments; i++) {
        uint64_t f, l;

        seg_pages(&img->seg[i], &f, &l);
        if (f <= last && first <= l)
            return true;
    }
    return false;
}

/* Append an accepted segment to img and widen its page-rounded span. */
static void add_segment(struct elf_image *img, const struct phdr *ph, uint64_t first, uint64_t last)
{
    struct elf_segment *s = &img->seg[img->nsegments];
    uint64_t lo = first << PAGE_SHIFT, hi = (last + 1) << PAGE_SHIFT;

    s->vaddr = ph->vaddr;
    s->memsz = ph->memsz;
    s->offset = ph->offset;
    s->filesz = ph->filesz;
    s->flags = ph->flags & (ELF_PF_R | ELF_PF_W | ELF_PF_X);
    if (img->nsegments == 0 || lo < img->lowest)
        img->lowest = lo;
    if (img->nsegments == 0 || hi > img->highest)
        img->highest = hi;
    img->nsegments++;
}

/* Check one PT_LOAD header in the order elf.h documents and, unless its
 * memsz is 0, add it to img. */
static int load_segment(const struct phdr *ph, size_t size, uint64_t min_vaddr, uint64_t user_top,
                        struct elf_image *img)
{
    uint64_t first, last;
    int err;

    if (ph->filesz > ph->memsz)
        return ELF_EFILESZ;
    if (ph->memsz == 0)
        return ELF_OK;
    if ((err = check_file_bytes(ph, size)) != ELF_OK || (err = check_align(ph)) != ELF_OK ||
        (err = page_span(ph, min_vaddr, user_top, &first, &last)) != ELF_OK)
        return err;
    if ((ph->flags & ELF_PF_W) && (ph->flags & ELF_PF_X))
        return ELF_EWX;
    if (img->nsegments == ELF_MAX_SEGMENTS)
        return ELF_ETOOMANY;
    if (overlaps(img, first, last))
        return ELF_EOVERLAP;
    add_segment(img, ph, first, last);
    return ELF_OK;
}

/* Walk the program header table (already known to be in the file). */
static int load_segments(const uint8_t *f, size_t size, uint64_t min_vaddr, uint64_t user_top,
                         struct elf_image *img)
{
    const uint8_t *tbl = f + get_le(f + EH_PHOFF, 8);
    unsigned phnum = (unsigned)get_le(f + EH_PHNUM, 2);

    for (unsigned i = 0; i < phnum; i++) {
        struct phdr ph;
        int err = ELF_OK;

        read_phdr(tbl + (size_t)i * PHDR_SIZE, &ph);
        if (ph.type == PT_INTERP || ph.type == PT_DYNAMIC)
            err = ELF_ETYPE;
        else if (ph.type == PT_LOAD)
            err = load_segment(&ph, size, min_vaddr, user_top, img);
        if (err != ELF_OK)
            return err;
    }
    return img->nsegments == 0 ? ELF_ENOSEGMENTS : ELF_OK;
}

/* True when img->entry lies inside an executable segment. */
static bool entry_ok(const struct elf_image *img)
{
    for (unsigned i = 0; i < img->nsegments; i++) {
        const struct elf_segment *s = &img->seg[i];

        if ((s->flags & ELF_PF_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
            return true;
    }
    return false;
}

/* Clear every field of img, field by field (no memset in freestanding code). */
static void clear_image(struct elf_image *img)
{
    img->entry = 0;
    img->nsegments = 0;
    img->lowest = 0;
    img->highest = 0;
    for (unsigned i = 0; i < ELF_MAX_SEGMENTS; i++) {
        struct elf_segment *s = &img->seg[i];

        s->vaddr = s->memsz = s->offset = s->filesz = 0;
        s->flags = 0;
    }
}

/* Run every check; *out is filled as segments are accepted. */
static int parse(const uint8_t *f, size_t size, uint64_t min_vaddr, uint64_t user_top, struct elf_image *out)
{
    int err;

    if ((err = check_ident(f, size)) != ELF_OK || (err = check_header(f, size)) != ELF_OK ||
        (err = load_segments(f, size, min_vaddr, user_top, out)) != ELF_OK)
        return err;
    out->entry = get_le(f + EH_ENTRY, 8);
    return entry_ok(out) ? ELF_OK : ELF_EENTRY;
}

int elf_parse(const void *file, size_t size, uint64_t min_vaddr, uint64_t user_top, struct elf_image *out)
{
    int err;

    clear_image(out);
    err = parse(file, size, min_vaddr, user_top, out);
    if (err != ELF_OK)
        clear_image(out);
    return err;
}

const char *elf_strerror(int err)
{
    static const char *const msg[] = {
        [ELF_OK] = "no error",
        [ELF_ESHORT] = "file is shorter than an ELF64 header",
        [ELF_EMAGIC] = "not an ELF file (bad magic)",
        [ELF_ECLASS] = "not a 64-bit ELF file",
        [ELF_EDATA] = "not a little-endian ELF file",
        [ELF_EVERSION] = "unknown ELF version",
        [ELF_ETYPE] = "not a static executable",
        [ELF_EMACHINE] = "not an x86_64 program",
        [ELF_EPHDR] = "program header table is malformed or outside the file",
        [ELF_ETOOMANY] = "too many program headers or loadable segments",
        [ELF_ENOSEGMENTS] = "no loadable segment",
        [ELF_EFILESZ] = "segment file size exceeds its memory size or the file",
        [ELF_ERANGE] = "segment lies outside the user address range",
        [ELF_EOVERLAP] = "two segments share a page",
        [ELF_EWX] = "segment is both writable and executable",
        [ELF_EALIGN] = "segment is misaligned",
        [ELF_EENTRY] = "entry point is not in an executable segment",
    };

    if (err < 0 || (size_t)err >= sizeof msg / sizeof msg[0] || msg[err] == NULL)
        return "unknown ELF error";
    return msg[err];
}

/* True when [off, off + len) lies inside a file of `size` bytes. */
static bool inside(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= size - off;
}

bool elf_symbol(const void *file, size_t size, uint64_t addr, const char **name, uint64_t *offset)
{
    const uint8_t *f = file;
    if (size < 64 || get_le(f, 4) != 0x464c457fu || f[4] != 2)
        return false;
    uint64_t shoff = get_le(f + 0x28, 8), shentsize = get_le(f + 0x3a, 2), shnum = get_le(f + 0x3c, 2);
    if (shentsize < 64 || shnum == 0 || shnum > 4096 || !inside(shoff, shnum * shentsize, size))
        return false;
    for (uint64_t i = 0; i < shnum; i++) {
        const uint8_t *sh = f + shoff + i * shentsize;
        if (get_le(sh + 4, 4) != 2 /* SHT_SYMTAB */)
            continue;
        uint64_t symoff = get_le(sh + 0x18, 8), symsize = get_le(sh + 0x20, 8), link = get_le(sh + 0x28, 4);
        if (link >= shnum || !inside(symoff, symsize, size))
            return false;
        const uint8_t *str = f + shoff + link * shentsize;
        uint64_t stroff = get_le(str + 0x18, 8), strsize = get_le(str + 0x20, 8);
        if (!inside(stroff, strsize, size) || strsize == 0)
            return false;
        const uint8_t *best = NULL;
        for (uint64_t o = 0; o + 24 <= symsize; o += 24) {
            const uint8_t *sym = f + symoff + o;
            uint64_t value = get_le(sym + 8, 8), len = get_le(sym + 16, 8);
            if ((sym[4] & 0xf) == 2 /* STT_FUNC */ && addr >= value && addr - value < (len ? len : 1) &&
                get_le(sym, 4) < strsize)
                best = sym;
        }
        if (best == NULL)
            return false;
        uint64_t n = get_le(best, 4);
        const char *s = (const char *)(f + stroff + n);
        size_t k = 0;
        while (n + k < strsize && s[k] != '\0')
            k++;
        if (n + k >= strsize)
            return false; /* not terminated inside the table */
        *name = s;
        *offset = addr - get_le(best + 8, 8);
        return true;
    }
    return false;
}
