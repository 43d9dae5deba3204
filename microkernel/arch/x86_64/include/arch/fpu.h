/* Per-thread x87/SSE/AVX register state ("FPU state").
 *
 * Every thread has its own save area (a pool object, tag "FPU state"),
 * created clean.  The registers are switched eagerly, but only for threads
 * that have used them: a thread starts with CR0.TS set and its first FPU or
 * SSE instruction traps (#NM) once, which marks it as a user.  The registers
 * hold either the state of fpu_owner (TS clear) or the clean initial state
 * (fpu_owner NULL, TS set) — never a state that belongs to a thread other
 * than the one running, so no lazy-restore leak (LazyFP) is possible.
 * docs/kernel.md says why and what it costs. */
#ifndef MICA_ARCH_FPU_H
#define MICA_ARCH_FPU_H

#include <stdbool.h>
#include <stddef.h>

#include "arch/types.h"

/* The thread whose registers the FPU holds now, or NULL: the clean state. */
extern struct thread *fpu_owner;

/* arch_fpu_init, arch_fpu_thread_init/_free/_dying: mica/arch.h.  The
 * inline functions below take a thread's arch part (struct thread.arch),
 * so that this header needs no generic one. */

/* Make the registers right for t: save the owner's, load t's (or the clean
 * state when t has never used them).  The caller checked fpu_switch_needed. */
void fpu_switch_slow(struct thread *t);

/* True when running t needs the registers changed.  t->fpu_key is t once t
 * has used the FPU, else NULL, i.e. exactly what fpu_owner must be. */
static inline bool fpu_switch_needed(const struct arch_thread *t)
{
    return t->fpu_key != fpu_owner;
}

/* Switch the FPU registers to thread t if they are not right yet.  A macro,
 * so that this header needs no definition of struct thread. */
#define arch_fpu_switch_inline(t)                                                                            \
    do {                                                                                                     \
        if (__builtin_expect(fpu_switch_needed(&(t)->arch), 0))                                              \
            fpu_switch_slow(t);                                                                              \
    } while (0)

/* #NM from ring 3: the current thread's first FPU use.  True when it was
 * (the thread resumes and retries); false for any other #NM (a fault). */
bool fpu_first_use(struct thread *t);

#endif
