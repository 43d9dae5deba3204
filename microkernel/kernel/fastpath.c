/* The IPC fastpath for call and reply_recv with a short message (registers
 * only) between threads where the partner is already waiting: straight
 * line, one guarded early return per condition (the slow path then does the
 * whole job and gives the same result), then a direct switch to the partner
 * without touching the run queues.  Tests run the IPC suite with it on and
 * off (SYS_FASTPATH_SET). */
#include "arch/trap.h"
#include "mica/arch.h"
#include "mica/ipc.h"
#include "mica/sched.h"
#include "mica/space.h"

int fastpath_enabled = 1;
uint64_t fastpath_calls, fastpath_reply_recvs;

#define unlikely(x) __builtin_expect(!!(x), 0)

/* Copy the four message registers and the info word; the partner's call
 * or receive returns MICA_OK with `badge`. */
static inline void copy_regs(const struct trap_frame *from, struct trap_frame *to, uint64_t badge)
{
    to->rsi = from->rsi;
    to->rdx = from->rdx;
    to->r10 = from->r10;
    to->r8 = from->r8;
    to->r9 = from->r9;
    to->rdi = badge;
    to->rax = MICA_OK;
}

/* True when no runnable thread outranks t (so running t next is what the
 * scheduler would choose). */
static inline bool may_run_next(const struct thread *t)
{
    return !sched_should_preempt_by(t->prio);
}

void fastpath_call(struct trap_frame *tf)
{
    struct thread *caller = current;
    struct task *task = caller->task;
    uint64_t h = tf->rdi;
    if (unlikely(h == 0 || h >= HANDLES_PER_TASK))
        return;
    struct handle *slot = &task->handles->slot[h];
    struct endpoint *ep = (struct endpoint *)slot->obj;
    if (unlikely(ep == NULL || ep->hdr.type != MICA_OBJ_ENDPOINT || !(slot->rights & MICA_R_SEND)))
        return;
    if (unlikely((tf->rsi & (0xffull << 16 | 0x7ull << 24)) != 0))
        return; /* long message or handles */
    if (unlikely(list_empty(&ep->receivers)))
        return;
    struct thread *srv = list_entry(ep->receivers.next, struct thread, queue_link);
    if (unlikely(srv->reply_to != NULL || srv->deadline != 0 || !may_run_next(srv) ||
                 srv->frame->rip >= user_top))
        return;

    list_remove(&srv->queue_link);
    copy_regs(tf, srv->frame, slot->badge);
    srv->blocked_on = NULL;
    srv->state = TS_RUNNABLE;
    srv->reply_to = caller;
    srv->reply_dead = 0;
    caller->replier = srv;
    caller->state = TS_REPLY_BLOCKED;
    fastpath_calls++;
    sched_switch_direct(srv);
}

void fastpath_reply_recv(struct trap_frame *tf)
{
    struct thread *srv = current;
    struct thread *caller = srv->reply_to;
    if (unlikely(caller == NULL || caller->state != TS_REPLY_BLOCKED))
        return;
    if (unlikely((tf->rsi & (0xffull << 16 | 0x7ull << 24)) != 0 || tf->r12 != MICA_TIMEOUT_INFINITE))
        return;
    /* The endpoint was looked up (with the receive right) by the caller. */
    struct endpoint *ep = (struct endpoint *)srv->task->handles->slot[tf->rdi].obj;
    if (unlikely(!list_empty(&ep->senders) || !may_run_next(caller) || caller->frame->rip >= user_top))
        return;

    copy_regs(tf, caller->frame, 0);
    caller->replier = NULL;
    caller->state = TS_RUNNABLE;
    srv->reply_to = NULL;
    srv->state = TS_RECV_BLOCKED;
    srv->blocked_on = ep;
    list_push_back(&ep->receivers, &srv->queue_link);
    fastpath_reply_recvs++;
    sched_switch_direct(caller);
}
