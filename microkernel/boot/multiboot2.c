/* Multiboot2 boot information parser (see multiboot2.h for the contract).
 *
 * Every multi-byte field is read with a byte-wise little-endian helper:
 * the block is only 8-aligned by convention, the fuzzer hands us arbitrary
 * alignment, and a field may sit at any offset inside a hostile tag.  Each
 * tag parser receives a tag whose header was already bounds-checked against
 * total_size, so it only has to check its own fields against the tag size. */
#include "multiboot2.h"

/* Fixed sizes of the block header and the tag header (u32 type, u32 size). */
#define MB2_HEADER_SIZE 8u
#define MB2_TAG_HEADER 8u
#define MB2_TAG_ALIGN 8u

/* Minimum sizes of the RSDP copies: revision 0 (ACPI 1.0) and revision 2+. */
#define RSDP_V1_LEN 20u
#define RSDP_V2_LEN 36u

/* Minimum entry sizes: a multiboot2 mmap entry and an EFI_MEMORY_DESCRIPTOR
 * (u32 type, u32 pad, u64 phys, u64 virt, u64 pages, u64 attribute). */
#define MMAP_ENTRY_MIN 24u
#define EFI_DESC_MIN 40u

/* Physical addresses have at most 52 bits on x86_64. */
#define FB_PHYS_LIMIT (1ull << 52)

/* An Elf64_Shdr is 64 bytes; a smaller entsize cannot describe our kernel. */
#define ELF64_SHDR_SIZE 64u

/* The ELF sections tag as GRUB 2.06 really emits it (grub-core/loader/
 * multiboot_mbi2.c, struct multiboot_tag_elf_sections in include/
 * multiboot2.h): u32 type, u32 size, u32 num, u32 entsize, u32 shndx, then
 * the section headers at offset 20, size = 20 + num * entsize.  The 1.0
 * specification text describes u16 num/entsize/shndx/reserved (headers at
 * offset 16); we follow what the loader writes.  Note the headers are only
 * 4-aligned, so consumers must copy them out, not cast. */
#define ELF_TAG_FIXED 20u

/* Tag types that may appear once; a repeat is a duplicate (first wins). */
#define ONCE_MASK                                                                                            \
    ((1u << MB2_TAG_CMDLINE) | (1u << MB2_TAG_LOADER_NAME) | (1u << MB2_TAG_BASIC_MEMINFO) |                 \
     (1u << MB2_TAG_MMAP) | (1u << MB2_TAG_FRAMEBUFFER) | (1u << MB2_TAG_ELF_SECTIONS) |                     \
     (1u << MB2_TAG_ACPI_OLD) | (1u << MB2_TAG_ACPI_NEW) | (1u << MB2_TAG_EFI_MMAP) |                        \
     (1u << MB2_TAG_LOAD_BASE_ADDR))

/* Parser state for one walk over the block. */
struct mb2_walk {
    struct mb2_info *out;
    uint32_t seen;              /* bit t set once a tag of type t was met */
    bool told_too_many_modules; /* MB2_DIAG_TOO_MANY for modules is said once */
};

/* Read a little-endian u32 at any alignment. */
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Read a little-endian u64 at any alignment. */
static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Zero `n` bytes at `p`; we may not rely on a C library being linked. */
static void zero_bytes(void *p, size_t n)
{
    uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        b[i] = 0;
}

/* Record a diagnostic: keep the first MB2_MAX_DIAGS, count them all. */
static void diag(struct mb2_info *out, enum mb2_diag_kind kind, uint32_t type, uint64_t offset)
{
    if (out->ndiags < MB2_MAX_DIAGS) {
        struct mb2_diag *d = &out->diags[out->ndiags++];
        d->kind = kind;
        d->tag_type = type;
        d->offset = offset > UINT32_MAX ? UINT32_MAX : (uint32_t)offset;
    }
    out->ndiags_total++;
}

/* `s` if a NUL lies within its first `len` bytes, else NULL: a string that
 * runs off its tag would make every later consumer read out of bounds. */
static const char *tag_string(const uint8_t *s, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if (s[i] == 0)
            return (const char *)s;
    return NULL;
}

/* Smallest legal size of a known tag type (its fixed fields), 0 if the type
 * is unknown.  ACPI tags answer 8: a short RSDP is MB2_DIAG_BAD_RSDP. */
static uint32_t tag_min_size(uint32_t type)
{
    switch (type) {
    case MB2_TAG_CMDLINE:
    case MB2_TAG_LOADER_NAME:
    case MB2_TAG_ACPI_OLD:
    case MB2_TAG_ACPI_NEW:
    case MB2_TAG_NETWORK:
    case MB2_TAG_EFI_BS:
        return 8;
    case MB2_TAG_EFI32:
    case MB2_TAG_EFI32_IH:
    case MB2_TAG_LOAD_BASE_ADDR:
        return 12;
    case MB2_TAG_MODULE:
    case MB2_TAG_BASIC_MEMINFO:
    case MB2_TAG_MMAP:
    case MB2_TAG_EFI64:
    case MB2_TAG_SMBIOS: /* major, minor, 6 reserved bytes */
    case MB2_TAG_EFI64_IH:
    case MB2_TAG_EFI_MMAP:
        return 16;
    case MB2_TAG_BOOTDEV: /* biosdev, slice, part */
    case MB2_TAG_ELF_SECTIONS:
        return 20;
    case MB2_TAG_APM: /* version, cseg, offset, cseg_16, dseg, flags, 3 lengths */
        return 28;
    case MB2_TAG_FRAMEBUFFER: /* through the u16 reserved after `type` */
        return 32;
    case MB2_TAG_VBE: /* mode, 3 interface words, 512 + 256 byte info blocks */
        return 784;
    default:
        return 0;
    }
}

/* True the first time a once-only tag type is met; records a duplicate after.
 * Any occurrence counts, even a malformed one: a loader that emits two
 * conflicting tags is not trusted to have the second one right either. */
static bool first_of_kind(struct mb2_walk *w, uint32_t type, uint64_t off)
{
    uint32_t bit;

    if (type >= 32 || !(ONCE_MASK & (1u << type)))
        return true;
    bit = 1u << type;
    if (w->seen & bit) {
        diag(w->out, MB2_DIAG_DUPLICATE_TAG, type, off);
        return false;
    }
    w->seen |= bit;
    return true;
}

/* Command line or loader name: a NUL-terminated string after the header. */
static void parse_string_tag(struct mb2_walk *w, const uint8_t *t, uint32_t size, uint32_t type, uint64_t off)
{
    const char *s = tag_string(t + 8, size - 8);

    if (!s) {
        diag(w->out, MB2_DIAG_BAD_STRING, type, off);
        return;
    }
    if (type == MB2_TAG_CMDLINE)
        w->out->cmdline = s;
    else
        w->out->loader_name = s;
}

/* True when [start, end) shares a byte with a module already accepted.
 * An empty module (a zero-byte file) has no byte to share with anything. */
static bool module_overlaps(const struct mb2_info *out, uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < out->nmodules; i++) {
        const struct mb2_module *m = &out->modules[i];
        if (start < end && m->start < m->end && start < m->end && m->start < end)
            return true;
    }
    return false;
}

/* Module: u32 mod_start, u32 mod_end (exclusive, as GRUB writes start+size),
 * then its command line.  Modules become reserved memory, so an inverted or
 * overlapping one is refused rather than guessed at. */
static void parse_module(struct mb2_walk *w, const uint8_t *t, uint32_t size, uint64_t off)
{
    struct mb2_info *out = w->out;
    uint64_t start = rd32(t + 8), end = rd32(t + 12);
    const char *s = tag_string(t + 16, size - 16);

    if (!s) {
        diag(out, MB2_DIAG_BAD_STRING, MB2_TAG_MODULE, off);
        return;
    }
    if (end < start || module_overlaps(out, start, end)) {
        diag(out, MB2_DIAG_BAD_MODULE, MB2_TAG_MODULE, off);
        return;
    }
    if (out->nmodules == MB2_MAX_MODULES) {
        if (!w->told_too_many_modules)
            diag(out, MB2_DIAG_TOO_MANY, MB2_TAG_MODULE, off);
        w->told_too_many_modules = true;
        return;
    }
    out->modules[out->nmodules].start = start;
    out->modules[out->nmodules].end = end;
    out->modules[out->nmodules].string = s;
    out->nmodules++;
}

/* Memory map: u32 entry_size, u32 entry_version, then entries of
 * {u64 base, u64 length, u32 type, u32 reserved} at entry_size strides.
 * Entries are copied verbatim; physmap decides what they mean. */
static void parse_mmap(struct mb2_walk *w, const uint8_t *t, uint32_t size, uint64_t off)
{
    struct mb2_info *out = w->out;
    uint32_t esize = rd32(t + 8);
    uint32_t bytes = size - 16, count;

    if (esize < MMAP_ENTRY_MIN || esize % 8 != 0) {
        diag(out, MB2_DIAG_BAD_MMAP_ENTRY, MB2_TAG_MMAP, off);
        return;
    }
    count = bytes / esize;
    if (bytes % esize != 0)
        diag(out, MB2_DIAG_BAD_MMAP_ENTRY, MB2_TAG_MMAP, off);
    if (count > MB2_MAX_MMAP) {
        diag(out, MB2_DIAG_TOO_MANY, MB2_TAG_MMAP, off);
        count = MB2_MAX_MMAP;
    }
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = t + 16 + (size_t)i * esize;
        out->mmap[i].base = rd64(e);
        out->mmap[i].length = rd64(e + 8);
        out->mmap[i].type = rd32(e + 16);
    }
    out->nmmap = count;
    out->have_mmap = true;
}

/* Framebuffer colour info after the fixed fields at offset 32: for indexed
 * colour u16 num_colors and 3-byte palette entries; for RGB six bytes
 * (red position, red size, green ..., blue ...).  Each field must lie inside
 * the pixel, or a painter would shift colour bits out of it. */
#define FB_COLOR_INFO 32u
#define FB_RGB_END (FB_COLOR_INFO + 6u)
#define FB_PALETTE 34u

/* True when a colour field of `size` bits at bit `pos` fits a `bpp` pixel. */
static bool fb_field_ok(uint8_t pos, uint8_t size, uint8_t bpp)
{
    return size >= 1 && size <= 8 && (unsigned)pos + size <= bpp;
}

/* Read and check the colour info of the framebuffer tag `t` of `size` bytes. */
static bool parse_fb_colors(const uint8_t *t, uint32_t size, struct mb2_framebuffer *fb)
{
    switch (fb->type) {
    case MB2_FB_INDEXED:
        if (size < FB_PALETTE)
            return false;
        fb->ncolors = (uint16_t)(t[FB_COLOR_INFO] | t[FB_COLOR_INFO + 1] << 8);
        if ((uint64_t)fb->ncolors * 3 > size - FB_PALETTE)
            return false;
        fb->palette = t + FB_PALETTE;
        return true;
    case MB2_FB_RGB:
        if (size < FB_RGB_END)
            return false;
        fb->red_pos = t[32], fb->red_size = t[33];
        fb->green_pos = t[34], fb->green_size = t[35];
        fb->blue_pos = t[36], fb->blue_size = t[37];
        return fb_field_ok(fb->red_pos, fb->red_size, fb->bpp) &&
               fb_field_ok(fb->green_pos, fb->green_size, fb->bpp) &&
               fb_field_ok(fb->blue_pos, fb->blue_size, fb->bpp);
    case MB2_FB_EGA_TEXT:
        return fb->bpp == 16; /* one u16 per character cell */
    default:
        return true; /* a type we do not know: the console decides */
    }
}

/* Framebuffer: u64 addr, u32 pitch, width, height, u8 bpp, u8 type, u16
 * reserved, colour info.  A line must fit in its pitch, or drawing the last
 * column writes past it; the whole buffer must fit below 2^52 (the largest
 * physical address) without wrapping. */
static void parse_framebuffer(struct mb2_walk *w, const uint8_t *t, uint32_t size, uint64_t off)
{
    struct mb2_framebuffer fb;

    zero_bytes(&fb, sizeof fb);
    fb.addr = rd64(t + 8);
    fb.pitch = rd32(t + 16);
    fb.width = rd32(t + 20);
    fb.height = rd32(t + 24);
    fb.bpp = t[28];
    fb.type = t[29];
    if (fb.bpp == 0 || fb.width == 0 || fb.height == 0 ||
        (uint64_t)fb.pitch < ((uint64_t)fb.width * fb.bpp + 7) / 8 || fb.addr >= FB_PHYS_LIMIT ||
        (uint64_t)fb.pitch * fb.height > FB_PHYS_LIMIT - fb.addr || !parse_fb_colors(t, size, &fb)) {
        diag(w->out, MB2_DIAG_BAD_FRAMEBUFFER, MB2_TAG_FRAMEBUFFER, off);
        return;
    }
    w->out->fb = fb;
    w->out->have_framebuffer = true;
}

/* ELF sections in GRUB's layout (see ELF_TAG_FIXED).  num == 0 is what GRUB
 * writes for a kernel loaded without ELF headers (then entsize is 0 too):
 * there is nothing to describe, so it is accepted silently, but absent. */
static void parse_elf_sections(struct mb2_walk *w, const uint8_t *t, uint32_t size, uint64_t off)
{
    struct mb2_info *out = w->out;
    uint32_t num = rd32(t + 8), entsize = rd32(t + 12), shndx = rd32(t + 16);

    if (num == 0)
        return;
    if (entsize < ELF64_SHDR_SIZE || (uint64_t)num * entsize > size - ELF_TAG_FIXED || shndx >= num) {
        diag(out, MB2_DIAG_BAD_ELF_SECTIONS, MB2_TAG_ELF_SECTIONS, off);
        return;
    }
    out->elf_shdrs = t + ELF_TAG_FIXED;
    out->elf_num = num;
    out->elf_entsize = entsize;
    out->elf_shndx = shndx;
    out->have_elf_sections = true;
}

/* True when the RSDP copy at `p` starts with its signature "RSD PTR ". */
static bool rsdp_signed(const uint8_t *p)
{
    static const char sig[8] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '};

    for (unsigned i = 0; i < sizeof sig; i++)
        if (p[i] != (uint8_t)sig[i])
            return false;
    return true;
}

/* ACPI RSDP copy: long enough for its revision (20 bytes for ACPI 1.0, 36
 * with the XSDT fields) and signed, or the ACPI code would parse garbage. */
static void parse_rsdp(struct mb2_walk *w, const uint8_t *t, uint32_t size, uint32_t type, uint64_t off)
{
    uint32_t len = size - 8;
    uint32_t need = type == MB2_TAG_ACPI_OLD ? RSDP_V1_LEN : RSDP_V2_LEN;

    if (len < need || !rsdp_signed(t + 8)) {
        diag(w->out, MB2_DIAG_BAD_RSDP, type, off);
        return;
    }
    if (type == MB2_TAG_ACPI_OLD) {
        w->out->rsdp_old = t + 8;
        w->out->rsdp_old_len = len;
    } else {
        w->out->rsdp_new = t + 8;
        w->out->rsdp_new_len = len;
    }
}

/* EFI memory map: u32 descr_size, u32 descr_vers, then raw descriptors.
 * descr_size may exceed sizeof(EFI_MEMORY_DESCRIPTOR); never assume it. */
static void parse_efi_mmap(struct mb2_walk *w, const uint8_t *t, uint32_t size, uint64_t off)
{
    struct mb2_info *out = w->out;
    uint32_t dsize = rd32(t + 8);

    if (dsize < EFI_DESC_MIN) {
        diag(out, MB2_DIAG_BAD_EFI_MMAP, MB2_TAG_EFI_MMAP, off);
        return;
    }
    out->efi_mmap = t + 16;
    out->efi_desc_size = dsize;
    out->efi_desc_version = rd32(t + 12);
    out->efi_ndesc = (size - 16) / dsize;
}

/* Dispatch one bounds-checked tag (not the end tag) at offset `off`. */
static void parse_tag(struct mb2_walk *w, const uint8_t *t, uint32_t type, uint32_t size, uint64_t off)
{
    uint32_t min = tag_min_size(type);

    if (min == 0) {
        diag(w->out, MB2_DIAG_UNKNOWN_TAG, type, off);
        return;
    }
    if (!first_of_kind(w, type, off))
        return;
    if (size < min) {
        diag(w->out, MB2_DIAG_TAG_TOO_SMALL, type, off);
        return;
    }
    switch (type) {
    case MB2_TAG_CMDLINE:
    case MB2_TAG_LOADER_NAME:
        parse_string_tag(w, t, size, type, off);
        break;
    case MB2_TAG_MODULE:
        parse_module(w, t, size, off);
        break;
    case MB2_TAG_BASIC_MEMINFO:
        w->out->mem_lower_kib = rd32(t + 8);
        w->out->mem_upper_kib = rd32(t + 12);
        w->out->have_meminfo = true;
        break;
    case MB2_TAG_MMAP:
        parse_mmap(w, t, size, off);
        break;
    case MB2_TAG_FRAMEBUFFER:
        parse_framebuffer(w, t, size, off);
        break;
    case MB2_TAG_ELF_SECTIONS:
        parse_elf_sections(w, t, size, off);
        break;
    case MB2_TAG_ACPI_OLD:
    case MB2_TAG_ACPI_NEW:
        parse_rsdp(w, t, size, type, off);
        break;
    case MB2_TAG_EFI_MMAP:
        parse_efi_mmap(w, t, size, off);
        break;
    case MB2_TAG_LOAD_BASE_ADDR:
        w->out->load_base = rd32(t + 8);
        w->out->have_load_base = true;
        break;
    default:
        break; /* known, size checked, not needed by the kernel */
    }
}

/* Walk the tags of a block whose header was validated: 8-aligned offsets
 * from 8, each tag wholly inside total_size, until the end tag. */
static void walk_tags(struct mb2_walk *w, const uint8_t *b, uint32_t total)
{
    uint64_t off = MB2_HEADER_SIZE;

    while (off < total) {
        uint32_t type = total - off >= 4 ? rd32(b + off) : 0;
        uint32_t size;

        if (total - off < MB2_TAG_HEADER) {
            diag(w->out, MB2_DIAG_TRUNCATED_TAG, type, off);
            return;
        }
        size = rd32(b + off + 4);
        if (size < MB2_TAG_HEADER || size > total - off) {
            diag(w->out, MB2_DIAG_TRUNCATED_TAG, type, off);
            return;
        }
        if (type == MB2_TAG_END)
            return;
        parse_tag(w, b + off, type, size, off);
        off += ((uint64_t)size + MB2_TAG_ALIGN - 1) & ~(uint64_t)(MB2_TAG_ALIGN - 1);
    }
    /* Walked off the end cleanly: the loader never closed the list. */
    diag(w->out, MB2_DIAG_MISSING_END, 0, total);
}

int mb2_parse(const void *info, size_t avail, struct mb2_info *out)
{
    const uint8_t *b = info;
    struct mb2_walk w = {.out = out, .seen = 0, .told_too_many_modules = false};
    uint32_t total;

    if (!out)
        return -1;
    zero_bytes(out, sizeof *out);
    if (!info || avail < MB2_HEADER_SIZE) {
        diag(out, MB2_DIAG_TRUNCATED_TAG, 0, 0);
        return -1;
    }
    total = rd32(b);
    /* 16 = the header plus the smallest possible list, a lone end tag. */
    if (total < MB2_HEADER_SIZE + MB2_TAG_HEADER || total > avail) {
        diag(out, MB2_DIAG_TRUNCATED_TAG, 0, 0);
        return -1;
    }
    out->total_size = total;
    walk_tags(&w, b, total);
    return 0;
}

const char *mb2_diag_name(enum mb2_diag_kind kind)
{
    switch (kind) {
    case MB2_DIAG_UNKNOWN_TAG:
        return "unknown tag";
    case MB2_DIAG_TRUNCATED_TAG:
        return "truncated tag";
    case MB2_DIAG_TAG_TOO_SMALL:
        return "tag too small";
    case MB2_DIAG_DUPLICATE_TAG:
        return "duplicate tag";
    case MB2_DIAG_BAD_STRING:
        return "unterminated string";
    case MB2_DIAG_BAD_MMAP_ENTRY:
        return "bad memory map entry";
    case MB2_DIAG_BAD_MODULE:
        return "bad module";
    case MB2_DIAG_TOO_MANY:
        return "too many entries";
    case MB2_DIAG_BAD_ELF_SECTIONS:
        return "bad ELF sections";
    case MB2_DIAG_BAD_FRAMEBUFFER:
        return "bad framebuffer";
    case MB2_DIAG_BAD_RSDP:
        return "bad RSDP";
    case MB2_DIAG_MISSING_END:
        return "missing end tag";
    case MB2_DIAG_BAD_EFI_MMAP:
        return "bad EFI memory map";
    }
    return "unknown diagnostic";
}

const char *mb2_mmap_type_name(uint32_t type)
{
    switch (type) {
    case MB2_MMAP_AVAILABLE:
        return "available";
    case MB2_MMAP_RESERVED:
        return "reserved";
    case MB2_MMAP_ACPI_RECLAIMABLE:
        return "ACPI";
    case MB2_MMAP_NVS:
        return "NVS";
    case MB2_MMAP_BADRAM:
        return "bad";
    default:
        return "unknown";
    }
}
