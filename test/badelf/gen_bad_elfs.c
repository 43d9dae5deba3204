/* Write a set of malformed ELF64 programs, and one valid one, into the
 * directory named by argv[1]: GRUB modules for testing that init's loader
 * (libbase/elf.c) refuses each with a clear message and the system goes on.
 * Each file is named after what is wrong with it; README.md beside this
 * file lists them with the elf_parse error each must give, and
 * check_bad_elfs.c checks exactly that on the host.
 *
 * Every file starts from the same tiny program: the ELF header, the
 * program header table right after it, then 11 bytes of code; header 0
 * loads the whole file (offset 0) read+execute at 0x400000, and the entry
 * point is the code.  The code is
 *     mov $20, %eax        SYS_THREAD_EXIT (microkernel/abi/mica/abi.h)
 *     xor %edi, %edi       exit code 0
 *     syscall
 *     ud2                  never reached
 * so the valid file, loaded by init, ends cleanly.  Each bad file changes
 * one thing, so that elf_parse's first complaint is the intended one.
 *
 * Build and run on the host:
 *     gcc -std=c11 -O1 -Wall -Wextra -Werror test/badelf/gen_bad_elfs.c -o /tmp/gen
 *     /tmp/gen build/badelf */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_FILE 8192
#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define BASE 0x400000ull /* where header 0 loads the file */
#define PAGE 0x1000ull

/* ELF constants (System V gABI and its x86_64 supplement). */
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ELFDATA2MSB 2
#define EV_CURRENT 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_X86_64 62
#define EM_AARCH64 183
#define PT_NULL 0
#define PT_LOAD 1
#define PT_INTERP 3
#define PT_NOTE 4
#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

/* Offsets in the ELF header and in a program header. */
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define EH_TYPE 16
#define EH_MACHINE 18
#define EH_VERSION 20
#define EH_ENTRY 24
#define EH_PHOFF 32
#define EH_EHSIZE 52
#define EH_PHENTSIZE 54
#define EH_PHNUM 56
#define PH_TYPE 0
#define PH_FLAGS 4
#define PH_OFFSET 8
#define PH_VADDR 16
#define PH_PADDR 24
#define PH_FILESZ 32
#define PH_MEMSZ 40
#define PH_ALIGN 48

static const uint8_t exit_code[] = {
    0xb8, 0x14, 0x00, 0x00, 0x00, /* mov $20, %eax */
    0x31, 0xff,                   /* xor %edi, %edi */
    0x0f, 0x05,                   /* syscall */
    0x0f, 0x0b,                   /* ud2 */
};

/* A file being built: its bytes and where its code sits. */
struct elf {
    uint8_t b[MAX_FILE];
    size_t size;
    uint64_t code_off;
};

/* Store the n-byte little-endian value v at offset off. */
static void put(struct elf *e, uint64_t off, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        e->b[off + i] = (uint8_t)(v >> (8 * i));
}

/* Offset of program header i (the table follows the ELF header). */
static uint64_t ph(unsigned i)
{
    return EHDR_SIZE + (uint64_t)i * PHDR_SIZE;
}

/* Fill program header i. */
static void set_phdr(struct elf *e, unsigned i, uint32_t type, uint32_t flags, uint64_t offset,
                     uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
    uint64_t p = ph(i);
    put(e, p + PH_TYPE, type, 4);
    put(e, p + PH_FLAGS, flags, 4);
    put(e, p + PH_OFFSET, offset, 8);
    put(e, p + PH_VADDR, vaddr, 8);
    put(e, p + PH_PADDR, vaddr, 8);
    put(e, p + PH_FILESZ, filesz, 8);
    put(e, p + PH_MEMSZ, memsz, 8);
    put(e, p + PH_ALIGN, PAGE, 8);
}

/* The valid tiny program with nph program headers: header 0 loads the whole
 * file R-X at BASE, the others are PT_NULL until a case sets them. */
static void tiny(struct elf *e, unsigned nph)
{
    memset(e, 0, sizeof *e);
    e->code_off = (ph(nph) + 15) & ~15ull;
    e->size = e->code_off + sizeof exit_code;
    memcpy(e->b + e->code_off, exit_code, sizeof exit_code);

    e->b[0] = 0x7f;
    e->b[1] = 'E';
    e->b[2] = 'L';
    e->b[3] = 'F';
    e->b[EI_CLASS] = ELFCLASS64;
    e->b[EI_DATA] = ELFDATA2LSB;
    e->b[EI_VERSION] = EV_CURRENT;
    put(e, EH_TYPE, ET_EXEC, 2);
    put(e, EH_MACHINE, EM_X86_64, 2);
    put(e, EH_VERSION, EV_CURRENT, 4);
    put(e, EH_ENTRY, BASE + e->code_off, 8);
    put(e, EH_PHOFF, EHDR_SIZE, 8);
    put(e, EH_EHSIZE, EHDR_SIZE, 2);
    put(e, EH_PHENTSIZE, PHDR_SIZE, 2);
    put(e, EH_PHNUM, nph, 2);
    set_phdr(e, 0, PT_LOAD, PF_R | PF_X, 0, BASE, e->size, e->size);
}

/* ---- the cases: each changes one thing of the tiny program ------------- */

static void valid(struct elf *e)
{
    tiny(e, 1);
}

static void truncated(struct elf *e)
{
    tiny(e, 1);
    e->size = 10;
}

static void bad_magic(struct elf *e)
{
    tiny(e, 1);
    e->b[1] = 'X';
}

static void class32(struct elf *e)
{
    tiny(e, 1);
    e->b[EI_CLASS] = ELFCLASS32;
}

static void big_endian(struct elf *e)
{
    tiny(e, 1);
    e->b[EI_DATA] = ELFDATA2MSB;
}

static void bad_version(struct elf *e)
{
    tiny(e, 1);
    put(e, EH_VERSION, 2, 4);
}

static void shared_object(struct elf *e)
{
    tiny(e, 1);
    put(e, EH_TYPE, ET_DYN, 2);
}

/* Header 1 asks for a dynamic linker. */
static void interp(struct elf *e)
{
    tiny(e, 2);
    set_phdr(e, 1, PT_INTERP, PF_R, e->code_off, BASE + e->code_off, 1, 1);
}

static void machine_aarch64(struct elf *e)
{
    tiny(e, 1);
    put(e, EH_MACHINE, EM_AARCH64, 2);
}

/* The table starts 28 bytes before the end of the file. */
static void phdrs_past_end(struct elf *e)
{
    tiny(e, 1);
    put(e, EH_PHOFF, e->size - PHDR_SIZE / 2, 8);
}

/* 65 program headers, the table wholly inside the file. */
static void too_many_phdrs(struct elf *e)
{
    tiny(e, 65);
}

/* 17 loadable segments (one more than elf.h's ELF_MAX_SEGMENTS), each on
 * its own page: the file mapped 17 times, read-only after the first. */
static void too_many_segments(struct elf *e)
{
    tiny(e, 17);
    for (unsigned i = 1; i < 17; i++)
        set_phdr(e, i, PT_LOAD, PF_R, 0, BASE + i * PAGE, e->size, e->size);
}

/* Header 0 is a PT_NOTE: nothing to load. */
static void no_load(struct elf *e)
{
    tiny(e, 1);
    put(e, ph(0) + PH_TYPE, PT_NOTE, 4);
}

static void filesz_gt_memsz(struct elf *e)
{
    tiny(e, 1);
    put(e, ph(0) + PH_MEMSZ, e->size - 1, 8);
}

/* The segment claims one byte more of file than there is. */
static void filesz_past_end(struct elf *e)
{
    tiny(e, 1);
    put(e, ph(0) + PH_FILESZ, e->size + 1, 8);
    put(e, ph(0) + PH_MEMSZ, e->size + 1, 8);
}

/* Loaded at address 0, below min_vaddr (page 0 stays unmapped). */
static void page_zero(struct elf *e)
{
    tiny(e, 1);
    put(e, ph(0) + PH_VADDR, 0, 8);
    put(e, EH_ENTRY, e->code_off, 8);
}

/* Loaded in the kernel half, at the kernel image's own address. */
static void kernel_half(struct elf *e)
{
    const uint64_t kbase = 0xffffffff80000000ull;
    tiny(e, 1);
    put(e, ph(0) + PH_VADDR, kbase, 8);
    put(e, EH_ENTRY, kbase + e->code_off, 8);
}

/* Header 1 maps the same bytes at the same address again, read-only. */
static void overlap(struct elf *e)
{
    tiny(e, 2);
    set_phdr(e, 1, PT_LOAD, PF_R, 0, BASE, e->size, e->size);
}

/* Header 1 is a .bss right after the code: no byte in common, but on the
 * same page, which cannot be both R-X and RW. */
static void same_page(struct elf *e)
{
    tiny(e, 2);
    set_phdr(e, 1, PT_LOAD, PF_R | PF_W, e->size, BASE + e->size, 0, 0x100);
}

static void wx(struct elf *e)
{
    tiny(e, 1);
    put(e, ph(0) + PH_FLAGS, PF_R | PF_W | PF_X, 4);
}

/* p_vaddr and p_offset differ modulo the page size. */
static void misaligned(struct elf *e)
{
    tiny(e, 1);
    put(e, ph(0) + PH_VADDR, BASE + 0x10, 8);
    put(e, EH_ENTRY, BASE + 0x10 + e->code_off, 8);
}

/* Header 1 maps the file again, read-only, one page up; the entry point is
 * the code's copy there: mapped, but not executable. */
static void entry_outside(struct elf *e)
{
    tiny(e, 2);
    set_phdr(e, 1, PT_LOAD, PF_R, 0, BASE + PAGE, e->size, e->size);
    put(e, EH_ENTRY, BASE + PAGE + e->code_off, 8);
}

static const struct {
    const char *name;
    void (*make)(struct elf *e);
} cases[] = {
    {"truncated.elf", truncated},
    {"bad_magic.elf", bad_magic},
    {"class32.elf", class32},
    {"big_endian.elf", big_endian},
    {"bad_version.elf", bad_version},
    {"shared_object.elf", shared_object},
    {"interp.elf", interp},
    {"machine_aarch64.elf", machine_aarch64},
    {"phdrs_past_end.elf", phdrs_past_end},
    {"too_many_phdrs.elf", too_many_phdrs},
    {"too_many_segments.elf", too_many_segments},
    {"no_load.elf", no_load},
    {"filesz_gt_memsz.elf", filesz_gt_memsz},
    {"filesz_past_end.elf", filesz_past_end},
    {"page_zero.elf", page_zero},
    {"kernel_half.elf", kernel_half},
    {"overlap.elf", overlap},
    {"same_page.elf", same_page},
    {"wx.elf", wx},
    {"misaligned.elf", misaligned},
    {"entry_outside.elf", entry_outside},
    {"valid.elf", valid},
};

/* Write e to dir/name; 0 on success. */
static int write_file(const char *dir, const char *name, const struct elf *e)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        fprintf(stderr, "gen_bad_elfs: path too long: %s/%s\n", dir, name);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    size_t written = fwrite(e->b, 1, e->size, f);
    if (fclose(f) != 0 || written != e->size) {
        fprintf(stderr, "gen_bad_elfs: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct elf e;
    if (argc != 2) {
        fprintf(stderr, "usage: %s <output directory>\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cases[i].make(&e);
        if (write_file(argv[1], cases[i].name, &e) != 0)
            return 1;
    }
    return 0;
}
