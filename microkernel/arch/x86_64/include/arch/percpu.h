/* Per-CPU data, reached through GS in the kernel (SWAPGS on every entry
 * from ring 3).  BEWARE: entry.asm uses the offsets of kstack_top and
 * user_rsp (through asm_offsets.inc). */
#ifndef MICA_ARCH_PERCPU_H
#define MICA_ARCH_PERCPU_H

#include <stddef.h>
#include <stdint.h>

struct thread;

struct percpu {
    uint64_t kstack_top;     /* top of the current thread's kernel stack */
    uint64_t user_rsp;       /* scratch for syscall_entry */
    struct thread *current;
};
_Static_assert(offsetof(struct percpu, kstack_top) == 0, "entry.asm: PERCPU_KSTACK_TOP");
_Static_assert(offsetof(struct percpu, user_rsp) == 8, "entry.asm: PERCPU_USER_RSP");

extern struct percpu percpu;

/* Point GS at percpu and program STAR/LSTAR/SFMASK/EFER.SCE for SYSCALL. */
void syscall_init(void);

#endif
