/* Kernel symbol lookup; see include/mica/ksym.h.
 *
 * GRUB copies every section the image has, allocated or not, and gives the
 * table of section headers with sh_addr set to where each one now is: the
 * linked (virtual) address for the kernel's own sections, a physical
 * address for .symtab and .strtab, which it puts in memory it got from
 * the free RAM.  That is why the boot code reserves those ranges too. */
#include <stdbool.h>
#include <stddef.h>

#include "base/str.h"
#include "boot/multiboot2.h"
#include "mica/arch.h"
#include "mica/elf.h"
#include "mica/ksym.h"

static const Elf64_Sym *symtab;
static unsigned long nsyms;
static const char *strtab;
static uint64_t strtab_size;

/* Largest table we accept: a sanity bound against a corrupt header. */
#define KSYM_MAX_BYTES (64ull << 20)

/* Copy section header i (bounds were checked by the multiboot2 parser). */
static bool section(const struct mb2_info *mb, uint32_t i, Elf64_Shdr *out)
{
    if (!mb->have_elf_sections || i >= mb->elf_num || mb->elf_entsize < sizeof(Elf64_Shdr))
        return false;
    const unsigned char *p = (const unsigned char *)mb->elf_shdrs + (uint64_t)i * mb->elf_entsize;
    unsigned char *o = (unsigned char *)out;
    for (size_t k = 0; k < sizeof *out; k++)
        o[k] = p[k];
    return true;
}

/* True when a non-allocated section's data lies in the first 4 GiB, where
 * the boot loader puts it and the direct map already covers it. */
static bool loaded_low(const Elf64_Shdr *sh)
{
    return sh->sh_addr != 0 && sh->sh_size != 0 && sh->sh_size <= KSYM_MAX_BYTES &&
           sh->sh_addr + sh->sh_size <= (4ull << 30) && !(sh->sh_flags & SHF_ALLOC) &&
           sh->sh_type != SHT_NOBITS;
}

unsigned long ksym_loaded_ranges(const struct mb2_info *mb, struct ksym_range *out, unsigned long max)
{
    unsigned long n = 0;
    Elf64_Shdr sh;
    for (uint32_t i = 0; mb->have_elf_sections && i < mb->elf_num && n < max; i++)
        if (section(mb, i, &sh) && loaded_low(&sh))
            out[n++] = (struct ksym_range){sh.sh_addr, sh.sh_addr + sh.sh_size};
    return n;
}

unsigned long ksym_init(const struct mb2_info *mb)
{
    Elf64_Shdr sym, str;
    symtab = NULL;
    nsyms = 0;
    for (uint32_t i = 0; mb->have_elf_sections && i < mb->elf_num; i++) {
        if (!section(mb, i, &sym) || sym.sh_type != SHT_SYMTAB)
            continue;
        if (!loaded_low(&sym) || sym.sh_entsize != sizeof(Elf64_Sym) || !section(mb, sym.sh_link, &str) ||
            str.sh_type != SHT_STRTAB || !loaded_low(&str))
            return 0;
        symtab = phys_to_virt(sym.sh_addr);
        nsyms = sym.sh_size / sizeof(Elf64_Sym);
        strtab = phys_to_virt(str.sh_addr);
        strtab_size = str.sh_size;
        break;
    }
    unsigned long funcs = 0;
    for (unsigned long i = 0; i < nsyms; i++)
        if (ELF64_ST_TYPE(symtab[i].st_info) == STT_FUNC)
            funcs++;
    return funcs;
}

/* Name of symbol s, or NULL if its name does not lie inside .strtab. */
static const char *sym_name(const Elf64_Sym *s)
{
    if (s->st_name >= strtab_size)
        return NULL;
    const char *name = strtab + s->st_name;
    if (str_nlen(name, strtab_size - s->st_name) == strtab_size - s->st_name)
        return NULL; /* not terminated inside the table */
    return name;
}

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
    const Elf64_Sym *best = NULL;
    for (unsigned long i = 0; i < nsyms; i++) {
        const Elf64_Sym *s = &symtab[i];
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_value > addr)
            continue;
        if (best == NULL || s->st_value > best->st_value)
            best = s;
    }
    /* The nearest function below addr must also contain it; a sizeless one
     * (an assembly label) is taken to run up to the next symbol. */
    if (best == NULL || (best->st_size != 0 && addr - best->st_value >= best->st_size))
        return NULL;
    *offset = addr - best->st_value;
    return sym_name(best);
}

uint64_t ksym_address(const char *name)
{
    for (unsigned long i = 0; i < nsyms; i++) {
        const char *n = sym_name(&symtab[i]);
        if (n && ELF64_ST_TYPE(symtab[i].st_info) == STT_FUNC && str_eq(n, name))
            return symtab[i].st_value;
    }
    return 0;
}
