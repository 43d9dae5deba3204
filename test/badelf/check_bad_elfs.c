/* Run libbase/elf.c's elf_parse, exactly as built for the kernel and init,
 * on every file gen_bad_elfs.c writes, and check that each is refused with
 * the error its name promises (README.md beside this file lists them) and
 * that valid.elf is accepted.  Prints "<file>: <elf_strerror>" per file,
 * with a FAIL note when the result is not the expected one; exits 1 if any
 * file is missing, a bad one is accepted or refused for another reason, or
 * the valid one is refused.
 *
 * The bounds are those of a 4-level user half: user_top 0x800000000000,
 * min_vaddr 0x1000 (page 0 stays unmapped).
 *
 * Build and run on the host, from the top of the tree:
 *     gcc -std=c11 -O1 -Wall -Wextra -Werror -Ilibbase/include \
 *         test/badelf/check_bad_elfs.c libbase/elf.c -o /tmp/chk
 *     /tmp/chk build/badelf */
#include <stdio.h>
#include <stdlib.h>

#include "base/elf.h"

#define USER_TOP 0x800000000000ull
#define MIN_VADDR 0x1000ull
#define MAX_FILE (1u << 20)

/* Every file gen_bad_elfs writes, and elf_parse's verdict on it. */
static const struct {
    const char *name;
    int expect;
} cases[] = {
    {"truncated.elf", ELF_ESHORT},
    {"bad_magic.elf", ELF_EMAGIC},
    {"class32.elf", ELF_ECLASS},
    {"big_endian.elf", ELF_EDATA},
    {"bad_version.elf", ELF_EVERSION},
    {"shared_object.elf", ELF_ETYPE},
    {"interp.elf", ELF_ETYPE},
    {"machine_aarch64.elf", ELF_EMACHINE},
    {"phdrs_past_end.elf", ELF_EPHDR},
    {"too_many_phdrs.elf", ELF_ETOOMANY},
    {"too_many_segments.elf", ELF_ETOOMANY},
    {"no_load.elf", ELF_ENOSEGMENTS},
    {"filesz_gt_memsz.elf", ELF_EFILESZ},
    {"filesz_past_end.elf", ELF_EFILESZ},
    {"page_zero.elf", ELF_ERANGE},
    {"kernel_half.elf", ELF_ERANGE},
    {"overlap.elf", ELF_EOVERLAP},
    {"same_page.elf", ELF_EOVERLAP},
    {"wx.elf", ELF_EWX},
    {"misaligned.elf", ELF_EALIGN},
    {"entry_outside.elf", ELF_EENTRY},
    {"valid.elf", ELF_OK},
};

/* Read dir/name into a buffer of exactly its size (so a read past the end
 * is a real overflow under a sanitizer); NULL if it cannot be read. */
static unsigned char *read_file(const char *dir, const char *name, size_t *size)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    static unsigned char tmp[MAX_FILE];
    size_t len = fread(tmp, 1, sizeof tmp, f);
    int bad = ferror(f) || !feof(f);
    fclose(f);
    unsigned char *buf = bad ? NULL : malloc(len ? len : 1);
    if (buf == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++)
        buf[i] = tmp[i];
    *size = len;
    return buf;
}

int main(int argc, char **argv)
{
    int failed = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: %s <directory written by gen_bad_elfs>\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t size = 0;
        unsigned char *file = read_file(argv[1], cases[i].name, &size);
        if (file == NULL) {
            printf("%s: cannot read  [FAIL]\n", cases[i].name);
            failed = 1;
            continue;
        }
        struct elf_image img;
        int err = elf_parse(file, size, MIN_VADDR, USER_TOP, &img);
        free(file);
        if (err == cases[i].expect) {
            printf("%s: %s\n", cases[i].name, elf_strerror(err));
        } else {
            printf("%s: %s  [FAIL: expected \"%s\"]\n", cases[i].name, elf_strerror(err),
                   elf_strerror(cases[i].expect));
            failed = 1;
        }
    }
    printf("%s\n", failed ? "FAIL" : "ok: every bad file refused as expected, valid.elf accepted");
    return failed;
}
