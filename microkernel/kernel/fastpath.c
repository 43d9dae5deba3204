/* The IPC fastpath for call and reply_recv with a short message (registers
 * only) to a partner that already waits.  syscall_entry jumps here first for
 * those two calls; every condition is one guarded early return, after which
 * the slow path (syscall_dispatch) does the whole job and gives the same
 * result — nothing is changed before the last check.  On success the
 * partner runs at once: no run-queue operation, no return through C.
 *
 * The IPC suite runs with the fastpath on and off (SYS_FASTPATH_SET) and
 * checks, through the counters below, that it is really taken. */
#include "mica/arch.h"
#include "mica/ipc.h"
#include "mica/sched.h"

/* The call numbers syscall_entry sends to fastpath_call and
 * fastpath_reply_recv; UINT64_MAX (no call) turns the fastpath off, so the
 * switch costs the hot path nothing. */
uint64_t fastpath_nr[2] = {SYS_CALL, SYS_REPLY_RECV};
uint64_t fastpath_calls, fastpath_reply_recvs;

void fastpath_set(bool on)
{
    fastpath_nr[0] = on ? SYS_CALL : UINT64_MAX;
    fastpath_nr[1] = on ? SYS_REPLY_RECV : UINT64_MAX;
}

#define unlikely(x) __builtin_expect(!!(x), 0)
/* Long-message words or passed handles in the info word: not for us. */
#define INFO_NOT_SHORT (0xffull << 16 | 0x7ull << 24)

void fastpath_call(struct trap_frame *tf);
void fastpath_reply_recv(struct trap_frame *tf);

void fastpath_call(struct trap_frame *tf)
{
    struct thread *caller = current;
    uint64_t h = arch_syscall_arg(tf, 0);
    if (unlikely(h - 1 >= HANDLES_PER_TASK - 1 || (arch_msg_info(tf) & INFO_NOT_SHORT)))
        return;
    struct handle *slot = &caller->task->handles->slot[h];
    struct endpoint *ep = (struct endpoint *)slot->obj;
    if (unlikely(ep == NULL || ep->hdr.type != MICA_OBJ_ENDPOINT || !(slot->rights & MICA_R_SEND)))
        return;
    struct list *first = ep->receivers.next;
    if (unlikely(first == &ep->receivers))
        return;
    struct thread *srv = list_entry(first, struct thread, queue_link);
    if (unlikely(srv->reply_to != NULL || srv->deadline != 0 || sched_outranked(srv->prio)))
        return;

    list_remove(&srv->queue_link);
    ipc_copy_regs(tf, srv->frame, slot->badge);
    srv->state = TS_RUNNABLE;
    srv->reply_to = caller;
    srv->reply_dead = 0;
    caller->replier = srv;
    caller->state = TS_REPLY_BLOCKED;
    fastpath_calls++;
    sched_switch(srv);
}

void fastpath_reply_recv(struct trap_frame *tf)
{
    struct thread *srv = current;
    struct thread *caller = srv->reply_to;
    uint64_t h = arch_syscall_arg(tf, 0);
    if (unlikely(caller == NULL || h - 1 >= HANDLES_PER_TASK - 1 || (arch_msg_info(tf) & INFO_NOT_SHORT) ||
                 arch_syscall_timeout(tf) != MICA_TIMEOUT_INFINITE))
        return;
    /* A caller in a call; a thread waiting for the answer to its page
     * fault is resumed by the slow path, which installs the mapping. */
    if (unlikely(caller->state != TS_REPLY_BLOCKED))
        return;
    struct handle *slot = &srv->task->handles->slot[h];
    struct endpoint *ep = (struct endpoint *)slot->obj;
    if (unlikely(ep == NULL || ep->hdr.type != MICA_OBJ_ENDPOINT || !(slot->rights & MICA_R_RECV)))
        return;
    if (unlikely(ep->senders.next != &ep->senders || sched_outranked(caller->prio)))
        return;

    ipc_copy_regs(tf, caller->frame, 0);
    caller->replier = NULL;
    caller->state = TS_RUNNABLE;
    srv->reply_to = NULL;
    srv->state = TS_RECV_BLOCKED;
    list_push_back(&ep->receivers, &srv->queue_link);
    fastpath_reply_recvs++;
    sched_switch(caller);
}
