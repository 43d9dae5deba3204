/* The GDT: flat kernel and user segments in the order SYSCALL/SYSRET need
 * (see arch/layout.h), and the TSS that holds the IST stacks. */
#include <stdint.h>

#include "arch/desc.h"
#include "arch/layout.h"

struct tss kernel_tss __attribute__((aligned(16)));

static uint8_t ist_stacks[IST_COUNT][IST_STACK_SIZE] __attribute__((aligned(16)));

/* 7 slots: null, kernel code, kernel data, user code32, user data, user
 * code, and the 16-byte TSS descriptor taking two. */
static uint64_t gdt[8] __attribute__((aligned(16)));

#define SEG_KCODE GDT_DESC_KERNEL_CODE /* boot.asm's GDT has the same two */
#define SEG_KDATA GDT_DESC_KERNEL_DATA
#define SEG_UCODE32 0x00cffa000000ffffull
#define SEG_UDATA 0x00cff2000000ffffull
#define SEG_UCODE 0x00affa000000ffffull

_Static_assert(GDT_KERNEL_CS == 1 * 8 && GDT_KERNEL_DS == 2 * 8 && GDT_USER_CS32 == 3 * 8 &&
                   GDT_USER_DS == 4 * 8 && GDT_USER_CS == 5 * 8 && GDT_TSS == 6 * 8,
               "GDT slots match arch/layout.h");

/* Fill the two-slot 64-bit TSS descriptor. */
static void set_tss_descriptor(uint64_t *slot, uint64_t base, uint32_t limit)
{
    slot[0] = (limit & 0xffffull) | ((base & 0xffffffull) << 16) | (0x89ull << 40) |
              (((uint64_t)limit >> 16 & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    slot[1] = base >> 32;
}

void gdt_init(void)
{
    for (int i = 0; i < IST_COUNT; i++)
        kernel_tss.ist[i] = (uint64_t)&ist_stacks[i][IST_STACK_SIZE];
    kernel_tss.iomap_base = sizeof kernel_tss; /* no I/O bitmap: ring 3 gets no ports */

    gdt[0] = 0;
    gdt[1] = SEG_KCODE;
    gdt[2] = SEG_KDATA;
    gdt[3] = SEG_UCODE32;
    gdt[4] = SEG_UDATA;
    gdt[5] = SEG_UCODE;
    set_tss_descriptor(&gdt[6], (uint64_t)&kernel_tss, sizeof kernel_tss - 1);

    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) gdtr = {sizeof gdt - 1, (uint64_t)gdt};
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %w2, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "xorl %%eax, %%eax\n\t"
                     "movw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs\n\t"
                     "ltr %w3"
                     :
                     : "m"(gdtr), "i"(GDT_KERNEL_CS), "r"(GDT_KERNEL_DS), "r"(GDT_TSS)
                     : "rax", "memory");
}
