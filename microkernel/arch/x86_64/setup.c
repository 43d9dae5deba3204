/* The x86_64 steps of the boot sequence that kmain (kernel/main.c) calls
 * through mica/arch.h, in this order: arch_cpu_init, arch_paging_init,
 * arch_protect, arch_log_tables, arch_syscall_init. */
#include <stdbool.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "arch/desc.h"
#include "arch/paging.h"
#include "arch/percpu.h"
#include "arch/trap.h"
#include "mica/arch.h"
#include "mica/log.h"

uint64_t arch_timestamp(void)
{
    return rdtsc();
}

void arch_cpu_init(unsigned levels)
{
    paging_levels = levels;
    gdt_init();
    idt_init();
    cpu_detect();
}

const char *arch_cpu_vendor(void)
{
    return cpu_features.vendor;
}

void arch_log_paging(bool forced_4)
{
    if (paging_levels == 5)
        LOG_OK("paging: 5-level (LA57), 57-bit virtual addresses");
    else if (cpu_features.la57 && forced_4)
        LOG_OK("paging: 4-level (paging=4 on the command line; the CPU has LA57)");
    else
        LOG_OK("paging: 4-level, 48-bit virtual addresses (the CPU has no LA57)");
}

uint64_t arch_boot_root(void)
{
    return read_cr3();
}

void arch_paging_init(const struct pm_set *ram, uint64_t (*alloc)(void))
{
    paging_init(ram, alloc);
}

unsigned arch_paging_levels(void)
{
    return paging_levels;
}

uint64_t arch_kernel_root(void)
{
    return kernel_root();
}

void arch_protect(void)
{
    cpu_harden();
}

void arch_log_tables(void)
{
    LOG_OK("descriptor tables: GDT with TSS, IDT with %d exception vectors, IST for #DF/NMI/#MC",
           VEC_EXCEPTIONS);
}

void arch_syscall_init(void)
{
    syscall_init();
}
