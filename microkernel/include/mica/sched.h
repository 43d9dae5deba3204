/* The scheduler: fixed priorities (MICA_PRIO_MIN..MAX), round-robin within
 * a priority, an idle loop that halts.  The kernel follows the "interrupt
 * model": a thread that blocks keeps no kernel continuation — its whole
 * state is its saved user frame — so switching to a thread means returning
 * to user space on its frame. */
#ifndef MICA_SCHED_H
#define MICA_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "mica/object.h"

/* The running thread (NULL while idle). */
extern struct thread *current;

/* Timer ticks since boot, and the tick length: 1000 us, or what
 * timer_hz= on the command line asks (the interrupt-storm test runs the IPC
 * suite at 20 kHz).  A time slice is 10 ms whatever the tick. */
extern volatile uint64_t ticks;
extern unsigned tick_us;
#define TIMESLICE_US 10000u

/* Empty run queues and timeout list (before the first thread). */
void sched_init(void);

/* Mark t runnable and put it at the tail of its priority's run queue,
 * unless it is the running thread or queued already. */
void sched_wake(struct thread *t);
/* Take a runnable t off the run queue if it is there. */
void sched_dequeue(struct thread *t);

/* The FPU leg of sched_switch, out of line: load t's FPU registers, then
 * switch as sched_switch does. */
__attribute__((noreturn)) void sched_switch_fpu(struct thread *t);

/* Make t the running thread and return to user space on its saved frame:
 * the one switch, used by the scheduler (sched.c) and, inline, by the IPC
 * fastpath.  The caller chose t by the scheduler's rule and has dealt with
 * the time slice.  The rare FPU leg is a call, so the common leg keeps no
 * register live across one. */
static inline __attribute__((noreturn, always_inline)) void sched_switch(struct thread *t)
{
    t->rr_yield = 0;
    current = t;
    if (__builtin_expect(fpu_switch_needed(&t->arch), 0))
        sched_switch_fpu(t);
    arch_switch_space_inline(&t->task->arch);
    arch_set_kernel_stack_inline(t->kstack + PAGE_SIZE);
    arch_return_to_user(t->frame);
}

/* Leave the kernel: destroy the tasks stopped by faults, then run the best
 * runnable thread (current, if it is still runnable, no higher priority
 * waits and it has not yielded or used up its slice while a peer waits),
 * or idle.  Never returns. */
__attribute__((noreturn)) void sched_exit(void);

/* True when a thread of higher priority than the current one is runnable. */
bool sched_should_preempt(void);

/* Bit p is set when a thread of priority p waits on the run queue. */
extern uint64_t runq_bits;

/* True when a queued runnable thread has a priority above prio. */
static inline bool sched_outranked(unsigned prio)
{
    return (runq_bits >> prio) > 1;
}

/* The timer interrupt: count, expire timeouts, rotate the time slice. */
void sched_tick(void);

/* Arm t's timeout: after `us` microseconds (rounded up to whole ticks, at
 * least one; saturated, never wrapping) sched_tick hands t to
 * ipc_timeout_expired, which ends its wait (MICA_ETIMEOUT, or MICA_OK for a
 * sleep). */
void sched_set_timeout(struct thread *t, uint64_t us);
/* Disarm t's timeout, if it has one. */
void sched_cancel_timeout(struct thread *t);

/* Called from the idle loop with interrupts off: switches to a thread if
 * one is runnable (does not return then). */
void idle_check(void);

#endif
