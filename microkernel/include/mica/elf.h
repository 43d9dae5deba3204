/* The ELF64 structures the kernel reads (System V gABI). */
#ifndef MICA_ELF_H
#define MICA_ELF_H

#include <stdint.h>

typedef struct {
    uint32_t sh_name, sh_type;
    uint64_t sh_flags, sh_addr, sh_offset, sh_size;
    uint32_t sh_link, sh_info;
    uint64_t sh_addralign, sh_entsize;
} Elf64_Shdr;
_Static_assert(sizeof(Elf64_Shdr) == 64, "Elf64_Shdr");

typedef struct {
    uint32_t st_name;
    uint8_t st_info, st_other;
    uint16_t st_shndx;
    uint64_t st_value, st_size;
} Elf64_Sym;
_Static_assert(sizeof(Elf64_Sym) == 24, "Elf64_Sym");

#define SHT_NULL 0
#define SHT_SYMTAB 2
#define SHT_STRTAB 3
#define SHT_NOBITS 8
#define SHF_ALLOC 0x2
#define STT_FUNC 2
#define ELF64_ST_TYPE(i) ((i)&0xf)

#endif
