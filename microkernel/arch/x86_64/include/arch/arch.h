/* The x86_64 half of mica/arch.h, and the one arch header the generic core
 * reaches (only through mica/arch.h): the machine constants it may use
 * (PAGE_SIZE, ...), the architecture's parts of its objects, and the
 * saved registers by role (struct trap_frame with arch/regs.h's accessors),
 * and the inline switch functions of the fastpath and the scheduler
 * (arch/percpu.h, arch/fpu.h).  Nothing
 * here includes a generic header. */
#ifndef MICA_ARCH_ARCH_H
#define MICA_ARCH_ARCH_H

#include "arch/fpu.h"
#include "arch/layout.h"
#include "arch/percpu.h"
#include "arch/regs.h"
#include "arch/types.h"

/* The fault numbers the generic core records itself (mica/arch.h). */
#define ARCH_FAULT_PAGE VEC_PF       /* a page fault nobody resolved */
#define ARCH_FAULT_PROTECTION VEC_GP /* an act the kernel refuses as a protection fault */

#endif
