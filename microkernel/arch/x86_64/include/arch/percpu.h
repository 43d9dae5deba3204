/* Per-CPU data, reached through GS in the kernel (SWAPGS on every entry
 * from ring 3).  BEWARE: entry.asm uses the offsets of kstack_top and
 * user_rsp (through asm_offsets.inc). */
#ifndef MICA_ARCH_PERCPU_H
#define MICA_ARCH_PERCPU_H

#include <stddef.h>
#include <stdint.h>

struct percpu {
    uint64_t kstack_top; /* top of the current thread's kernel stack */
    uint64_t user_rsp;   /* scratch for syscall_entry */
    uint64_t cr3;        /* what CR3 holds now (saves reading it) */
};
_Static_assert(offsetof(struct percpu, kstack_top) == 0, "entry.asm: PERCPU_KSTACK_TOP");
_Static_assert(offsetof(struct percpu, user_rsp) == 8, "entry.asm: PERCPU_USER_RSP");

extern struct percpu percpu;

#include "arch/cpu.h"
#include "arch/desc.h"
#include "arch/types.h"

/* Load the address space t; with PCIDs, without flushing its TLB entries
 * (unless they went stale while it was not loaded). */
static inline void arch_switch_space_inline(struct arch_task *t)
{
    uint64_t cr3 = t->cr3;
    if (cr3 == percpu.cr3)
        return;
    percpu.cr3 = cr3;
    if (t->pcid != 0 && !t->tlb_stale)
        cr3 |= 1ull << 63; /* keep this PCID's entries */
    t->tlb_stale = 0;
    write_cr3(cr3);
}

/* The kernel stack the next entry from ring 3 uses. */
static inline void arch_set_kernel_stack_inline(uint64_t top)
{
    percpu.kstack_top = top;
    kernel_tss.rsp[0] = top;
}

/* Point GS at percpu and program STAR/LSTAR/SFMASK/EFER.SCE for SYSCALL. */
void syscall_init(void);

#endif
