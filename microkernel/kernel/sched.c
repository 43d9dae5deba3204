/* The scheduler; see include/mica/sched.h. */
#include "mica/sched.h"
#include "mica/arch.h"
#include "mica/ipc.h"
#include "mica/kernel.h"
#include "mica/log.h"
#include "mica/panic.h"

#define NPRIO (MICA_PRIO_MAX + 1)

struct thread *current;
volatile uint64_t ticks;
unsigned tick_us = 1000;

static struct list runq[NPRIO];
uint64_t runq_bits;          /* bit p set: runq[p] not empty */
static struct list timeouts; /* threads with a deadline, sorted */
static unsigned slice_left = 10;

extern char boot_stack_top[];

void sched_init(void)
{
    for (int p = 0; p < NPRIO; p++)
        list_init(&runq[p]);
    list_init(&timeouts);
}

void sched_wake(struct thread *t)
{
    t->state = TS_RUNNABLE;
    if (t == current || list_linked(&t->queue_link))
        return;
    list_push_back(&runq[t->prio], &t->queue_link);
    runq_bits |= 1ull << t->prio;
}

void sched_dequeue(struct thread *t)
{
    if (!list_linked(&t->queue_link) || t->state != TS_RUNNABLE)
        return;
    list_remove(&t->queue_link);
    if (list_empty(&runq[t->prio]))
        runq_bits &= ~(1ull << t->prio);
}

/* Highest priority with a runnable thread queued, or -1. */
static int top_prio(void)
{
    return runq_bits ? 63 - __builtin_clzll(runq_bits) : -1;
}

bool sched_should_preempt(void)
{
    return current != NULL && top_prio() > (int)current->prio;
}

/* Pop the first thread of the highest non-empty queue, or NULL. */
static struct thread *pick(void)
{
    int p = top_prio();
    if (p < 0)
        return NULL;
    struct thread *t = list_entry(list_first(&runq[p]), struct thread, queue_link);
    list_remove(&t->queue_link);
    if (list_empty(&runq[p]))
        runq_bits &= ~(1ull << p);
    return t;
}

__attribute__((noreturn, noinline)) void sched_switch_fpu(struct thread *t)
{
    fpu_switch_slow(t);
    arch_switch_space(t->task);
    arch_set_kernel_stack(t->kstack + PAGE_SIZE);
    arch_return_to_user(t->frame);
}

/* Run t, chosen by pick() or kept: a new time slice when it is another
 * thread, dead threads' memory freed, then sched_switch. */
static __attribute__((noreturn)) void run(struct thread *t)
{
    if (t != current)
        slice_left = TIMESLICE_US / tick_us;
    /* Still on the previous thread's stack, which may be a zombie's: only
     * the first word of its page is written by the free, far below us. */
    if (zombies_pending())
        reap_zombies();
    sched_switch(t);
}

__attribute__((noreturn)) void sched_exit(void)
{
    if (tasks_stopping())
        destroy_stopped_tasks(); /* may end the current thread */
    struct thread *cur = current;
    if (cur != NULL && cur->state == TS_RUNNABLE) {
        int top = top_prio();
        if (top < (int)cur->prio || (top == (int)cur->prio && !cur->rr_yield))
            run(cur);
        /* A thread that used up its slice or yielded goes behind its
         * peers; one preempted by a higher priority keeps its turn. */
        if (cur->rr_yield)
            list_push_back(&runq[cur->prio], &cur->queue_link);
        else
            list_push_front(&runq[cur->prio], &cur->queue_link);
        runq_bits |= 1ull << cur->prio;
    }
    struct thread *next = pick();
    if (next != NULL)
        run(next);
    if (zombies_pending())
        reap_zombies();
    current = NULL;
    arch_idle_loop((uint64_t)boot_stack_top);
}

void idle_check(void)
{
    if (runq_bits != 0)
        sched_exit();
}

void sched_set_timeout(struct thread *t, uint64_t us)
{
    /* Rounded up, at least one tick, and saturated: a timeout of 2^64-2 us
     * is half a million years, not a wrap to the next tick. */
    uint64_t n = us / tick_us + (us % tick_us != 0);
    if (n == 0)
        n = 1;
    t->deadline = n > UINT64_MAX - ticks ? UINT64_MAX : ticks + n;
    list_for_each(pos, &timeouts)
    {
        struct thread *o = list_entry(pos, struct thread, timer_link);
        if (o->deadline > t->deadline) {
            list_insert_before(pos, &t->timer_link);
            return;
        }
    }
    list_push_back(&timeouts, &t->timer_link);
}

void sched_cancel_timeout(struct thread *t)
{
    if (list_linked(&t->timer_link))
        list_remove(&t->timer_link);
    t->deadline = 0;
}

void sched_tick(void)
{
    ticks++;
    while (!list_empty(&timeouts)) {
        struct thread *t = list_entry(list_first(&timeouts), struct thread, timer_link);
        if (t->deadline > ticks)
            break;
        sched_cancel_timeout(t);
        ipc_timeout_expired(t);
    }
    if (current != NULL && --slice_left == 0) {
        slice_left = TIMESLICE_US / tick_us;
        /* Round-robin: a peer of the same priority runs next. */
        if (top_prio() >= (int)current->prio)
            current->rr_yield = 1;
    }
}
