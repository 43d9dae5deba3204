/* IPC slow path: endpoints, replies, notifications, sleep, timeouts and
 * partner death.  See docs/abi.md for the semantics every case follows.
 *
 * A blocked sender keeps its message in its own saved registers (and IPC
 * buffer) until a receiver takes it, so nothing is copied twice. */
#include <stddef.h>

#include "arch/paging.h"
#include "arch/trap.h"
#include "mica/arch.h"
#include "mica/ipc.h"
#include "mica/sched.h"

/* Direct-map pointer to t's IPC buffer if it is mapped user (and writable
 * when `write`), else NULL.  The buffer lies in one page by construction. */
static struct mica_ipc_buffer *ipc_buffer(struct thread *t, int write)
{
    uint64_t pa, flags;
    if (t->ipc_buffer == 0 || !pt_translate(t->task->root, t->ipc_buffer, &pa, &flags))
        return NULL;
    if (!(flags & PTE_U) || (write && !(flags & PTE_W)))
        return NULL;
    return phys_to_virt(pa);
}

/* Check the message s is sending (info in its RSI): sizes, its buffer, the
 * handles it passes.  Returns 0 or the error the sender gets. */
static int check_message(struct thread *s)
{
    uint64_t info = s->frame->rsi;
    uint32_t words = MICA_INFO_WORDS(info), nh = MICA_INFO_HANDLES(info);
    if (words > MICA_MSG_MAX_WORDS || nh > MICA_MSG_MAX_HANDLES)
        return MICA_ETOOLONG;
    if (words == 0 && nh == 0)
        return 0;
    struct mica_ipc_buffer *b = ipc_buffer(s, 0);
    if (b == NULL)
        return MICA_EFAULT;
    for (uint32_t i = 0; i < nh; i++) {
        struct handle *h = handle_get(s->task, b->send_handles[i]);
        if (h == NULL)
            return MICA_EBADH;
        if (!(h->rights & MICA_R_TRANSFER) || (b->send_rights[i] & ~h->rights))
            return MICA_ERIGHTS;
    }
    return 0;
}

/* Check that receiver r can take the message of s: its buffer and room for
 * the handles.  Returns 0 or the error the receiver gets. */
static int check_receiver(struct thread *s, struct thread *r)
{
    uint64_t info = s->frame->rsi;
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
    uint64_t info = from->rsi;
    to->rsi = info;
    to->rdx = from->rdx;
    to->r10 = from->r10;
    to->r8 = from->r8;
    to->r9 = from->r9;
    to->rdi = badge;
    to->rax = MICA_OK;
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

/* Set t's status register and make it runnable. */
static void wake_with(struct thread *t, int64_t status)
{
    sched_cancel_timeout(t);
    t->frame->rax = (uint64_t)status;
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

/* A message from s was delivered: a caller now waits for r's reply,
 * anyone else goes on. */
static void after_delivery(struct thread *s, struct thread *r)
{
    if (s->is_call) {
        if (r->reply_to != NULL) {
            /* r took a new call without answering the last one. */
            struct thread *old = r->reply_to;
            old->replier = NULL;
            wake_with(old, MICA_ENOREPLY);
        }
        r->reply_to = s;
        r->reply_dead = 0;
        s->replier = r;
        s->state = TS_REPLY_BLOCKED;
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
        s->frame->rax = (uint64_t)err;
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
            s->frame->rax = MICA_OK;
        }
        return;
    }
    if (timeout == MICA_TIMEOUT_POLL) {
        s->is_call = 0;
        s->frame->rax = (uint64_t)MICA_ETIMEOUT;
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
            r->frame->rax = (uint64_t)err;
            return;
        }
        list_remove(&s->queue_link);
        sched_cancel_timeout(s);
        transfer(s, r, s->send_badge);
        after_delivery(s, r);
        return;
    }
    if (timeout == MICA_TIMEOUT_POLL) {
        r->frame->rax = (uint64_t)MICA_ETIMEOUT;
        return;
    }
    block_on(&ep->receivers, TS_RECV_BLOCKED, timeout);
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

void ipc_notify_signal(struct notification *n, uint64_t bits)
{
    n->bits |= bits;
    if (n->bits != 0 && !list_empty(&n->waiters)) {
        struct thread *w = list_entry(list_first(&n->waiters), struct thread, queue_link);
        list_remove(&w->queue_link);
        w->frame->rdi = n->bits;
        n->bits = 0;
        wake_with(w, MICA_OK);
    }
    current->frame->rax = MICA_OK;
}

void ipc_notify_wait(struct notification *n, uint64_t timeout)
{
    struct thread *t = current;
    if (n->bits != 0) {
        t->frame->rdi = n->bits;
        n->bits = 0;
        t->frame->rax = MICA_OK;
        return;
    }
    if (timeout == MICA_TIMEOUT_POLL) {
        t->frame->rax = (uint64_t)MICA_ETIMEOUT;
        return;
    }
    block_on(&n->waiters, TS_NOTIFY_BLOCKED, timeout);
}

void ipc_sleep(uint64_t us)
{
    struct thread *t = current;
    t->frame->rax = MICA_OK;
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
    if (t->reply_to) {
        /* Its caller waits for a reply that will never come. */
        struct thread *c = t->reply_to;
        c->replier = NULL;
        t->reply_to = NULL;
        wake_with(c, MICA_EDEAD);
    }
    if (t->replier) {
        t->replier->reply_to = NULL;
        t->replier->reply_dead = 1;
        t->replier = NULL;
    }
}

/* Wake every thread on `queue` with MICA_EDEAD. */
static void wake_all_dead(struct list *queue)
{
    while (!list_empty(queue)) {
        struct thread *t = list_entry(list_first(queue), struct thread, queue_link);
        list_remove(&t->queue_link);
        t->is_call = 0;
        wake_with(t, MICA_EDEAD);
    }
}

void ipc_endpoint_destroyed(struct endpoint *ep)
{
    wake_all_dead(&ep->senders);
    wake_all_dead(&ep->receivers);
}

void ipc_notification_destroyed(struct notification *n)
{
    wake_all_dead(&n->waiters);
}
