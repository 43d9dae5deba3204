/* IPC slow path: endpoints, replies, notifications, sleep, timeouts and
 * partner death.  See docs/abi.md for the semantics every case follows.
 *
 * A blocked sender keeps its message in its own saved registers (and IPC
 * buffer) until a receiver takes it, so nothing is copied twice. */
#include <stddef.h>

#include "ipc_msg.h"
#include "mica/arch.h"
#include "mica/bochs.h"
#include "mica/ipc.h"
#include "mica/kernel.h"
#include "mica/sched.h"
#include "mica/space.h"

/* Direct-map pointer to t's IPC buffer if it is mapped user (and writable
 * when `write`), else NULL.  The buffer lies in one page by construction. */
static struct mica_ipc_buffer *ipc_buffer(struct thread *t, int write)
{
    if (t->ipc_buffer == 0)
        return NULL;
    return space_user_ptr(t->task, t->ipc_buffer, write);
}

/* The rights of handle h of task ctx (ipc_msg_check's lookup). */
static bool task_handle_rights(void *ctx, uint32_t h, uint32_t *rights)
{
    struct handle *slot = handle_get(ctx, h);
    if (slot == NULL)
        return false;
    *rights = slot->rights;
    return true;
}

/* Check the message s is sending (info in its RSI): sizes, its buffer, the
 * handles it passes.  Returns 0 or the error the sender gets. */
static int check_message(struct thread *s)
{
    if (s->in_fault)
        return 0; /* the kernel's own fault message: registers only */
    uint64_t info = arch_msg_info(s->frame);
    if (MICA_INFO_WORDS(info) == 0 && MICA_INFO_HANDLES(info) == 0)
        return 0; /* the common case: registers only, no buffer to look up */
    return ipc_msg_check(info, ipc_buffer(s, 0), task_handle_rights, s->task);
}

/* Check that receiver r can take the message of s: its buffer and room for
 * the handles.  Returns 0 or the error the receiver gets. */
static int check_receiver(struct thread *s, struct thread *r)
{
    if (s->in_fault)
        return 0;
    uint64_t info = arch_msg_info(s->frame);
    uint32_t words = MICA_INFO_WORDS(info), nh = MICA_INFO_HANDLES(info);
    if (words == 0 && nh == 0)
        return 0;
    if (ipc_buffer(r, 1) == NULL)
        return MICA_EFAULT;
    if (nh && !handle_has_room(r->task, nh))
        return MICA_ENOHANDLES;
    return 0;
}

/* Copy the (checked) message of s to r, with `badge`; r's status is 0. */
static void transfer(struct thread *s, struct thread *r, uint64_t badge)
{
    struct trap_frame *from = s->frame, *to = r->frame;
    if (s->in_fault) {
        arch_set_msg_info(to, MICA_INFO(MICA_LABEL_FAULT, 0, 0));
        arch_set_msg_reg(to, 0, s->fault_addr);
        arch_set_msg_reg(to, 1, s->fault_access);
        arch_set_msg_reg(to, 2, s->fault_rip);
        arch_set_msg_reg(to, 3, s->id);
        arch_set_msg_badge(to, badge);
        arch_set_status(to, MICA_OK);
        return;
    }
    uint64_t info = arch_msg_info(from);
    ipc_copy_regs(from, to, badge);
    uint32_t words = MICA_INFO_WORDS(info), nh = MICA_INFO_HANDLES(info);
    if (words == 0 && nh == 0)
        return;
    struct mica_ipc_buffer *sb = ipc_buffer(s, 0), *rb = ipc_buffer(r, 1);
    for (uint32_t i = 0; i < words; i++)
        rb->words[i] = sb->words[i];
    for (uint32_t i = 0; i < nh; i++) {
        struct handle *h = handle_get(s->task, sb->send_handles[i]);
        rb->recv_handles[i] = handle_install(r->task, h->obj, sb->send_rights[i] & h->rights, h->badge);
    }
}

/* A fault the pager could not serve (or whose pager is gone): the
 * faulting thread's task is stopped. */
static void fault_unserved(struct thread *c, const char *why)
{
    c->in_fault = 0;
    if (!c->task->dying)
        task_stop_for_fault(c->task, ARCH_FAULT_PAGE, c->fault_addr, c->fault_rip, c->fault_access, why);
}

/* Set t's status register and make it runnable. */
static void wake_with(struct thread *t, int64_t status)
{
    sched_cancel_timeout(t);
    arch_set_status(t->frame, (uint64_t)status);
    sched_wake(t);
}

/* Block current on `queue` in `state`, with a timeout. */
static void block_on(struct list *queue, uint8_t state, uint64_t timeout)
{
    struct thread *t = current;
    t->state = state;
    list_push_back(queue, &t->queue_link);
    if (timeout != MICA_TIMEOUT_INFINITE)
        sched_set_timeout(t, timeout);
}

/* Server r will never answer the caller it owes a reply: that caller
 * gets `status`, or, waiting on a fault, its task stops for `why`. */
static void abandon_caller(struct thread *r, int64_t status, const char *why)
{
    struct thread *c = r->reply_to;
    c->replier = NULL;
    r->reply_to = NULL;
    if (c->state == TS_FAULT_BLOCKED)
        fault_unserved(c, why);
    else
        wake_with(c, status);
}

/* A message from s was delivered: a caller now waits for r's reply,
 * anyone else goes on. */
static void after_delivery(struct thread *s, struct thread *r)
{
    if (s->is_call || s->in_fault) {
        if (r->reply_to != NULL) /* r took a new call without answering the last one */
            abandon_caller(r, MICA_ENOREPLY, "the pager took another message instead of answering");
        r->reply_to = s;
        r->reply_dead = 0;
        s->replier = r;
        s->state = s->in_fault ? TS_FAULT_BLOCKED : TS_REPLY_BLOCKED;
        s->is_call = 0;
    } else {
        wake_with(s, MICA_OK);
    }
}

void ipc_send(struct handle *h, uint64_t timeout, int is_call)
{
    struct thread *s = current;
    struct endpoint *ep = (struct endpoint *)h->obj;
    int err = check_message(s);
    if (err) {
        arch_set_status(s->frame, (uint64_t)err);
        return;
    }
    if (ep->recv_handles == 0) {
        arch_set_status(s->frame, (uint64_t)MICA_EDEAD); /* nobody can ever receive it */
        return;
    }
    s->send_badge = h->badge;
    s->is_call = (uint8_t)is_call;
    while (!list_empty(&ep->receivers)) {
        struct thread *r = list_entry(list_first(&ep->receivers), struct thread, queue_link);
        list_remove(&r->queue_link);
        err = check_receiver(s, r);
        if (err) {
            wake_with(r, err);
            continue;
        }
        transfer(s, r, h->badge);
        wake_with(r, MICA_OK);
        if (is_call) {
            s->is_call = 1;
            s->state = TS_RUNNABLE;
            after_delivery(s, r);
        } else {
            arch_set_status(s->frame, MICA_OK);
        }
        return;
    }
    if (timeout == MICA_TIMEOUT_POLL) {
        s->is_call = 0;
        arch_set_status(s->frame, (uint64_t)MICA_ETIMEOUT);
        return;
    }
    block_on(&ep->senders, TS_SEND_BLOCKED, timeout);
}

void ipc_recv(struct handle *h, uint64_t timeout)
{
    struct thread *r = current;
    struct endpoint *ep = (struct endpoint *)h->obj;
    while (!list_empty(&ep->senders)) {
        struct thread *s = list_entry(list_first(&ep->senders), struct thread, queue_link);
        int err = check_message(s);
        if (err) {
            /* The sender's message went bad while it waited: its error. */
            list_remove(&s->queue_link);
            s->is_call = 0;
            wake_with(s, err);
            continue;
        }
        err = check_receiver(s, r);
        if (err) {
            arch_set_status(r->frame, (uint64_t)err);
            return;
        }
        list_remove(&s->queue_link);
        sched_cancel_timeout(s);
        transfer(s, r, s->send_badge);
        after_delivery(s, r);
        return;
    }
    if (timeout == MICA_TIMEOUT_POLL) {
        arch_set_status(r->frame, (uint64_t)MICA_ETIMEOUT);
        return;
    }
    block_on(&ep->receivers, TS_RECV_BLOCKED, timeout);
}

/* The pager r answers the fault of c: install the mapping it names and
 * resume c at the faulting instruction, or stop c's task.  A mapping the
 * kernel refuses is the pager's error; c keeps waiting for a better one. */
static int fault_reply(struct thread *r, struct thread *c)
{
    const struct trap_frame *m = r->frame;
    uint32_t label = MICA_INFO_LABEL(arch_msg_info(m));
    if (label == MICA_FAULT_KILL) {
        r->reply_to = NULL;
        c->replier = NULL;
        fault_unserved(c, "the pager refused the fault");
        return MICA_OK;
    }
    if (label != MICA_FAULT_MAP)
        return MICA_EINVAL;
    uint64_t src = arch_msg_reg(m, 0), dst = arch_msg_reg(m, 1), pages = arch_msg_reg(m, 2),
             rights = arch_msg_reg(m, 3);
    uint64_t page = c->fault_addr & ~(uint64_t)(MICA_PAGE_SIZE - 1);
    if (pages == 0 || page < dst || (page - dst) / MICA_PAGE_SIZE >= pages)
        return MICA_EINVAL; /* it must cover the faulting page, or c faults again */
    int err = space_map_range(r->task, c->task, src, dst, pages, rights);
    if (err)
        return err;
    r->reply_to = NULL;
    c->replier = NULL;
    c->in_fault = 0;
    sched_wake(c); /* its frame is untouched: the instruction runs again */
    return MICA_OK;
}

bool ipc_fault_to_pager(struct thread *t, uint64_t addr, uint64_t access, uint64_t rip)
{
    struct endpoint *ep = t->task->pager;
    if (ep == NULL || ep->recv_handles == 0)
        return false; /* no pager, or one that is gone: the task stops */
    t->in_fault = 1;
    t->fault_addr = addr;
    t->fault_access = access;
    t->fault_rip = rip;
    t->send_badge = t->task->pager_badge;
    if (kernel_breaks & BREAK_PAGER_FAULT) {
        kernel_breaks &= ~(unsigned)BREAK_PAGER_FAULT; /* the first one only */
        BOCHS_BREAK(); /* t faulted at fault_addr; its pager is about to be told */
    }
    if (!list_empty(&ep->receivers)) {
        struct thread *r = list_entry(list_first(&ep->receivers), struct thread, queue_link);
        list_remove(&r->queue_link);
        sched_cancel_timeout(r);
        transfer(t, r, t->send_badge);
        wake_with(r, MICA_OK);
        after_delivery(t, r);
        return true;
    }
    t->state = TS_SEND_BLOCKED;
    list_push_back(&ep->senders, &t->queue_link);
    return true;
}

int ipc_reply(void)
{
    struct thread *r = current;
    struct thread *c = r->reply_to;
    if (c == NULL) {
        int err = r->reply_dead ? MICA_EDEAD : MICA_ENOREPLY;
        r->reply_dead = 0;
        return err;
    }
    if (c->state == TS_FAULT_BLOCKED)
        return fault_reply(r, c);
    int err = check_message(r);
    if (err)
        return err;
    err = check_receiver(r, c);
    r->reply_to = NULL;
    c->replier = NULL;
    if (err) {
        /* The caller cannot take the reply: it learns why. */
        wake_with(c, err);
        return MICA_OK;
    }
    transfer(r, c, 0);
    wake_with(c, MICA_OK);
    return MICA_OK;
}

void notification_signal(struct notification *n, uint64_t bits)
{
    n->bits |= bits;
    if (n->bits != 0 && !list_empty(&n->waiters)) {
        struct thread *w = list_entry(list_first(&n->waiters), struct thread, queue_link);
        list_remove(&w->queue_link);
        arch_set_result(w->frame, 0, n->bits);
        n->bits = 0;
        wake_with(w, MICA_OK);
    }
}

void ipc_notify_signal(struct notification *n, uint64_t bits)
{
    notification_signal(n, bits);
    arch_set_status(current->frame, MICA_OK);
}

void ipc_notify_wait(struct notification *n, uint64_t timeout)
{
    struct thread *t = current;
    if (n->bits != 0) {
        arch_set_result(t->frame, 0, n->bits);
        n->bits = 0;
        arch_set_status(t->frame, MICA_OK);
        return;
    }
    if (timeout == MICA_TIMEOUT_POLL) {
        arch_set_status(t->frame, (uint64_t)MICA_ETIMEOUT);
        return;
    }
    block_on(&n->waiters, TS_NOTIFY_BLOCKED, timeout);
}

void ipc_sleep(uint64_t us)
{
    struct thread *t = current;
    arch_set_status(t->frame, MICA_OK);
    if (us == 0) {
        t->rr_yield = 1;
        return;
    }
    t->state = TS_SLEEPING;
    sched_set_timeout(t, us);
}

/* Take t off whatever queue its wait put it on. */
static void leave_wait(struct thread *t)
{
    if (t->state == TS_SEND_BLOCKED || t->state == TS_RECV_BLOCKED || t->state == TS_NOTIFY_BLOCKED)
        list_remove(&t->queue_link);
    t->is_call = 0;
}

void ipc_abort(struct thread *t, int64_t status)
{
    if (t->in_fault) {
        /* A faulting thread is not in a system call: nothing to return to. */
        if (t->state == TS_SEND_BLOCKED)
            list_remove(&t->queue_link);
        if (t->replier) {
            t->replier->reply_to = NULL;
            t->replier = NULL;
        }
        fault_unserved(t, "its fault was aborted");
        return;
    }
    switch (t->state) {
    case TS_SEND_BLOCKED:
    case TS_RECV_BLOCKED:
    case TS_NOTIFY_BLOCKED:
    case TS_SLEEPING:
        leave_wait(t);
        wake_with(t, status);
        break;
    case TS_REPLY_BLOCKED:
        if (t->replier) {
            t->replier->reply_to = NULL;
            t->replier = NULL;
        }
        wake_with(t, status);
        break;
    default:
        break;
    }
}

void ipc_timeout_expired(struct thread *t)
{
    ipc_abort(t, t->state == TS_SLEEPING ? MICA_OK : MICA_ETIMEOUT);
}

void ipc_thread_dying(struct thread *t)
{
    sched_cancel_timeout(t);
    leave_wait(t);
    t->in_fault = 0;
    if (t->reply_to) /* its caller waits for a reply that will never come */
        abandon_caller(t, MICA_EDEAD, "its pager died");
    if (t->replier) {
        t->replier->reply_to = NULL;
        t->replier->reply_dead = 1;
        t->replier = NULL;
    }
}

/* Wake every thread on `queue` with MICA_EDEAD (faulting ones: their
 * tasks stop, the pager is gone). */
static void wake_all_dead(struct list *queue)
{
    while (!list_empty(queue)) {
        struct thread *t = list_entry(list_first(queue), struct thread, queue_link);
        list_remove(&t->queue_link);
        t->is_call = 0;
        if (t->in_fault)
            fault_unserved(t, "its pager endpoint was destroyed");
        else
            wake_with(t, MICA_EDEAD);
    }
}

void ipc_endpoint_destroyed(struct endpoint *ep)
{
    wake_all_dead(&ep->senders);
    wake_all_dead(&ep->receivers);
}

void ipc_endpoint_unreceivable(struct endpoint *ep)
{
    wake_all_dead(&ep->senders);
}

void ipc_notification_destroyed(struct notification *n)
{
    wake_all_dead(&n->waiters);
}
