/* Descriptor tables: GDT with a TSS, and the IDT. */
#ifndef MICA_ARCH_DESC_H
#define MICA_ARCH_DESC_H

#include <stdint.h>

/* IST slots (1-based, as the IDT gate encodes them). */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3
#define IST_COUNT 3

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "64-bit TSS is 104 bytes");

extern struct tss kernel_tss;

/* Load the kernel GDT (with the TSS) and reload every segment register. */
void gdt_init(void);
/* Load the IDT with the 32 exception gates. */
void idt_init(void);

#endif
