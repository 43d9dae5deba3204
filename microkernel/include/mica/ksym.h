/* Kernel symbols for dumps and backtraces, from the ELF section headers
 * the boot loader passes (multiboot2 tag 9) and the .symtab/.strtab it
 * loads beside the image. */
#ifndef MICA_KSYM_H
#define MICA_KSYM_H

#include <stdint.h>

struct mb2_info;

/* Find .symtab and its .strtab among the boot loader's section headers and
 * check them; returns the number of function symbols usable (0: none). */
unsigned long ksym_init(const struct mb2_info *mb);

/* Name of the function containing addr and the offset into it, or NULL. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);

/* Address of the named function, or 0. */
uint64_t ksym_address(const char *name);

/* Physical ranges the symbol data occupies (reserved from the free set). */
struct ksym_range {
    uint64_t base, end;
};
unsigned long ksym_loaded_ranges(const struct mb2_info *mb, struct ksym_range *out, unsigned long max);

#endif
