/* The x86_64 parts of the generic kernel objects: struct task holds a
 * struct arch_task, struct thread a struct arch_thread (mica/object.h).
 * Only arch/x86_64/ reads or writes their fields; the generic core passes
 * them to the arch_* functions of mica/arch.h.  Plain types, no includes
 * of the generic headers, so these headers never include them backwards. */
#ifndef MICA_ARCH_TYPES_H
#define MICA_ARCH_TYPES_H

#include <stdint.h>

struct thread;

/* An address space as the MMU sees it.  Written by space.c. */
struct arch_task {
    uint64_t cr3;      /* root | pcid: what CR3 holds while it runs */
    uint16_t pcid;     /* 0 when PCID is off */
    uint8_t tlb_stale; /* a mapping changed while another space was loaded */
};

/* A thread's FPU/vector state.  Written by fpu.c. */
struct arch_thread {
    void *fpu;              /* its register save area (a pool object) */
    struct thread *fpu_key; /* its thread once it has used the FPU, else NULL */
};

#endif
