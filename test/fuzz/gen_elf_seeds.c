/* Writes the seed corpus for fuzz_elf into the directory argv[1]: a few
 * valid static executables laid out the way GNU ld does it, and a few that
 * are broken in one known way each.  Files are kept small (offsets are
 * packed, keeping vaddr % 4096 == offset % 4096) so mutations hit headers.
 * The fuzz target reads a second address window from the last 16 bytes of
 * inputs of 80 bytes or more; each seed ends with one.  Deterministic, so
 * the committed seeds can be regenerated and compared:
 *   cc -std=c11 -O2 -o /tmp/gen test/fuzz/gen_elf_seeds.c
 *   /tmp/gen test/fuzz/corpus/elf */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX 8192
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_NOTE 4
#define PT_TLS 7
#define PT_GNU_STACK 0x6474e551u
#define PT_GNU_RELRO 0x6474e552u
#define R 4u
#define W 2u
#define X 1u
#define TOP 0x800000000000ull

/* The file being written; len is its size so far. */
static uint8_t f[FILE_MAX];
static size_t len;
static unsigned nph; /* program headers written, at offset 64 */

static void put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Start an x86_64 ET_EXEC with entry `entry` whose header table (at 64)
 * will hold `phnum` entries; the body follows it. */
static void begin(uint64_t entry, unsigned phnum)
{
    static const uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1};

    memset(f, 0, sizeof f);
    memcpy(f, ident, 16);
    put(f + 16, 2, 2);
    put(f + 18, 62, 2);
    put(f + 20, 1, 4);
    put(f + 24, entry, 8);
    put(f + 32, 64, 8);
    put(f + 52, 64, 2);
    put(f + 54, 56, 2);
    put(f + 56, phnum, 2);
    put(f + 58, 64, 2);
    nph = 0;
    len = 64 + (size_t)phnum * 56;
}

/* Write the next program header. */
static void ph(uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
    uint8_t *p = f + 64 + (size_t)nph++ * 56;

    put(p, type, 4);
    put(p + 4, flags, 4);
    put(p + 8, off, 8);
    put(p + 16, vaddr, 8);
    put(p + 24, vaddr, 8);
    put(p + 32, filesz, 8);
    put(p + 40, memsz, 8);
    put(p + 48, type == PT_LOAD ? 0x1000 : 8, 8);
}

/* Extend the file to n bytes, filled with a recognisable pattern. */
static void body(size_t n)
{
    for (; len < n; len++)
        f[len] = (uint8_t)(0x90 ^ len);
}

/* Append the fuzz target's second window, then write the file. */
static int finish(const char *dir, const char *name, uint64_t lo, uint64_t top)
{
    char path[4096];
    FILE *out;

    if (len + 16 > FILE_MAX) {
        fprintf(stderr, "gen_elf_seeds: %s too large\n", name);
        exit(1);
    }
    put(f + len, lo, 8);
    put(f + len + 8, top, 8);
    len += 16;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    out = fopen(path, "wb");
    if (out == NULL || fwrite(f, 1, len, out) != len || fclose(out) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

/* One executable segment holding everything. */
static int seed_minimal(const char *dir)
{
    begin(0x401078, 1);
    ph(PT_LOAD, R | X, 0x78, 0x401078, 0x40, 0x40);
    body(0xb8);
    return finish(dir, "minimal.elf", 0x1000, TOP);
}

/* `gcc -static` shape: headers R, text RX, rodata R, data+bss RW starting
 * mid-page, with notes, TLS, stack and RELRO headers. */
static int seed_gnu_ld(const char *dir)
{
    begin(0x401300, 8);
    ph(PT_LOAD, R, 0, 0x400000, 0x2a0, 0x2a0);
    ph(PT_LOAD, R | X, 0x2a0, 0x4012a0, 0x100, 0x100);
    ph(PT_LOAD, R, 0x3a0, 0x4023a0, 0x60, 0x60);
    ph(PT_LOAD, R | W, 0x400, 0x403400, 0x80, 0x2c00);
    ph(PT_NOTE, R, 0x240, 0x400240, 0x20, 0x20);
    ph(PT_TLS, R, 0x400, 0x403400, 0x10, 0x30);
    ph(PT_GNU_STACK, R | W, 0, 0, 0, 0);
    ph(PT_GNU_RELRO, R, 0x400, 0x403400, 0x20, 0x20);
    body(0x480);
    return finish(dir, "gnu_ld.elf", 0x400000, 0x406000); /* the span exactly */
}

/* Sixteen loads (the most kept) among 64 headers (the most accepted). */
static int seed_max_segments(const char *dir)
{
    begin(0x500e00, 64);
    for (unsigned i = 0; i < 16; i++)
        ph(PT_LOAD, i == 0 ? R | X : i % 2 ? R : R | W, 0xe00, 0x500e00 + i * 0x1000ull, 0x10, 0x100);
    while (nph < 64)
        ph(PT_GNU_STACK, R | W, 0, 0, 0, 0);
    body(0xe10);
    return finish(dir, "max_segments.elf", 0x1000, TOP);
}

/* Seventeen loads: one too many. */
static int seed_too_many(const char *dir)
{
    begin(0x500400, 17);
    for (unsigned i = 0; i < 17; i++)
        ph(PT_LOAD, i == 0 ? R | X : R, 0x400, 0x500400 + i * 0x1000ull, 0x10, 0x10);
    body(0x410);
    return finish(dir, "too_many.elf", 0x1000, TOP);
}

/* Text and data both writable and executable (ld -N). */
static int seed_wx(const char *dir)
{
    begin(0x4000b0, 2);
    ph(PT_LOAD, R | W | X, 0, 0x400000, 0x100, 0x800);
    ph(PT_GNU_STACK, R | W | X, 0, 0, 0, 0);
    body(0x100);
    return finish(dir, "wx.elf", 0x1000, TOP);
}

/* Text and data in distinct bytes of one page. */
static int seed_overlap(const char *dir)
{
    begin(0x4000b0, 2);
    ph(PT_LOAD, R | X, 0xb0, 0x4000b0, 0x50, 0x50);
    ph(PT_LOAD, R | W, 0x100, 0x400100, 0x20, 0x400);
    body(0x120);
    return finish(dir, "overlap.elf", 0x1000, TOP);
}

/* A dynamically linked program: PT_INTERP and PT_DYNAMIC. */
static int seed_dynamic(const char *dir)
{
    begin(0x401200, 4);
    ph(PT_INTERP, R, 0x120, 0x400120, 0x1c, 0x1c);
    ph(PT_LOAD, R, 0, 0x400000, 0x140, 0x140);
    ph(PT_LOAD, R | X, 0x200, 0x401200, 0x20, 0x20);
    ph(PT_DYNAMIC, R | W, 0x220, 0x402220, 0x20, 0x20);
    body(0x240);
    memcpy(f + 0x120, "/lib64/ld-linux-x86-64.so.2", 28);
    return finish(dir, "dynamic.elf", 0x1000, TOP);
}

/* A position-independent executable (ET_DYN). */
static int seed_pie(const char *dir)
{
    begin(0x1100, 1);
    put(f + 16, 3, 2);
    ph(PT_LOAD, R | X, 0x100, 0x1100, 0x20, 0x20);
    body(0x120);
    return finish(dir, "pie.elf", 0x1000, TOP);
}

/* File bytes and addresses whose ends wrap past 2^64. */
static int seed_wraps(const char *dir)
{
    int err = 0;

    begin(0x401100, 2);
    ph(PT_LOAD, R | X, 0x100, 0x401100, 0x20, 0x20);
    ph(PT_LOAD, R | W, 0xfffffffffffff100ull, 0x402100, 0x1000, 0x1000);
    body(0x120);
    err |= finish(dir, "wrap_offset.elf", 0x1000, TOP);
    begin(0x401100, 2);
    ph(PT_LOAD, R | X, 0x100, 0x401100, 0x20, 0x20);
    ph(PT_LOAD, R | W, 0x100, 0xfffffffffffff100ull, 0x20, 0x1000);
    body(0x120);
    err |= finish(dir, "wrap_vaddr.elf", 0, UINT64_MAX);
    return err;
}

/* A data segment ending exactly at the top of the user half. */
static int seed_top_edge(const char *dir)
{
    begin(0x1100, 2);
    ph(PT_LOAD, R | X, 0x100, 0x1100, 0x20, 0x20);
    ph(PT_LOAD, R | W, 0x120, TOP - 0x1000 + 0x120, 0x20, 0x1000 - 0x120);
    body(0x140);
    return finish(dir, "top_edge.elf", 0x1000, TOP - 1); /* second window: one byte short */
}

/* The program header table last, at an odd offset, after the segments. */
static int seed_tail_table(const char *dir)
{
    static const uint8_t code[16] = {0xeb, 0xfe};

    begin(0x401040, 0);
    put(f + 32, 0x61, 8); /* e_phoff */
    put(f + 56, 2, 2);
    memcpy(f + 0x40, code, sizeof code);
    {
        uint8_t *p = f + 0x61; /* written by hand: not at 64 */
        put(p, PT_LOAD, 4);
        put(p + 4, R | X, 4);
        put(p + 8, 0x40, 8);
        put(p + 16, 0x401040, 8);
        put(p + 32, 0x10, 8);
        put(p + 40, 0x10, 8);
        put(p + 48, 1, 8);
        p += 56;
        put(p, PT_LOAD, 4);
        put(p + 4, R | W, 4);
        put(p + 8, 0x50, 8);
        put(p + 16, 0x402050, 8);
        put(p + 32, 0x11, 8);
        put(p + 40, 0x2000, 8);
        put(p + 48, 0, 8);
    }
    len = 0x61 + 2 * 56;
    return finish(dir, "tail_table.elf", 0x401000, 0x404050);
}

/* Broken in the header: too short, 32-bit, big endian, bad table, another
 * machine, nothing to load. */
static int seed_headers(const char *dir)
{
    int err = 0;

    begin(0x401078, 3); /* header, table cut off */
    len = 64;
    err |= finish(dir, "truncated.elf", 0x1000, TOP);
    begin(0x401078, 1);
    f[4] = 1;
    ph(PT_LOAD, R | X, 0x78, 0x401078, 0x10, 0x10);
    body(0x88);
    err |= finish(dir, "elf32.elf", 0x1000, TOP);
    begin(0x401078, 1);
    f[5] = 2;
    ph(PT_LOAD, R | X, 0x78, 0x401078, 0x10, 0x10);
    body(0x88);
    err |= finish(dir, "bigendian.elf", 0x1000, TOP);
    begin(0x401078, 1);
    put(f + 54, 64, 2); /* e_phentsize of a wrong struct */
    ph(PT_LOAD, R | X, 0x78, 0x401078, 0x10, 0x10);
    body(0x88);
    err |= finish(dir, "phentsize.elf", 0x1000, TOP);
    begin(0x401078, 1);
    len = 40; /* 56 bytes with the window */
    err |= finish(dir, "short.elf", 0x1000, TOP);
    begin(0x401078, 1);
    put(f + 18, 183, 2); /* EM_AARCH64 */
    ph(PT_LOAD, R | X, 0x78, 0x401078, 0x10, 0x10);
    body(0x88);
    err |= finish(dir, "aarch64.elf", 0x1000, TOP);
    begin(0x401078, 2);
    ph(PT_GNU_STACK, R | W, 0, 0, 0, 0);
    ph(PT_LOAD, R | X, 0xb0, 0x4010b0, 0, 0); /* empty: does not count */
    body(0xc0);
    err |= finish(dir, "no_load.elf", 0x1000, TOP);
    return err;
}

/* Broken in a segment: entry outside text, offset incongruent with vaddr,
 * more file bytes than memory, below min_vaddr. */
static int seed_segments(const char *dir)
{
    int err = 0;

    begin(0x402100, 2);
    ph(PT_LOAD, R | X, 0xb0, 0x4010b0, 0x50, 0x50);
    ph(PT_LOAD, R | W, 0x100, 0x402100, 0x20, 0x400);
    body(0x120);
    err |= finish(dir, "bad_entry.elf", 0x1000, TOP);
    begin(0x4010b0, 1);
    ph(PT_LOAD, R | X, 0xb0, 0x4010b8, 0x50, 0x50);
    body(0x100);
    err |= finish(dir, "misaligned.elf", 0x1000, TOP);
    begin(0x4010b0, 1);
    ph(PT_LOAD, R | X, 0xb0, 0x4010b0, 0x60, 0x50);
    body(0x110);
    err |= finish(dir, "filesz.elf", 0x1000, TOP);
    begin(0x0b0, 1);
    ph(PT_LOAD, R | X, 0xb0, 0xb0, 0x50, 0x50);
    body(0x100);
    err |= finish(dir, "page_zero.elf", 0, TOP); /* valid in the second window */
    return err;
}

int main(int argc, char **argv)
{
    int err = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s output-directory\n", argv[0]);
        return 2;
    }
    err |= seed_minimal(argv[1]);
    err |= seed_gnu_ld(argv[1]);
    err |= seed_max_segments(argv[1]);
    err |= seed_too_many(argv[1]);
    err |= seed_wx(argv[1]);
    err |= seed_overlap(argv[1]);
    err |= seed_dynamic(argv[1]);
    err |= seed_pie(argv[1]);
    err |= seed_wraps(argv[1]);
    err |= seed_top_edge(argv[1]);
    err |= seed_tail_table(argv[1]);
    err |= seed_headers(argv[1]);
    err |= seed_segments(argv[1]);
    return err;
}
