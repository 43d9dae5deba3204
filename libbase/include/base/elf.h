/* ELF64 program images: a validating parser shared by the kernel and the
 * user-space servers that load programs.
 *
 * Nothing in the file is trusted.  elf_parse() checks the ELF header and
 * the program header table, then describes the PT_LOAD segments in a form
 * a loader can map without further checks: every segment lies inside the
 * user window, its file bytes lie inside the file, no two segments share a
 * page, none is both writable and executable, and the entry point is in an
 * executable segment.  Only static x86_64 executables (ET_EXEC) are loaded.
 *
 * What is checked, in the order problems are reported:
 *   1. the ELF header: size, magic, class, data, version, type, machine;
 *   2. the program header table: e_phentsize == 56, 1 <= e_phnum <= 64
 *      (more is ELF_ETOOMANY), the table after the ELF header and inside
 *      the file;
 *   3. each program header in table order, all checks of one entry before
 *      the next (see elf_parse below);
 *   4. at least one loadable segment, then the entry point.
 * Not looked at: e_ident[EI_OSABI] and padding, e_flags, e_ehsize, the
 * section header table, p_paddr, and program headers other than PT_LOAD,
 * PT_INTERP and PT_DYNAMIC (PT_GNU_STACK, PT_NOTE, PT_TLS, ... are skipped).
 *
 * Plain C with no kernel dependencies, so the host unit tests and the
 * libFuzzer target (test/fuzz/fuzz_elf.c) run exactly the kernel's code. */
#ifndef BASE_ELF_H
#define BASE_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 16 /* loadable segments kept in struct elf_image */
#define ELF_MAX_PHNUM 64    /* program headers accepted in one file */
#define ELF_PAGE_SIZE 4096u /* the granule segments are mapped and compared in */

/* Segment permissions, as in p_flags. */
#define ELF_PF_X 1u
#define ELF_PF_W 2u
#define ELF_PF_R 4u

/* One PT_LOAD segment: map [vaddr, vaddr + memsz), copy file bytes
 * [offset, offset + filesz) to vaddr and zero the rest.  Guarantees on an
 * ELF_OK result: memsz > 0; filesz <= memsz; offset + filesz <= the file
 * size (no wrap); vaddr % ELF_PAGE_SIZE == offset % ELF_PAGE_SIZE; the
 * page-rounded span lies in [min_vaddr, user_top); flags holds only
 * ELF_PF_R/W/X (other p_flags bits are dropped) and never both W and X. */
struct elf_segment {
    uint64_t vaddr, memsz, offset, filesz;
    uint32_t flags;
};

/* A parsed program.  seg[] keeps the program header table's order (not
 * sorted by address) and leaves out PT_LOAD entries with p_memsz == 0; no
 * two entries touch a common page.  lowest is the first segment page,
 * highest the end of the last one (exclusive): both page aligned, with
 * min_vaddr <= lowest < highest <= user_top. */
struct elf_image {
    uint64_t entry;
    unsigned nsegments;
    struct elf_segment seg[ELF_MAX_SEGMENTS];
    uint64_t lowest, highest;
};

/* Results of elf_parse; elf_strerror() turns one into a sentence. */
enum elf_error {
    ELF_OK = 0,
    ELF_ESHORT,      /* smaller than an ELF64 header (64 bytes) */
    ELF_EMAGIC,      /* no \x7fELF at the start */
    ELF_ECLASS,      /* not ELFCLASS64 */
    ELF_EDATA,       /* not ELFDATA2LSB (little endian) */
    ELF_EVERSION,    /* e_ident[EI_VERSION] or e_version not EV_CURRENT */
    ELF_ETYPE,       /* not ET_EXEC, or a PT_INTERP / PT_DYNAMIC header */
    ELF_EMACHINE,    /* not EM_X86_64 */
    ELF_EPHDR,       /* e_phentsize != 56, e_phnum == 0, or the table overlaps the
                        ELF header or runs past the file */
    ELF_ETOOMANY,    /* e_phnum > 64 or more than ELF_MAX_SEGMENTS loadable segments */
    ELF_ENOSEGMENTS, /* no PT_LOAD segment with p_memsz > 0 */
    ELF_EFILESZ,     /* p_filesz > p_memsz, or p_offset + p_filesz past the file */
    ELF_ERANGE,      /* page-rounded segment below min_vaddr or above user_top, or wraps */
    ELF_EOVERLAP,    /* two loadable segments share a page (after rounding to pages) */
    ELF_EWX,         /* a segment both writable and executable */
    ELF_EALIGN,      /* p_vaddr, p_offset differ mod 4096, or p_align not 0/1/power of two */
    ELF_EENTRY,      /* e_entry not inside [vaddr, vaddr + memsz) of an executable segment */
};

/* Validate the ELF64 file [file, file + size) and describe its PT_LOAD
 * segments in *out.  The file may sit at any alignment; it is only read,
 * byte by byte, never past file + size, and never written.  `user_top` is
 * the first address above the user half, `min_vaddr` the lowest address a
 * segment may use (e.g. 0x1000 keeps page 0 unmapped).  Both bounds apply
 * to whole pages: a segment's span rounded out to pages must fit in
 * [min_vaddr, user_top), so unaligned bounds are rounded inwards.
 *
 * Each PT_LOAD entry is checked in this order: ELF_EFILESZ (filesz >
 * memsz); skipped if memsz == 0; ELF_EFILESZ (file bytes past the end);
 * ELF_EALIGN; ELF_ERANGE; ELF_EWX; ELF_ETOOMANY (a 17th segment);
 * ELF_EOVERLAP (against the earlier segments).  PT_INTERP and PT_DYNAMIC
 * give ELF_ETYPE when they are met.  Segments sharing a page are refused
 * even when their bytes do not overlap: a page has one set of permissions.
 *
 * Returns ELF_OK, or the first problem found; on failure every field of
 * *out is zero.
 * `out` must not overlap the file. */
int elf_parse(const void *file, size_t size, uint64_t min_vaddr, uint64_t user_top, struct elf_image *out);

/* A short description of an elf_parse result, e.g. "segment is both
 * writable and executable"; never NULL, also for unknown values. */
const char *elf_strerror(int err);

/* Find the function symbol of an ELF64 file whose address range holds
 * addr (from .symtab and its string table, every offset bounds-checked
 * against size).  On success store its name (NUL-terminated inside the
 * file) and the offset of addr into it.  For crash reports: a file without
 * symbols, or a garbled one, just gives false. */
bool elf_symbol(const void *file, size_t size, uint64_t addr, const char **name, uint64_t *offset);

#endif
