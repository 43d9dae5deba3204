/* Host unit tests for microkernel/boot/multiboot2.c.  Blocks are built tag
 * by tag with a small builder, the way GRUB lays them out, then damaged in
 * one place per test to check that exactly that place is diagnosed. */
#include "test/host/check.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "microkernel/boot/multiboot2.h"

/* ---- block builder ------------------------------------------------------ */

#define BLK_MAX 16384

/* A boot information block under construction; len is the write offset. */
struct blk {
    _Alignas(8) uint8_t b[BLK_MAX + 8];
    size_t len;
};

/* A tag payload under construction. */
struct pay {
    uint8_t d[8192];
    size_t n;
};

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void pay_u8(struct pay *p, uint8_t v)
{
    p->d[p->n++] = v;
}
static void pay_u16(struct pay *p, uint16_t v)
{
    pay_u8(p, (uint8_t)v);
    pay_u8(p, (uint8_t)(v >> 8));
}
static void pay_u32(struct pay *p, uint32_t v)
{
    put32(p->d + p->n, v);
    p->n += 4;
}
static void pay_u64(struct pay *p, uint64_t v)
{
    pay_u32(p, (uint32_t)v);
    pay_u32(p, (uint32_t)(v >> 32));
}
static void pay_bytes(struct pay *p, const void *s, size_t n)
{
    memcpy(p->d + p->n, s, n);
    p->n += n;
}
static void pay_fill(struct pay *p, uint8_t v, size_t n)
{
    memset(p->d + p->n, v, n);
    p->n += n;
}

/* Start an empty block: header only (total_size written by blk_end). */
static void blk_init(struct blk *k)
{
    memset(k->b, 0, sizeof k->b);
    k->len = 8;
}

/* Append a tag declaring `size` bytes, with `n` payload bytes, padded to 8.
 * Returns the tag's offset, which is what diagnostics report. */
static uint32_t blk_raw(struct blk *k, uint32_t type, uint32_t size, const void *payload, size_t n)
{
    uint32_t off = (uint32_t)k->len;

    put32(k->b + off, type);
    put32(k->b + off + 4, size);
    if (n)
        memcpy(k->b + off + 8, payload, n);
    k->len = (off + 8 + n + 7) & ~(size_t)7;
    return off;
}

/* Append a well-formed tag with payload `p`. */
static uint32_t blk_tag(struct blk *k, uint32_t type, const struct pay *p)
{
    return blk_raw(k, type, (uint32_t)(8 + p->n), p->d, p->n);
}

/* Append a tag whose payload is a C string (with its NUL). */
static uint32_t blk_str(struct blk *k, uint32_t type, const char *s)
{
    return blk_raw(k, type, (uint32_t)(8 + strlen(s) + 1), s, strlen(s) + 1);
}

/* Append a module tag. */
static uint32_t blk_mod(struct blk *k, uint32_t start, uint32_t end, const char *s)
{
    struct pay p = {.n = 0};

    pay_u32(&p, start);
    pay_u32(&p, end);
    pay_bytes(&p, s, strlen(s) + 1);
    return blk_tag(k, MB2_TAG_MODULE, &p);
}

/* Set total_size to what was written so far (no end tag). */
static void blk_close(struct blk *k)
{
    put32(k->b, (uint32_t)k->len);
}

/* Append the end tag and set total_size. */
static void blk_end(struct blk *k)
{
    blk_raw(k, MB2_TAG_END, 8, NULL, 0);
    blk_close(k);
}

/* A valid RSDP copy of `len` bytes (20 for revision 0, 36 for 2). */
static void pay_rsdp(struct pay *p, size_t len)
{
    pay_bytes(p, "RSD PTR ", 8);
    pay_fill(p, 0x5a, len - 8);
}

/* Number of kept diagnostics of `kind`. */
static size_t ndiag(const struct mb2_info *in, enum mb2_diag_kind kind)
{
    size_t c = 0;

    for (size_t i = 0; i < in->ndiags; i++)
        c += in->diags[i].kind == kind;
    return c;
}

/* True when the only diagnostic is `kind` for tag `type` at `off`. */
static bool only_diag(const struct mb2_info *in, enum mb2_diag_kind kind, uint32_t type, uint32_t off)
{
    return in->ndiags == 1 && in->ndiags_total == 1 && in->diags[0].kind == kind &&
           in->diags[0].tag_type == type && in->diags[0].offset == off;
}

static struct blk blk;
static struct mb2_info info;

/* ---- a full, valid, GRUB-like block -------------------------------------- */

/* Offsets of interesting tags in the full block, for pointer checks. */
static uint32_t off_cmdline, off_loader, off_mod0, off_elf, off_old, off_new, off_efi;

/* Build what GRUB 2.06 hands a BIOS + UEFI-ish kernel, every tag present. */
static void build_full(struct blk *k)
{
    struct pay p;

    blk_init(k);
    p.n = 0;
    pay_u32(&p, 0x200000);
    blk_tag(k, MB2_TAG_LOAD_BASE_ADDR, &p);
    off_cmdline = blk_str(k, MB2_TAG_CMDLINE, "console=ttyS0 debug");
    off_loader = blk_str(k, MB2_TAG_LOADER_NAME, "GRUB 2.06");
    p.n = 0;
    pay_u16(&p, 0x102);
    pay_u16(&p, 0xf000);
    pay_u32(&p, 0x1234);
    pay_fill(&p, 0, 12);
    blk_tag(k, MB2_TAG_APM, &p);
    off_mod0 = blk_mod(k, 0x400000, 0x401234, "init");
    blk_mod(k, 0x402000, 0x410000, "");
    p.n = 0;
    pay_u32(&p, 24);
    pay_u32(&p, 0);
    {
        static const uint64_t e[6][3] = {
            {0x0, 0x9fc00, 1},        {0x9fc00, 0x400, 2},     {0xf0000, 0x10000, 2},
            {0x100000, 0x7ee0000, 1}, {0x7fe0000, 0x20000, 3}, {0xfffc0000, 0x40000, 4},
        };
        for (int i = 0; i < 6; i++) {
            pay_u64(&p, e[i][0]);
            pay_u64(&p, e[i][1]);
            pay_u32(&p, (uint32_t)e[i][2]);
            pay_u32(&p, 0);
        }
    }
    blk_tag(k, MB2_TAG_MMAP, &p);
    p.n = 0;
    pay_u32(&p, 4);
    pay_u32(&p, 64);
    pay_u32(&p, 3);
    pay_fill(&p, 0xee, 256);
    off_elf = blk_tag(k, MB2_TAG_ELF_SECTIONS, &p);
    p.n = 0;
    pay_u32(&p, 639);
    pay_u32(&p, 130048);
    blk_tag(k, MB2_TAG_BASIC_MEMINFO, &p);
    p.n = 0;
    pay_u32(&p, 0x80);
    pay_u32(&p, 0xffffffff);
    pay_u32(&p, 0xffffffff);
    blk_tag(k, MB2_TAG_BOOTDEV, &p);
    p.n = 0;
    pay_fill(&p, 0, 776);
    blk_tag(k, MB2_TAG_VBE, &p);
    p.n = 0;
    pay_u64(&p, 0xfd000000);
    pay_u32(&p, 4096);
    pay_u32(&p, 1024);
    pay_u32(&p, 768);
    pay_u8(&p, 32);
    pay_u8(&p, 1);
    pay_u16(&p, 0);
    pay_u8(&p, 16);
    pay_u8(&p, 8);
    pay_u8(&p, 8);
    pay_u8(&p, 8);
    pay_u8(&p, 0);
    pay_u8(&p, 8);
    blk_tag(k, MB2_TAG_FRAMEBUFFER, &p);
    p.n = 0;
    pay_u64(&p, 0x7f9e018);
    blk_tag(k, MB2_TAG_EFI64, &p);
    p.n = 0;
    pay_u8(&p, 2);
    pay_u8(&p, 8);
    pay_fill(&p, 0, 6);
    pay_fill(&p, 0x11, 31);
    blk_tag(k, MB2_TAG_SMBIOS, &p);
    p.n = 0;
    pay_rsdp(&p, 20);
    off_old = blk_tag(k, MB2_TAG_ACPI_OLD, &p);
    p.n = 0;
    pay_rsdp(&p, 36);
    off_new = blk_tag(k, MB2_TAG_ACPI_NEW, &p);
    p.n = 0;
    pay_fill(&p, 0x42, 300);
    blk_tag(k, MB2_TAG_NETWORK, &p);
    p.n = 0;
    pay_u32(&p, 48);
    pay_u32(&p, 1);
    pay_fill(&p, 0x33, 3 * 48);
    off_efi = blk_tag(k, MB2_TAG_EFI_MMAP, &p);
    p.n = 0;
    blk_tag(k, MB2_TAG_EFI_BS, &p);
    p.n = 0;
    pay_u64(&p, 0x7e4a000);
    blk_tag(k, MB2_TAG_EFI64_IH, &p);
    blk_end(k);
}

/* Every field of the full block, parsed from `base` (aligned or not). */
static void check_full(const uint8_t *base)
{
    CHECK_EQ_U64(info.ndiags_total, 0);
    CHECK_EQ_U64(info.total_size, blk.len);
    CHECK(info.cmdline == (const char *)base + off_cmdline + 8);
    CHECK(info.cmdline && strcmp(info.cmdline, "console=ttyS0 debug") == 0);
    CHECK(info.loader_name == (const char *)base + off_loader + 8);
    CHECK_EQ_U64(info.nmodules, 2);
    CHECK(info.modules[0].start == 0x400000 && info.modules[0].end == 0x401234);
    CHECK(info.modules[0].string == (const char *)base + off_mod0 + 16);
    CHECK(info.modules[1].string && info.modules[1].string[0] == 0);
    CHECK(info.have_mmap && info.nmmap == 6);
    CHECK(info.mmap[3].base == 0x100000 && info.mmap[3].length == 0x7ee0000 &&
          info.mmap[3].type == MB2_MMAP_AVAILABLE);
    CHECK(info.mmap[5].base == 0xfffc0000 && info.mmap[5].type == MB2_MMAP_NVS);
    CHECK(info.have_meminfo && info.mem_lower_kib == 639 && info.mem_upper_kib == 130048);
    CHECK(info.have_framebuffer && info.fb.addr == 0xfd000000 && info.fb.pitch == 4096);
    CHECK(info.fb.width == 1024 && info.fb.height == 768 && info.fb.bpp == 32 && info.fb.type == 1);
    CHECK(info.have_elf_sections && info.elf_num == 4 && info.elf_entsize == 64 && info.elf_shndx == 3);
    CHECK(info.elf_shdrs == base + off_elf + 20); /* GRUB layout: after 3 u32 */
    CHECK(info.rsdp_old == base + off_old + 8 && info.rsdp_old_len == 20);
    CHECK(info.rsdp_new == base + off_new + 8 && info.rsdp_new_len == 36);
    CHECK(info.efi_mmap == base + off_efi + 16 && info.efi_desc_size == 48);
    CHECK(info.efi_desc_version == 1 && info.efi_ndesc == 3);
    CHECK(info.have_load_base && info.load_base == 0x200000);
}

static void test_full(void)
{
    static uint8_t shifted[BLK_MAX + 16];

    build_full(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0);
    check_full(blk.b);
    /* The same bytes at an odd address: the parser must not care. */
    memcpy(shifted + 3, blk.b, blk.len);
    CHECK(mb2_parse(shifted + 3, blk.len, &info) == 0);
    check_full(shifted + 3);
    /* Bytes after total_size are never looked at. */
    memset(blk.b + blk.len, 0xff, 8);
    CHECK(mb2_parse(blk.b, blk.len + 8, &info) == 0 && info.ndiags_total == 0);
}

/* ---- header -------------------------------------------------------------- */

static void test_header(void)
{
    blk_init(&blk);
    blk_str(&blk, MB2_TAG_CMDLINE, "x");
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len - 1, &info) == -1); /* total_size > avail */
    CHECK(info.cmdline == NULL && info.total_size == 0 && info.ndiags == 1);
    put32(blk.b, 15);
    CHECK(mb2_parse(blk.b, blk.len, &info) == -1); /* total_size < 16 */
    CHECK(mb2_parse(blk.b, 7, &info) == -1);       /* not even a header */
    CHECK(mb2_parse(NULL, 64, &info) == -1);
    CHECK(mb2_parse(blk.b, blk.len, NULL) == -1); /* nowhere to put results */
    put32(blk.b, 16);                             /* header + end tag only */
    memset(blk.b + 8, 0, 8);
    put32(blk.b + 12, 8);
    CHECK(mb2_parse(blk.b, 16, &info) == 0 && info.ndiags_total == 0 && info.total_size == 16);
}

/* ---- walking ------------------------------------------------------------- */

static void test_truncated(void)
{
    uint32_t off;

    blk_init(&blk);
    blk_str(&blk, MB2_TAG_CMDLINE, "kept");
    off = blk_raw(&blk, MB2_TAG_LOADER_NAME, 64, "GRUB", 5); /* claims 64, has 16 */
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0);
    CHECK(only_diag(&info, MB2_DIAG_TRUNCATED_TAG, MB2_TAG_LOADER_NAME, off));
    CHECK(info.cmdline && strcmp(info.cmdline, "kept") == 0 && info.loader_name == NULL);

    blk_init(&blk);
    off = blk_raw(&blk, MB2_TAG_CMDLINE, 4, NULL, 0); /* size < 8 */
    blk_str(&blk, MB2_TAG_LOADER_NAME, "never reached");
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0);
    CHECK(only_diag(&info, MB2_DIAG_TRUNCATED_TAG, MB2_TAG_CMDLINE, off));
    CHECK(info.loader_name == NULL);

    blk_init(&blk); /* one byte past total_size */
    blk_str(&blk, MB2_TAG_LOADER_NAME, "GRUB");
    off = blk_str(&blk, MB2_TAG_CMDLINE, "abc");
    put32(blk.b, off + 11);
    CHECK(mb2_parse(blk.b, off + 11, &info) == 0);
    CHECK(only_diag(&info, MB2_DIAG_TRUNCATED_TAG, MB2_TAG_CMDLINE, off) && !info.cmdline);

    blk_init(&blk); /* header cut by total_size */
    blk_str(&blk, MB2_TAG_CMDLINE, "abc");
    put32(blk.b, (uint32_t)blk.len + 4);
    CHECK(mb2_parse(blk.b, blk.len + 4, &info) == 0);
    CHECK(only_diag(&info, MB2_DIAG_TRUNCATED_TAG, 0, (uint32_t)blk.len));
}

static void test_missing_end_and_early_end(void)
{
    blk_init(&blk);
    blk_str(&blk, MB2_TAG_CMDLINE, "abc");
    blk_close(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0);
    CHECK(only_diag(&info, MB2_DIAG_MISSING_END, 0, (uint32_t)blk.len));
    CHECK(info.cmdline != NULL); /* what came before is kept */

    blk_init(&blk);
    blk_raw(&blk, MB2_TAG_END, 8, NULL, 0);
    blk_str(&blk, MB2_TAG_CMDLINE, "after the end");
    blk_close(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.ndiags_total == 0);
    CHECK(info.cmdline == NULL);
}

static void test_unknown_and_too_small(void)
{
    struct pay p = {.n = 0};
    uint32_t off, off2;

    blk_init(&blk);
    pay_fill(&p, 1, 12);
    off = blk_tag(&blk, 99, &p);
    p.n = 0;
    pay_fill(&p, 0, 100);
    off2 = blk_tag(&blk, MB2_TAG_VBE, &p); /* VBE needs 784 bytes */
    p.n = 0;
    pay_u32(&p, 0x7f9e018);
    blk_tag(&blk, MB2_TAG_EFI32, &p); /* known, fine: no diag */
    blk_tag(&blk, MB2_TAG_EFI32_IH, &p);
    blk_str(&blk, MB2_TAG_CMDLINE, "still parsed");
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.ndiags_total == 2);
    CHECK(info.diags[0].kind == MB2_DIAG_UNKNOWN_TAG && info.diags[0].tag_type == 99 &&
          info.diags[0].offset == off);
    CHECK(info.diags[1].kind == MB2_DIAG_TAG_TOO_SMALL && info.diags[1].offset == off2);
    CHECK(info.cmdline && strcmp(info.cmdline, "still parsed") == 0);

    blk_init(&blk); /* meminfo: 1 u32 short */
    p.n = 0;
    pay_u32(&p, 639);
    off = blk_tag(&blk, MB2_TAG_BASIC_MEMINFO, &p);
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0);
    CHECK(only_diag(&info, MB2_DIAG_TAG_TOO_SMALL, MB2_TAG_BASIC_MEMINFO, off) && !info.have_meminfo);
}

static void test_duplicate(void)
{
    struct pay p = {.n = 0};
    uint32_t off;

    blk_init(&blk);
    blk_str(&blk, MB2_TAG_CMDLINE, "first");
    off = blk_str(&blk, MB2_TAG_CMDLINE, "second");
    pay_u32(&p, 0x100000);
    blk_tag(&blk, MB2_TAG_LOAD_BASE_ADDR, &p);
    p.n = 0;
    pay_u32(&p, 0x900000);
    blk_tag(&blk, MB2_TAG_LOAD_BASE_ADDR, &p);
    blk_mod(&blk, 0x1000, 0x2000, "a"); /* modules may repeat */
    blk_mod(&blk, 0x2000, 0x3000, "b");
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.ndiags_total == 2);
    CHECK(info.diags[0].kind == MB2_DIAG_DUPLICATE_TAG && info.diags[0].offset == off);
    CHECK(info.cmdline && strcmp(info.cmdline, "first") == 0);
    CHECK_EQ_U64(info.load_base, 0x100000);
    CHECK_EQ_U64(info.nmodules, 2);
}

static void test_strings(void)
{
    uint32_t off, off2;

    blk_init(&blk);
    off = blk_raw(&blk, MB2_TAG_CMDLINE, 8 + 4, "abcd", 4); /* no NUL in the tag */
    blk_raw(&blk, MB2_TAG_LOADER_NAME, 8, NULL, 0);         /* no room for a NUL */
    off2 = blk_raw(&blk, MB2_TAG_MODULE, 16 + 3, "\x00\x10\x00\x00\x00\x20\x00\x00xyz", 11);
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.ndiags_total == 3);
    CHECK(info.diags[0].kind == MB2_DIAG_BAD_STRING && info.diags[0].offset == off);
    CHECK(info.diags[2].kind == MB2_DIAG_BAD_STRING && info.diags[2].offset == off2);
    CHECK(info.cmdline == NULL && info.loader_name == NULL && info.nmodules == 0);
    /* Premise of the first case: the padding after the tag is a NUL, so a
     * parser that read past its tag would have accepted the string. */
    CHECK(blk.b[off + 12] == 0);
}

/* ---- modules ------------------------------------------------------------- */

static void test_modules(void)
{
    uint32_t inv, ovl;

    blk_init(&blk);
    blk_mod(&blk, 0x100000, 0x200000, "a");
    inv = blk_mod(&blk, 0x300000, 0x2fffff, "inverted");
    ovl = blk_mod(&blk, 0x1fffff, 0x280000, "overlaps a by one byte");
    blk_mod(&blk, 0x200000, 0x280000, "adjacent to a");
    blk_mod(&blk, 0x500000, 0x500000, "empty");
    blk_mod(&blk, 0x180000, 0x180000, "empty inside a"); /* has no byte to share */
    blk_mod(&blk, 0x4ff000, 0x501000, "around the empty one");
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.ndiags_total == 2);
    CHECK(info.diags[0].kind == MB2_DIAG_BAD_MODULE && info.diags[0].offset == inv);
    CHECK(info.diags[1].kind == MB2_DIAG_BAD_MODULE && info.diags[1].offset == ovl);
    CHECK_EQ_U64(info.nmodules, 5);
    CHECK(strcmp(info.modules[1].string, "adjacent to a") == 0);
    CHECK(info.modules[4].start == 0x4ff000 && info.modules[4].end == 0x501000);
}

static void test_too_many_modules(void)
{
    blk_init(&blk);
    for (uint32_t i = 0; i < MB2_MAX_MODULES + 6; i++)
        blk_mod(&blk, 0x1000000 + i * 0x1000, 0x1000000 + i * 0x1000 + 0x800, "m");
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0);
    CHECK_EQ_U64(info.nmodules, MB2_MAX_MODULES);
    CHECK(info.ndiags_total == 1 && info.diags[0].kind == MB2_DIAG_TOO_MANY); /* once */
    CHECK_EQ_U64(info.modules[MB2_MAX_MODULES - 1].start, 0x1000000 + (MB2_MAX_MODULES - 1) * 0x1000);
}

/* ---- memory map ---------------------------------------------------------- */

/* A mmap tag of `n` entries at `esize` stride, plus `extra` ragged bytes. */
static uint32_t blk_mmap(struct blk *k, uint32_t esize, uint32_t n, uint32_t extra)
{
    static struct pay p;

    p.n = 0;
    pay_u32(&p, esize);
    pay_u32(&p, 0);
    for (uint32_t i = 0; i < n; i++) {
        pay_u64(&p, (uint64_t)i << 20);
        pay_u64(&p, 0x1000 + i);
        pay_u32(&p, 1 + i % 5);
        pay_fill(&p, 0, esize - 20);
    }
    pay_fill(&p, 0x77, extra);
    return blk_tag(k, MB2_TAG_MMAP, &p);
}

static void test_mmap(void)
{
    uint32_t off;

    blk_init(&blk);
    off = blk_mmap(&blk, 20, 3, 0); /* entry_size < 24 */
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0);
    CHECK(only_diag(&info, MB2_DIAG_BAD_MMAP_ENTRY, MB2_TAG_MMAP, off) && !info.have_mmap);

    blk_init(&blk);
    blk_mmap(&blk, 28, 3, 0); /* not a multiple of 8 */
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && !info.have_mmap &&
          ndiag(&info, MB2_DIAG_BAD_MMAP_ENTRY) == 1);

    blk_init(&blk);
    blk_mmap(&blk, 32, 3, 0); /* larger stride is fine */
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.ndiags_total == 0 && info.nmmap == 3);
    CHECK(info.mmap[2].base == 2 << 20 && info.mmap[2].length == 0x1002 && info.mmap[2].type == 3);

    blk_init(&blk);
    off = blk_mmap(&blk, 24, 2, 13); /* ragged tail */
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.have_mmap && info.nmmap == 2);
    CHECK(only_diag(&info, MB2_DIAG_BAD_MMAP_ENTRY, MB2_TAG_MMAP, off));

    blk_init(&blk);
    blk_mmap(&blk, 24, 0, 0); /* empty map: present */
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.have_mmap && info.nmmap == 0);
}

static void test_mmap_too_many(void)
{
    static struct blk k;

    blk_init(&k);
    blk_mmap(&k, 24, MB2_MAX_MMAP + 40, 0);
    blk_end(&k);
    CHECK(mb2_parse(k.b, k.len, &info) == 0 && info.nmmap == MB2_MAX_MMAP);
    CHECK(ndiag(&info, MB2_DIAG_TOO_MANY) == 1);
    CHECK_EQ_U64(info.mmap[MB2_MAX_MMAP - 1].base, (uint64_t)(MB2_MAX_MMAP - 1) << 20);
}

/* ---- framebuffer, ELF, RSDP, EFI ------------------------------------------ */

/* A framebuffer tag with the given geometry and 6 colour bytes. */
static uint32_t blk_fb(struct blk *k, uint32_t pitch, uint32_t width, uint8_t bpp, size_t cut)
{
    struct pay p = {.n = 0};

    pay_u64(&p, 0xb8000);
    pay_u32(&p, pitch);
    pay_u32(&p, width);
    pay_u32(&p, 25);
    pay_u8(&p, bpp);
    pay_u8(&p, 2);
    pay_u16(&p, 0);
    pay_fill(&p, 0, 6);
    p.n -= cut;
    return blk_tag(k, MB2_TAG_FRAMEBUFFER, &p);
}

static void test_framebuffer(void)
{
    uint32_t off;

    blk_init(&blk);
    off = blk_fb(&blk, 160, 80, 0, 0); /* bpp 0 */
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && !info.have_framebuffer);
    CHECK(only_diag(&info, MB2_DIAG_BAD_FRAMEBUFFER, MB2_TAG_FRAMEBUFFER, off));

    blk_init(&blk);
    blk_fb(&blk, 159, 80, 16, 0); /* pitch one byte short */
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && !info.have_framebuffer &&
          ndiag(&info, MB2_DIAG_BAD_FRAMEBUFFER) == 1);

    blk_init(&blk);
    blk_fb(&blk, 0xffffffff, 0xffffffff, 255, 0); /* width*bpp needs 64 bits */
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && ndiag(&info, MB2_DIAG_BAD_FRAMEBUFFER) == 1);

    blk_init(&blk);
    blk_fb(&blk, 160, 80, 16, 6); /* EGA text: 32 bytes, valid */
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.have_framebuffer && info.ndiags_total == 0 &&
          info.fb.type == 2);

    blk_init(&blk);
    off = blk_fb(&blk, 160, 80, 16, 8); /* no reserved field */
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 &&
          only_diag(&info, MB2_DIAG_TAG_TOO_SMALL, MB2_TAG_FRAMEBUFFER, off));
}

/* A framebuffer tag of `type` at `addr`, 1024x768 with `pitch` and `bpp`,
 * followed by the first `ncolor` bytes of `color` (its colour info). */
static uint32_t blk_fb_at(struct blk *k, uint64_t addr, uint32_t pitch, uint8_t bpp, uint8_t type,
                          const uint8_t *color, size_t ncolor)
{
    struct pay p = {.n = 0};

    pay_u64(&p, addr);
    pay_u32(&p, pitch);
    pay_u32(&p, 1024);
    pay_u32(&p, 768);
    pay_u8(&p, bpp);
    pay_u8(&p, type);
    pay_u16(&p, 0);
    pay_bytes(&p, color, ncolor);
    return blk_tag(k, MB2_TAG_FRAMEBUFFER, &p);
}

/* Parse a block holding only the given framebuffer tag; true if it was
 * refused with exactly one MB2_DIAG_BAD_FRAMEBUFFER and nothing kept. */
static bool fb_rejected(uint64_t addr, uint32_t pitch, uint8_t bpp, uint8_t type, const uint8_t *color,
                        size_t ncolor)
{
    uint32_t off;

    blk_init(&blk);
    off = blk_fb_at(&blk, addr, pitch, bpp, type, color, ncolor);
    blk_end(&blk);
    return mb2_parse(blk.b, blk.len, &info) == 0 && !info.have_framebuffer &&
           only_diag(&info, MB2_DIAG_BAD_FRAMEBUFFER, MB2_TAG_FRAMEBUFFER, off);
}

/* Colour info: RGB fields, palettes, EGA text depth, and where the buffer lies. */
static void test_framebuffer_colors(void)
{
    static const uint8_t xrgb[6] = {16, 8, 8, 8, 0, 8}; /* what OVMF's GOP gives */
    static const uint8_t rgb565[6] = {11, 5, 5, 6, 0, 5};
    uint8_t pal[2 + 16 * 3];

    blk_init(&blk);
    blk_fb_at(&blk, 0x80000000, 4096, 32, MB2_FB_RGB, xrgb, 6);
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.have_framebuffer && info.ndiags_total == 0);
    CHECK(info.fb.red_pos == 16 && info.fb.red_size == 8 && info.fb.green_pos == 8 &&
          info.fb.green_size == 8 && info.fb.blue_pos == 0 && info.fb.blue_size == 8);

    blk_init(&blk);
    blk_fb_at(&blk, 0xfd000000, 2048, 16, MB2_FB_RGB, rgb565, 6);
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.have_framebuffer && info.fb.red_pos == 11 &&
          info.fb.green_size == 6);

    CHECK(fb_rejected(0x80000000, 4096, 32, MB2_FB_RGB, xrgb, 5)); /* colour info cut short */
    CHECK(fb_rejected(0x80000000, 4096, 32, MB2_FB_RGB, xrgb, 0)); /* no colour info at all */
    CHECK(fb_rejected(0x80000000, 4096, 32, MB2_FB_RGB, (const uint8_t[6]){30, 8, 8, 8, 0, 8}, 6));
    CHECK(fb_rejected(0x80000000, 4096, 32, MB2_FB_RGB, (const uint8_t[6]){16, 0, 8, 8, 0, 8}, 6));
    CHECK(fb_rejected(0x80000000, 4096, 32, MB2_FB_RGB, (const uint8_t[6]){16, 8, 8, 8, 0, 200}, 6));
    CHECK(fb_rejected(0x80000000, 2048, 16, MB2_FB_RGB, xrgb, 6)); /* red at bit 16 of 16 */

    /* Where the buffer lies: it must end below 2^52 without wrapping. */
    CHECK(fb_rejected(0xfffffffffffff000ull, 4096, 32, MB2_FB_RGB, xrgb, 6));
    CHECK(fb_rejected(1ull << 52, 4096, 32, MB2_FB_RGB, xrgb, 6));
    CHECK(fb_rejected((1ull << 52) - 4096, 4096, 32, MB2_FB_RGB, xrgb, 6));
    blk_init(&blk);
    blk_fb_at(&blk, (1ull << 52) - 4096ull * 768, 4096, 32, MB2_FB_RGB, xrgb, 6);
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.have_framebuffer); /* ends exactly at 2^52 */

    /* Indexed colour: the palette must lie inside the tag. */
    memset(pal, 0x55, sizeof pal);
    pal[0] = 16, pal[1] = 0;
    blk_init(&blk);
    blk_fb_at(&blk, 0xa0000, 1024, 8, MB2_FB_INDEXED, pal, sizeof pal);
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.have_framebuffer && info.fb.ncolors == 16);
    CHECK(info.fb.palette && info.fb.palette[0] == 0x55 && info.fb.palette[47] == 0x55);
    CHECK(fb_rejected(0xa0000, 1024, 8, MB2_FB_INDEXED, pal, sizeof pal - 1));
    pal[0] = 0xff, pal[1] = 0xff; /* 65535 colours claimed */
    CHECK(fb_rejected(0xa0000, 1024, 8, MB2_FB_INDEXED, pal, sizeof pal));
    CHECK(fb_rejected(0xa0000, 1024, 8, MB2_FB_INDEXED, pal, 1)); /* num_colors cut in half */

    /* EGA text cells are 16 bits; a zero-sized screen draws nothing. */
    CHECK(fb_rejected(0xb8000, 4096, 8, MB2_FB_EGA_TEXT, xrgb, 0));
    blk_init(&blk);
    blk_fb(&blk, 160, 0, 16, 6);
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && !info.have_framebuffer &&
          ndiag(&info, MB2_DIAG_BAD_FRAMEBUFFER) == 1);

    /* A type the parser does not know is kept: the console says it cannot draw on it. */
    blk_init(&blk);
    blk_fb_at(&blk, 0x80000000, 4096, 32, 7, xrgb, 0);
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.have_framebuffer && info.fb.type == 7 &&
          info.ndiags_total == 0);
}

/* An ELF sections tag in GRUB's layout with `have` bytes of headers. */
static uint32_t blk_elf(struct blk *k, uint32_t num, uint32_t entsize, uint32_t shndx, size_t have)
{
    struct pay p = {.n = 0};

    pay_u32(&p, num);
    pay_u32(&p, entsize);
    pay_u32(&p, shndx);
    pay_fill(&p, 0, have);
    return blk_tag(k, MB2_TAG_ELF_SECTIONS, &p);
}

/* Parse a block holding only the given ELF tag; true if it was diagnosed. */
static bool elf_rejected(uint32_t num, uint32_t entsize, uint32_t shndx, size_t have)
{
    uint32_t off;

    blk_init(&blk);
    off = blk_elf(&blk, num, entsize, shndx, have);
    blk_end(&blk);
    return mb2_parse(blk.b, blk.len, &info) == 0 && !info.have_elf_sections &&
           only_diag(&info, MB2_DIAG_BAD_ELF_SECTIONS, MB2_TAG_ELF_SECTIONS, off);
}

static void test_elf(void)
{
    CHECK(elf_rejected(4, 40, 1, 160));          /* Elf32_Shdr size */
    CHECK(elf_rejected(4, 64, 1, 255));          /* one byte short */
    CHECK(elf_rejected(4, 64, 4, 256));          /* shndx == num */
    CHECK(elf_rejected(0x80000000u, 64, 1, 64)); /* num*entsize past 2^32 */
    CHECK(elf_rejected(0x04000001u, 64, 1, 64)); /* wraps to 64 in 32 bits */
    blk_init(&blk);
    blk_elf(&blk, 0, 0, 0, 0); /* GRUB, non-ELF kernel */
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.ndiags_total == 0 && !info.have_elf_sections);
    blk_init(&blk);
    blk_raw(&blk, MB2_TAG_ELF_SECTIONS, 16, "\x01\0\0\0\x40\0\0\0", 8); /* spec 1.0 u16 */
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && ndiag(&info, MB2_DIAG_TAG_TOO_SMALL) == 1);
}

static void test_rsdp(void)
{
    struct pay p = {.n = 0};
    uint32_t off_short, off_sig;

    blk_init(&blk);
    pay_rsdp(&p, 19);
    off_short = blk_tag(&blk, MB2_TAG_ACPI_OLD, &p); /* v1 needs 20 */
    p.n = 0;
    pay_bytes(&p, "RSD PTX ", 8);
    pay_fill(&p, 0, 28);
    off_sig = blk_tag(&blk, MB2_TAG_ACPI_NEW, &p);
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.ndiags_total == 2);
    CHECK(info.diags[0].kind == MB2_DIAG_BAD_RSDP && info.diags[0].offset == off_short);
    CHECK(info.diags[1].kind == MB2_DIAG_BAD_RSDP && info.diags[1].offset == off_sig);
    CHECK(info.rsdp_old == NULL && info.rsdp_new == NULL);

    blk_init(&blk);
    p.n = 0;
    pay_rsdp(&p, 20); /* v1-sized copy in a v2 tag */
    blk_tag(&blk, MB2_TAG_ACPI_NEW, &p);
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && ndiag(&info, MB2_DIAG_BAD_RSDP) == 1 &&
          info.rsdp_new == NULL);
}

static void test_efi_mmap(void)
{
    struct pay p = {.n = 0};
    uint32_t off;

    blk_init(&blk);
    pay_u32(&p, 32);
    pay_u32(&p, 1);
    pay_fill(&p, 0, 64);
    off = blk_tag(&blk, MB2_TAG_EFI_MMAP, &p);
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.efi_mmap == NULL);
    CHECK(only_diag(&info, MB2_DIAG_BAD_EFI_MMAP, MB2_TAG_EFI_MMAP, off));

    blk_init(&blk);
    p.n = 0;
    pay_u32(&p, 40);
    pay_u32(&p, 1);
    pay_fill(&p, 0, 100); /* 2.5 descriptors */
    blk_tag(&blk, MB2_TAG_EFI_MMAP, &p);
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0 && info.efi_ndesc == 2 && info.ndiags_total == 0);
}

/* ---- diagnostics and names ------------------------------------------------ */

static void test_diag_overflow(void)
{
    struct pay p = {.n = 0};

    blk_init(&blk);
    for (uint32_t i = 0; i < MB2_MAX_DIAGS + 4; i++)
        blk_tag(&blk, 100 + i, &p);
    blk_end(&blk);
    CHECK(mb2_parse(blk.b, blk.len, &info) == 0);
    CHECK(info.ndiags == MB2_MAX_DIAGS && info.ndiags_total == MB2_MAX_DIAGS + 4);
    CHECK_EQ_U64(info.diags[MB2_MAX_DIAGS - 1].tag_type, 100 + MB2_MAX_DIAGS - 1);
}

static void test_names(void)
{
    bool distinct = true;

    for (int a = MB2_DIAG_UNKNOWN_TAG; a <= MB2_DIAG_BAD_EFI_MMAP; a++) {
        if (!mb2_diag_name(a) || !mb2_diag_name(a)[0])
            distinct = false;
        for (int b = a + 1; b <= MB2_DIAG_BAD_EFI_MMAP + 1; b++)
            if (strcmp(mb2_diag_name(a), mb2_diag_name(b)) == 0)
                distinct = false; /* b past the end: must not alias a kind */
    }
    CHECK(distinct);
    CHECK(strcmp(mb2_diag_name(MB2_DIAG_TRUNCATED_TAG), "truncated tag") == 0);
    CHECK(strcmp(mb2_mmap_type_name(MB2_MMAP_AVAILABLE), "available") == 0);
    CHECK(strcmp(mb2_mmap_type_name(MB2_MMAP_RESERVED), "reserved") == 0);
    CHECK(strcmp(mb2_mmap_type_name(MB2_MMAP_ACPI_RECLAIMABLE), "ACPI") == 0);
    CHECK(strcmp(mb2_mmap_type_name(MB2_MMAP_NVS), "NVS") == 0);
    CHECK(strcmp(mb2_mmap_type_name(MB2_MMAP_BADRAM), "bad") == 0);
    CHECK(strcmp(mb2_mmap_type_name(0), "unknown") == 0);
    CHECK(strcmp(mb2_mmap_type_name(0xf0000001u), "unknown") == 0);
}

int main(void)
{
    test_full();
    test_header();
    test_truncated();
    test_missing_end_and_early_end();
    test_unknown_and_too_small();
    test_duplicate();
    test_strings();
    test_modules();
    test_too_many_modules();
    test_mmap();
    test_mmap_too_many();
    test_framebuffer();
    test_framebuffer_colors();
    test_elf();
    test_rsdp();
    test_efi_mmap();
    test_diag_overflow();
    test_names();
    return check_done();
}
