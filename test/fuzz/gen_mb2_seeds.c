/* Writes the seed corpus for fuzz_multiboot2 into the directory argv[1]:
 * a few realistic blocks as GRUB 2.06 lays them out (BIOS and UEFI) and a
 * few that are broken in one known way each.  Deterministic, so the
 * committed seeds can be regenerated and compared:
 *   cc -std=c11 -O2 -o /tmp/gen test/fuzz/gen_mb2_seeds.c
 *   /tmp/gen test/fuzz/corpus/multiboot2 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLK_MAX 16384

/* The block being written; len is the write offset. */
static uint8_t blk[BLK_MAX];
static size_t len;

/* A tag payload being assembled. */
static uint8_t pay[BLK_MAX];
static size_t np;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void u8(uint8_t v)
{
    pay[np++] = v;
}
static void u16(uint16_t v)
{
    u8((uint8_t)v);
    u8((uint8_t)(v >> 8));
}
static void u32(uint32_t v)
{
    put32(pay + np, v);
    np += 4;
}
static void u64(uint64_t v)
{
    u32((uint32_t)v);
    u32((uint32_t)(v >> 32));
}
static void bytes(const void *s, size_t n)
{
    memcpy(pay + np, s, n);
    np += n;
}
static void fill(uint8_t v, size_t n)
{
    memset(pay + np, v, n);
    np += n;
}
static void str(const char *s)
{
    bytes(s, strlen(s) + 1);
}

/* Start a block with only its 8-byte header. */
static void begin(void)
{
    memset(blk, 0, sizeof blk);
    len = 8;
    np = 0;
}

/* Emit the payload as a tag declaring `size` bytes (0: the real size).
 * Seeds are small and fixed, so running out of room is a bug here. */
static void tag_sized(uint32_t type, uint32_t size)
{
    if (np > sizeof pay || len + 8 + np + 8 > sizeof blk) {
        fprintf(stderr, "gen_mb2_seeds: block too large\n");
        exit(1);
    }
    put32(blk + len, type);
    put32(blk + len + 4, size ? size : (uint32_t)(8 + np));
    memcpy(blk + len + 8, pay, np);
    len = (len + 8 + np + 7) & ~(size_t)7;
    np = 0;
}

static void tag(uint32_t type)
{
    tag_sized(type, 0);
}

/* One multiboot2 memory map entry. */
static void mmap_entry(uint64_t base, uint64_t length, uint32_t type)
{
    u64(base);
    u64(length);
    u32(type);
    u32(0);
}

/* A module tag. */
static void module(uint32_t start, uint32_t end, const char *s)
{
    u32(start);
    u32(end);
    str(s);
    tag(3);
}

/* A signed RSDP copy of `n` bytes. */
static void rsdp(size_t n)
{
    bytes("RSD PTR ", 8);
    fill(0x5a, n - 8);
}

/* Close the block with an end tag (unless `no_end`) and write it out. */
static int finish(const char *dir, const char *name, int no_end)
{
    char path[1024];
    FILE *f;

    if (!no_end)
        tag(0);
    put32(blk, (uint32_t)len);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(blk, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

/* The usual QEMU/SeaBIOS e820 map (512 MiB). */
static void bios_map(void)
{
    u32(24);
    u32(0);
    mmap_entry(0x0, 0x9fc00, 1);
    mmap_entry(0x9fc00, 0x400, 2);
    mmap_entry(0xf0000, 0x10000, 2);
    mmap_entry(0x100000, 0x1fee0000, 1);
    mmap_entry(0x1ffe0000, 0x20000, 2);
    mmap_entry(0xfffc0000, 0x40000, 2);
    tag(6);
}

/* GRUB on a BIOS machine: EGA text console, old RSDP, no EFI tags. */
static int seed_bios(const char *dir)
{
    begin();
    u32(0x200000);
    tag(21);
    str("console=ttyS0 loglevel=debug");
    tag(1);
    str("GRUB 2.06");
    tag(2);
    u16(0x102);
    u16(0xf000);
    u32(0x8a4c);
    u16(0xf000);
    u16(0x40);
    u16(3);
    u16(0xfff0);
    u16(0xfff0);
    u16(0xfff0);
    tag(10);
    module(0x300000, 0x312345, "/boot/init");
    module(0x313000, 0x320000, "/boot/ramdisk arg=1");
    bios_map();
    u32(6);
    u32(64);
    u32(5);
    fill(0, 6 * 64);
    tag(9);
    u32(639);
    u32(523136);
    tag(4);
    u32(0x80);
    u32(0);
    u32(0xffffffff);
    tag(5);
    u64(0xb8000);
    u32(160);
    u32(80);
    u32(25);
    u8(16);
    u8(2);
    u16(0);
    tag(8);
    rsdp(20);
    tag(14);
    return finish(dir, "bios_grub.bin", 0);
}

/* GRUB on UEFI: RGB framebuffer, new RSDP, EFI system table and map. */
static int seed_uefi(const char *dir)
{
    begin();
    u32(0x200000);
    tag(21);
    str("quiet");
    tag(1);
    str("GRUB 2.06");
    tag(2);
    module(0x400000, 0x480000, "init");
    u32(24);
    u32(0);
    mmap_entry(0x0, 0xa0000, 1);
    mmap_entry(0x100000, 0x700000, 1);
    mmap_entry(0x800000, 0x8000, 4);
    mmap_entry(0x808000, 0x3000, 1);
    mmap_entry(0x80b000, 0x1000, 4);
    mmap_entry(0x80c000, 0x7772000, 1);
    mmap_entry(0x7f7e000, 0x82000, 3);
    mmap_entry(0xffc00000, 0x400000, 2);
    tag(6);
    u32(0);
    u32(0);
    u32(0);
    tag(9); /* GRUB's empty ELF tag */
    u64(0x80000000);
    u32(4096);
    u32(1024);
    u32(768);
    u8(32);
    u8(1);
    u16(0);
    u8(16);
    u8(8);
    u8(8);
    u8(8);
    u8(0);
    u8(8);
    tag(8);
    u64(0x7f9e018);
    tag(12);
    rsdp(20);
    tag(14);
    rsdp(36);
    tag(15);
    u32(48);
    u32(1);
    for (int i = 0; i < 4; i++) {
        u32(7);
        u32(0);
        u64((uint64_t)i << 20);
        u64(0);
        u64(256);
        u64(0xf);
        u64(0);
    }
    tag(17);
    return finish(dir, "uefi_grub.bin", 0);
}

/* UEFI with boot services kept: no memory maps at all. */
static int seed_efi_bs(const char *dir)
{
    begin();
    str("");
    tag(1);
    tag(18);
    u64(0x7e4a000);
    tag(20);
    u32(0x7e4b000);
    tag(19);
    u32(0x7f9e018);
    tag(11);
    return finish(dir, "efi_keep_bs.bin", 0);
}

/* Modules: valid, adjacent, empty, inverted, overlapping, unterminated. */
static int seed_modules(const char *dir)
{
    begin();
    bios_map();
    module(0x1000000, 0x1010000, "a");
    module(0x1010000, 0x1020000, "adjacent");
    module(0x1030000, 0x1030000, "empty");
    module(0x1050000, 0x1040000, "inverted");
    module(0x100f000, 0x1011000, "overlapping");
    u32(0x2000000);
    u32(0x2001000);
    bytes("nul-less", 8);
    tag(3);
    for (uint32_t i = 0; i < 8; i++)
        module(0x3000000 + i * 0x2000, 0x3000000 + i * 0x2000 + 0x1800, "m");
    return finish(dir, "modules.bin", 0);
}

/* The smallest legal block: header and end tag. */
static int seed_minimal(const char *dir)
{
    begin();
    return finish(dir, "minimal.bin", 0);
}

/* A tag that claims more bytes than the block has. */
static int seed_truncated(const char *dir)
{
    begin();
    str("ok");
    tag(1);
    str("GRUB");
    tag_sized(2, 200);
    return finish(dir, "truncated.bin", 0);
}

/* No end tag: the block just stops after its last tag. */
static int seed_missing_end(const char *dir)
{
    begin();
    bios_map();
    str("no end");
    tag(1);
    return finish(dir, "missing_end.bin", 1);
}

/* Duplicates of once-only tags and unknown tag types. */
static int seed_dup_unknown(const char *dir)
{
    begin();
    str("first");
    tag(1);
    str("second");
    tag(1);
    fill(0xab, 13);
    tag(42);
    bios_map();
    bios_map();
    u32(1);
    tag(21);
    u32(2);
    tag(21);
    tag(0x7fffffff);
    return finish(dir, "dup_unknown.bin", 0);
}

/* A hostile memory map: overlaps, wraps, huge, zero, unsorted, ragged. */
static int seed_mmap_adversarial(const char *dir)
{
    begin();
    u32(24);
    u32(0);
    mmap_entry(0x200000, 0x100000, 1);
    mmap_entry(0x100800, 0x180000, 1);         /* unaligned, overlaps */
    mmap_entry(0x180000, 0x1000, 2);           /* reserved inside available */
    mmap_entry(0x200000, 0x100000, 1);         /* duplicate */
    mmap_entry(0x300000, 0x100000, 1);         /* adjacent */
    mmap_entry(0x0, 0x400000, 5);              /* bad RAM over everything low */
    mmap_entry(0x100000000ull, UINT64_MAX, 1); /* wraps */
    mmap_entry(1ull << 52, 0x1000, 1);         /* above the limit */
    mmap_entry(0x500000, 0, 1);                /* zero length */
    mmap_entry(0x600000, 0x100000, 77);        /* unknown type */
    mmap_entry(0x580000, 0x200000, 1);         /* unknown inside available */
    fill(0xcc, 11);                            /* ragged tail */
    tag(6);
    return finish(dir, "mmap_adversarial.bin", 0);
}

/* One broken tag of each checked kind. */
static int seed_bad_fields(const char *dir)
{
    begin();
    bios_map();
    u32(4);
    u32(40);
    u32(1);
    fill(0, 160);
    tag(9); /* Elf32 entsize */
    u64(0xb8000);
    u32(10);
    u32(80);
    u32(25);
    u8(16);
    u8(2);
    u16(0);
    tag(8);
    bytes("RSD PTX ", 8);
    fill(0, 12);
    tag(14);
    rsdp(20);
    tag(15); /* too short for v2 */
    u32(24);
    u32(1);
    fill(0, 48);
    tag(17);
    bytes("unterminated", 12);
    tag(2);
    fill(0, 100);
    tag(7); /* VBE far too small */
    u32(24);
    u32(0);
    tag(6); /* duplicate, empty */
    return finish(dir, "bad_fields.bin", 0);
}

/* An 8-entry map with entries larger than 24 bytes (entry_size 32). */
static int seed_wide_mmap(const char *dir)
{
    begin();
    u32(32);
    u32(0);
    for (uint32_t i = 0; i < 8; i++) {
        mmap_entry((uint64_t)i << 24, 0x800000, 1 + i % 3);
        u64(0xdeadbeefcafef00dull);
    }
    tag(6);
    u32(0x1234000);
    tag(21);
    return finish(dir, "wide_mmap.bin", 0);
}

/* More modules than the parser keeps (it keeps 64). */
static int seed_many_modules(const char *dir)
{
    begin();
    bios_map();
    for (uint32_t i = 0; i < 70; i++)
        module(0x2000000 + i * 0x3000, 0x2000000 + i * 0x3000 + 0x2100, "");
    return finish(dir, "many_modules.bin", 0);
}

/* More map entries than the parser keeps (it keeps 256): alternating
 * available and reserved pages, as a badly fragmented firmware map. */
static int seed_big_mmap(const char *dir)
{
    begin();
    u32(24);
    u32(0);
    for (uint32_t i = 0; i < 270; i++)
        mmap_entry(0x100000 + (uint64_t)i * 0x1800, 0x1800, i % 2 ? 2 : 1);
    tag(6);
    return finish(dir, "big_mmap.bin", 0);
}

int main(int argc, char **argv)
{
    int err = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s output-directory\n", argv[0]);
        return 2;
    }
    err |= seed_bios(argv[1]);
    err |= seed_uefi(argv[1]);
    err |= seed_efi_bs(argv[1]);
    err |= seed_modules(argv[1]);
    err |= seed_minimal(argv[1]);
    err |= seed_truncated(argv[1]);
    err |= seed_missing_end(argv[1]);
    err |= seed_dup_unknown(argv[1]);
    err |= seed_mmap_adversarial(argv[1]);
    err |= seed_bad_fields(argv[1]);
    err |= seed_wide_mmap(argv[1]);
    err |= seed_many_modules(argv[1]);
    err |= seed_big_mmap(argv[1]);
    return err;
}
