/* Multiboot2 boot information: a bounds-checked parser.
 *
 * The boot loader hands the kernel a block of tags.  Nothing in it is
 * trusted: every tag is checked against the block's size and its own
 * declared size before a field is read, and a tag that is truncated,
 * duplicated, malformed or unknown is recorded as a diagnostic and skipped.
 * The parser reads only the bytes [info, info + avail) and never writes them.
 * It is plain C with no kernel dependencies, so the host unit tests and the
 * libFuzzer target run exactly the code the kernel runs. */
#ifndef MICA_BOOT_MULTIBOOT2_H
#define MICA_BOOT_MULTIBOOT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the loader leaves in EAX, and what starts the kernel's header
 * (boot.asm, through asm_offsets.inc). */
#define MB2_BOOTLOADER_MAGIC 0x36d76289u
#define MB2_HEADER_MAGIC 0xe85250d6u

/* Tag types of the multiboot2 specification (section 3.6). */
enum mb2_tag_type {
    MB2_TAG_END = 0,
    MB2_TAG_CMDLINE = 1,
    MB2_TAG_LOADER_NAME = 2,
    MB2_TAG_MODULE = 3,
    MB2_TAG_BASIC_MEMINFO = 4,
    MB2_TAG_BOOTDEV = 5,
    MB2_TAG_MMAP = 6,
    MB2_TAG_VBE = 7,
    MB2_TAG_FRAMEBUFFER = 8,
    MB2_TAG_ELF_SECTIONS = 9,
    MB2_TAG_APM = 10,
    MB2_TAG_EFI32 = 11,
    MB2_TAG_EFI64 = 12,
    MB2_TAG_SMBIOS = 13,
    MB2_TAG_ACPI_OLD = 14,
    MB2_TAG_ACPI_NEW = 15,
    MB2_TAG_NETWORK = 16,
    MB2_TAG_EFI_MMAP = 17,
    MB2_TAG_EFI_BS = 18,
    MB2_TAG_EFI32_IH = 19,
    MB2_TAG_EFI64_IH = 20,
    MB2_TAG_LOAD_BASE_ADDR = 21,
};

/* Memory map entry types (multiboot2 3.6.8). Anything else is unusable. */
enum mb2_mmap_type {
    MB2_MMAP_AVAILABLE = 1,
    MB2_MMAP_RESERVED = 2,
    MB2_MMAP_ACPI_RECLAIMABLE = 3,
    MB2_MMAP_NVS = 4,
    MB2_MMAP_BADRAM = 5,
};

/* Why a tag (or part of one) was not trusted. */
enum mb2_diag_kind {
    MB2_DIAG_UNKNOWN_TAG = 1,  /* tag type not known: skipped */
    MB2_DIAG_TRUNCATED_TAG,    /* tag size < 8 or runs past total_size / avail */
    MB2_DIAG_TAG_TOO_SMALL,    /* known tag shorter than its fixed fields */
    MB2_DIAG_DUPLICATE_TAG,    /* second tag of a kind allowed once: ignored */
    MB2_DIAG_BAD_STRING,       /* string not NUL-terminated inside its tag */
    MB2_DIAG_BAD_MMAP_ENTRY,   /* entry_size < 24 or not a multiple of 8, or ragged entries */
    MB2_DIAG_BAD_MODULE,       /* mod_end < mod_start, or overlaps another module */
    MB2_DIAG_TOO_MANY,         /* more modules / mmap entries than the parser keeps */
    MB2_DIAG_BAD_ELF_SECTIONS, /* entsize or count inconsistent with the tag size */
    MB2_DIAG_BAD_FRAMEBUFFER,  /* framebuffer fields inconsistent, or colour info truncated */
    MB2_DIAG_BAD_RSDP,         /* RSDP tag too short for its revision or bad signature */
    MB2_DIAG_MISSING_END,      /* no end tag before total_size */
    MB2_DIAG_BAD_EFI_MMAP,     /* descriptor size too small */
};

/* One diagnostic: which tag, where (byte offset in the block), and why. */
struct mb2_diag {
    enum mb2_diag_kind kind;
    uint32_t tag_type;
    uint32_t offset;
};

#define MB2_MAX_MODULES 64
#define MB2_MAX_MMAP 256
#define MB2_MAX_DIAGS 16

struct mb2_module {
    uint64_t start;     /* physical, first byte */
    uint64_t end;       /* physical, one past the last byte */
    const char *string; /* GRUB command line of the module; never NULL ("" if empty) */
};

struct mb2_mmap_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type; /* enum mb2_mmap_type or any other value */
};

/* Framebuffer types (multiboot2 3.6.12). */
enum mb2_fb_type {
    MB2_FB_INDEXED = 0,  /* a palette follows */
    MB2_FB_RGB = 1,      /* direct colour: position and size of each field follow */
    MB2_FB_EGA_TEXT = 2, /* 16-bit character + attribute cells; width/height in cells */
};

/* Framebuffer: [addr, addr + pitch * height) of physical memory. */
struct mb2_framebuffer {
    uint64_t addr;
    uint32_t pitch, width, height;
    uint8_t bpp, type;
    /* MB2_FB_RGB: bit position and width of each colour field in a pixel. */
    uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
    /* MB2_FB_INDEXED: ncolors palette entries of 3 bytes (r, g, b) inside the tag. */
    uint16_t ncolors;
    const uint8_t *palette;
};

/* The parsed view.  Pointers point into the caller's block. */
struct mb2_info {
    uint32_t total_size;     /* as declared, after validation */
    const char *cmdline;     /* NULL when absent */
    const char *loader_name; /* NULL when absent */

    struct mb2_module modules[MB2_MAX_MODULES];
    size_t nmodules;

    struct mb2_mmap_entry mmap[MB2_MAX_MMAP];
    size_t nmmap;
    bool have_mmap;

    bool have_meminfo;
    uint32_t mem_lower_kib, mem_upper_kib;

    bool have_framebuffer;
    struct mb2_framebuffer fb;

    /* ELF section headers of the kernel image (Elf64_Shdr when entsize is 64). */
    bool have_elf_sections;
    const void *elf_shdrs;
    uint32_t elf_num, elf_entsize, elf_shndx;

    /* ACPI RSDP copies (tag payload); length in bytes of the copy. */
    const void *rsdp_old;
    uint32_t rsdp_old_len;
    const void *rsdp_new;
    uint32_t rsdp_new_len;

    /* EFI memory map (raw descriptors). */
    const void *efi_mmap;
    uint32_t efi_desc_size, efi_desc_version, efi_ndesc;

    bool have_load_base;
    uint32_t load_base;

    struct mb2_diag diags[MB2_MAX_DIAGS];
    size_t ndiags;       /* kept in diags[] */
    size_t ndiags_total; /* including those past MB2_MAX_DIAGS */
};

/* Parse the block at `info`, of which `avail` bytes may be read.
 * Returns 0 when the header is usable (total_size >= 16, <= avail, 8-aligned
 * reserved field ignored) — even if individual tags were skipped, which the
 * diagnostics say — and -1 when the header itself is unusable, in which case
 * `out` is zeroed apart from its diagnostics. */
int mb2_parse(const void *info, size_t avail, struct mb2_info *out);

/* Short human-readable name of a diagnostic kind, for logs. */
const char *mb2_diag_name(enum mb2_diag_kind kind);

/* Human-readable name of a memory map type ("available", "reserved",
 * "ACPI", "NVS", "bad", "type N" is not produced: returns "unknown"). */
const char *mb2_mmap_type_name(uint32_t type);

#endif
