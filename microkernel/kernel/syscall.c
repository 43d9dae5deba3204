/* System-call dispatch.  Every handler validates all of its arguments
 * before it changes anything, so a failed call changes nothing; results go
 * into the caller's saved frame (RAX status, RDI.. results). */
#include <stddef.h>

#include "mica/arch.h"
#include "mica/ipc.h"
#include "mica/kernel.h"
#include "mica/log.h"
#include "mica/object.h"
#include "mica/panic.h"
#include "mica/pool.h"
#include "mica/sched.h"
#include "mica/space.h"

typedef void (*syscall_fn)(struct trap_frame *tf);

#define ST(tf, v) arch_set_status((tf), (uint64_t)(int64_t)(v))
#define MAX_DEBUG_WRITE 65536u

/* The current task. */
static struct task *self(void)
{
    return current->task;
}

/* Look up handle h of the current task (see handle_lookup). */
static int lookup(uint64_t h, uint32_t type, uint32_t rights, struct handle **out)
{
    if (h > UINT32_MAX)
        return MICA_EBADH;
    return handle_lookup(self(), (mica_handle_t)h, type, rights, out);
}

static void sys_null(struct trap_frame *tf)
{
    ST(tf, MICA_OK);
}

static void sys_debug_write(struct trap_frame *tf)
{
    uint64_t ptr = arch_syscall_arg(tf, 0), len = arch_syscall_arg(tf, 1);
    char buf[128];
    if (len > MAX_DEBUG_WRITE) {
        ST(tf, MICA_EINVAL);
        return;
    }
    int bad = user_bytes_check(ptr, len, 0); /* all of it, before the first byte prints */
    if (bad) {
        ST(tf, bad);
        return;
    }
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < sizeof buf ? len - done : sizeof buf;
        int err = copy_from_user(buf, ptr + done, n);
        if (err) {
            ST(tf, err);
            return;
        }
        console_write(buf, n);
        done += n;
    }
    ST(tf, MICA_OK);
}

static void sys_send_or_call(struct trap_frame *tf, int is_call)
{
    struct handle *h;
    int err = lookup(arch_syscall_arg(tf, 0), MICA_OBJ_ENDPOINT, MICA_R_SEND, &h);
    if (err) {
        ST(tf, err);
        return;
    }
    ipc_send(h, arch_syscall_timeout(tf), is_call);
}

static void sys_send(struct trap_frame *tf)
{
    sys_send_or_call(tf, 0);
}

static void sys_call(struct trap_frame *tf)
{
    sys_send_or_call(tf, 1);
}

static void sys_recv(struct trap_frame *tf)
{
    struct handle *h;
    int err = lookup(arch_syscall_arg(tf, 0), MICA_OBJ_ENDPOINT, MICA_R_RECV, &h);
    if (err) {
        ST(tf, err);
        return;
    }
    ipc_recv(h, arch_syscall_timeout(tf));
}

static void sys_reply(struct trap_frame *tf)
{
    ST(tf, ipc_reply());
}

static void sys_reply_recv(struct trap_frame *tf)
{
    struct handle *h;
    int err = lookup(arch_syscall_arg(tf, 0), MICA_OBJ_ENDPOINT, MICA_R_RECV, &h);
    if (err) {
        ST(tf, err);
        return;
    }
    /* A reply nobody waits for (or one to a dead caller) does not stop the
     * server from receiving its next message. */
    if (current->reply_to != NULL) {
        err = ipc_reply();
        if (err && err != MICA_EDEAD && err != MICA_ENOREPLY) {
            ST(tf, err);
            return;
        }
    }
    current->reply_dead = 0;
    ipc_recv(h, arch_syscall_timeout(tf));
}

static void sys_notify_signal(struct trap_frame *tf)
{
    struct handle *h;
    int err = lookup(arch_syscall_arg(tf, 0), MICA_OBJ_NOTIFICATION, MICA_R_SIGNAL, &h);
    if (err) {
        ST(tf, err);
        return;
    }
    ipc_notify_signal((struct notification *)h->obj, arch_syscall_arg(tf, 1));
}

static void sys_notify_wait(struct trap_frame *tf)
{
    struct handle *h;
    int err = lookup(arch_syscall_arg(tf, 0), MICA_OBJ_NOTIFICATION, MICA_R_WAIT, &h);
    if (err) {
        ST(tf, err);
        return;
    }
    ipc_notify_wait((struct notification *)h->obj, arch_syscall_timeout(tf));
}

static void sys_yield(struct trap_frame *tf)
{
    current->rr_yield = 1;
    ST(tf, MICA_OK);
}

static void sys_sleep(struct trap_frame *tf)
{
    ipc_sleep(arch_syscall_arg(tf, 0));
}

/* Install a new object in the current task with rights, and return its
 * handle number (the caller checked there is room: this cannot fail). */
static void give_new(struct trap_frame *tf, struct kobj *o, uint32_t rights)
{
    mica_handle_t h = handle_install(self(), o, rights, 0);
    arch_set_result(tf, 0, h);
    ST(tf, MICA_OK);
}

static void sys_endpoint_create(struct trap_frame *tf)
{
    if (!handle_has_room(self(), 1)) {
        ST(tf, MICA_ENOHANDLES);
        return;
    }
    struct endpoint *ep = endpoint_create(&self()->kmem);
    if (ep == NULL) {
        ST(tf, MICA_ENOMEM);
        return;
    }
    give_new(tf, &ep->hdr, MICA_R_SEND | MICA_R_RECV | MICA_R_TRANSFER);
}

static void sys_notification_create(struct trap_frame *tf)
{
    if (!handle_has_room(self(), 1)) {
        ST(tf, MICA_ENOHANDLES);
        return;
    }
    struct notification *n = notification_create(&self()->kmem);
    if (n == NULL) {
        ST(tf, MICA_ENOMEM);
        return;
    }
    give_new(tf, &n->hdr, MICA_R_SIGNAL | MICA_R_WAIT | MICA_R_TRANSFER);
}

static void sys_handle_close(struct trap_frame *tf)
{
    if (arch_syscall_arg(tf, 0) > UINT32_MAX ||
        handle_get(self(), (mica_handle_t)arch_syscall_arg(tf, 0)) == NULL) {
        ST(tf, MICA_EBADH);
        return;
    }
    handle_close(self(), (mica_handle_t)arch_syscall_arg(tf, 0));
    ST(tf, MICA_OK);
}

/* Check a derivation of handle `from` with `rights` and `badge`: rights
 * only shrink, a badge is set once. */
static int check_derive(const struct handle *from, uint64_t rights, uint64_t badge)
{
    if (!(from->rights & MICA_R_TRANSFER))
        return MICA_ERIGHTS;
    if (rights & ~(uint64_t)MICA_R_ALL)
        return MICA_EINVAL;
    if (rights & ~(uint64_t)from->rights)
        return MICA_EUPGRADE;
    if (from->badge != 0 && badge != from->badge)
        return MICA_EINVAL;
    return MICA_OK;
}

static void sys_handle_mint(struct trap_frame *tf)
{
    struct handle *h = arch_syscall_arg(tf, 0) > UINT32_MAX
                           ? NULL
                           : handle_get(self(), (mica_handle_t)arch_syscall_arg(tf, 0));
    if (h == NULL) {
        ST(tf, MICA_EBADH);
        return;
    }
    int err = check_derive(h, arch_syscall_arg(tf, 1), arch_syscall_arg(tf, 2));
    if (err == MICA_OK && !handle_has_room(self(), 1))
        err = MICA_ENOHANDLES;
    if (err) {
        ST(tf, err);
        return;
    }
    arch_set_result(
        tf, 0, handle_install(self(), h->obj, (uint32_t)arch_syscall_arg(tf, 1), arch_syscall_arg(tf, 2)));
    ST(tf, MICA_OK);
}

static void sys_handle_info(struct trap_frame *tf)
{
    struct handle *h = arch_syscall_arg(tf, 0) > UINT32_MAX
                           ? NULL
                           : handle_get(self(), (mica_handle_t)arch_syscall_arg(tf, 0));
    if (h == NULL) {
        ST(tf, MICA_EBADH);
        return;
    }
    arch_set_result(tf, 0, h->obj->type);
    arch_set_result(tf, 1, h->rights);
    arch_set_result(tf, 2, h->badge);
    ST(tf, MICA_OK);
}

static void sys_task_create(struct trap_frame *tf)
{
    uint64_t pages = arch_syscall_arg(tf, 0) ? arch_syscall_arg(tf, 0) : MICA_KMEM_DEFAULT;
    if (pages < MICA_KMEM_TASK_MIN) {
        ST(tf, MICA_EINVAL);
        return;
    }
    if (!handle_has_room(self(), 1)) {
        ST(tf, MICA_ENOHANDLES);
        return;
    }
    /* Checked here too: task_create reads UINT64_MAX as "all that is left". */
    if (pages > kmem_room(&self()->kmem)) {
        ST(tf, MICA_ENOMEM);
        return;
    }
    struct task *t = task_create("task", &self()->kmem, pages);
    if (t == NULL) {
        ST(tf, MICA_ENOMEM);
        return;
    }
    give_new(tf, &t->hdr, MICA_R_ALL);
}

/* Look up a live task handle with `rights`. */
static int lookup_task(uint64_t h, uint32_t rights, struct task **out)
{
    struct handle *slot;
    int err = lookup(h, MICA_OBJ_TASK, rights, &slot);
    if (err)
        return err;
    struct task *t = (struct task *)slot->obj;
    if (t->dying)
        return MICA_EDEAD;
    *out = t;
    return MICA_OK;
}

/* Look up a live thread handle with `rights`. */
static int lookup_thread(uint64_t h, uint32_t rights, struct thread **out)
{
    struct handle *slot;
    int err = lookup(h, MICA_OBJ_THREAD, rights, &slot);
    if (err)
        return err;
    struct thread *th = (struct thread *)slot->obj;
    if (th->state == TS_DEAD)
        return MICA_EDEAD;
    *out = th;
    return MICA_OK;
}

static void sys_task_kill(struct trap_frame *tf)
{
    struct task *t;
    int err = lookup_task(arch_syscall_arg(tf, 0), MICA_R_CONTROL, &t);
    if (err) {
        ST(tf, err);
        return;
    }
    ST(tf, MICA_OK);
    task_destroy(t);
}

static void sys_task_give(struct trap_frame *tf)
{
    struct task *t;
    int err = lookup_task(arch_syscall_arg(tf, 0), MICA_R_MAP, &t);
    struct handle *h = NULL;
    if (err == MICA_OK) {
        h = arch_syscall_arg(tf, 1) > UINT32_MAX ? NULL
                                                 : handle_get(self(), (mica_handle_t)arch_syscall_arg(tf, 1));
        err = h == NULL ? MICA_EBADH : check_derive(h, arch_syscall_arg(tf, 2), arch_syscall_arg(tf, 3));
    }
    if (err == MICA_OK && !handle_has_room(t, 1))
        err = MICA_ENOHANDLES;
    if (err) {
        ST(tf, err);
        return;
    }
    arch_set_result(tf, 0,
                    handle_install(t, h->obj, (uint32_t)arch_syscall_arg(tf, 2), arch_syscall_arg(tf, 3)));
    ST(tf, MICA_OK);
}

/* Check a user code or stack address: canonical and in the user half. */
static int check_user_addr(uint64_t va)
{
    if (va_canonical(va) != va)
        return MICA_ENONCANON;
    return va < user_top ? MICA_OK : MICA_EKERNEL;
}

static void sys_thread_create(struct trap_frame *tf)
{
    struct task *t;
    uint64_t entry = arch_syscall_arg(tf, 1), stack = arch_syscall_arg(tf, 2), arg = arch_syscall_arg(tf, 3),
             prio = arch_syscall_arg(tf, 4), ipcbuf = arch_syscall_arg(tf, 5);
    int err = lookup_task(arch_syscall_arg(tf, 0), MICA_R_CONTROL, &t);
    if (err == MICA_OK)
        err = check_user_addr(entry);
    if (err == MICA_OK)
        err = check_user_addr(stack);
    if (err == MICA_OK && ipcbuf != 0)
        err = user_range_check(ipcbuf, 1);
    if (err == MICA_OK && prio > MICA_PRIO_MAX)
        err = MICA_EINVAL;
    if (err == MICA_OK && prio > current->prio)
        err = MICA_EUPGRADE;
    if (err == MICA_OK && !handle_has_room(self(), 1))
        err = MICA_ENOHANDLES;
    if (err) {
        ST(tf, err);
        return;
    }
    struct thread *th = thread_create(t, entry, stack, 0, arg, (unsigned)prio, ipcbuf);
    if (th == NULL) {
        ST(tf, MICA_ENOMEM);
        return;
    }
    arch_set_result(tf, 0, handle_install(self(), &th->hdr, MICA_R_CONTROL | MICA_R_TRANSFER, 0));
    ST(tf, MICA_OK);
}

/* True when th is the only thread of its task. */
static bool last_thread(const struct thread *th)
{
    const struct list *head = &th->task->threads;
    return head->next == &th->task_link && th->task_link.next == head;
}

static void sys_thread_exit(struct trap_frame *tf)
{
    struct thread *th = current;
    /* The last thread of a task that had threads is gone: the task ends
     * (its watcher learns it exited, and SYS_TASK_STATUS gives its code). */
    if (last_thread(th))
        th->task->end_error = arch_syscall_arg(tf, 0);
    thread_end(th, MICA_TASK_EXITED);
}

static void sys_thread_set_priority(struct trap_frame *tf)
{
    struct thread *th;
    int err = lookup_thread(arch_syscall_arg(tf, 0), MICA_R_CONTROL, &th);
    if (err == MICA_OK && arch_syscall_arg(tf, 1) > MICA_PRIO_MAX)
        err = MICA_EINVAL;
    if (err == MICA_OK && arch_syscall_arg(tf, 1) > current->prio)
        err = MICA_EUPGRADE;
    if (err) {
        ST(tf, err);
        return;
    }
    bool queued = th->state == TS_RUNNABLE && th != current;
    if (queued)
        sched_dequeue(th);
    th->prio = (uint8_t)arch_syscall_arg(tf, 1);
    if (queued)
        sched_wake(th);
    ST(tf, MICA_OK);
}

static void sys_thread_abort(struct trap_frame *tf)
{
    struct thread *th;
    int err = lookup_thread(arch_syscall_arg(tf, 0), MICA_R_CONTROL, &th);
    if (err) {
        ST(tf, err);
        return;
    }
    ST(tf, MICA_OK);
    if (th != current)
        ipc_abort(th, MICA_EABORTED);
}

static void sys_map(struct trap_frame *tf)
{
    struct task *t;
    int err = lookup_task(arch_syscall_arg(tf, 0), MICA_R_MAP, &t);
    if (err == MICA_OK)
        err = space_map_range(self(), t, arch_syscall_arg(tf, 1), arch_syscall_arg(tf, 2),
                              arch_syscall_arg(tf, 3), arch_syscall_arg(tf, 4));
    ST(tf, err);
}

static void sys_unmap(struct trap_frame *tf)
{
    struct task *t;
    int err = lookup_task(arch_syscall_arg(tf, 0), MICA_R_MAP, &t);
    if (err == MICA_OK)
        err = space_unmap_range(t, arch_syscall_arg(tf, 1), arch_syscall_arg(tf, 2));
    ST(tf, err);
}

static void sys_protect(struct trap_frame *tf)
{
    struct task *t;
    int err = lookup_task(arch_syscall_arg(tf, 0), MICA_R_MAP, &t);
    if (err == MICA_OK)
        err =
            space_protect_range(t, arch_syscall_arg(tf, 1), arch_syscall_arg(tf, 2), arch_syscall_arg(tf, 3));
    ST(tf, err);
}

static void sys_task_set_pager(struct trap_frame *tf)
{
    struct task *t;
    struct handle *ep = NULL;
    int err = lookup_task(arch_syscall_arg(tf, 0), MICA_R_CONTROL, &t);
    if (err == MICA_OK && arch_syscall_arg(tf, 1) != 0)
        err = lookup(arch_syscall_arg(tf, 1), MICA_OBJ_ENDPOINT, MICA_R_SEND, &ep);
    if (err) {
        ST(tf, err);
        return;
    }
    if (t->pager)
        obj_unref(&t->pager->hdr);
    t->pager = ep ? (struct endpoint *)ep->obj : NULL;
    t->pager_badge = ep ? ep->badge : 0;
    if (t->pager)
        obj_ref(&t->pager->hdr);
    ST(tf, MICA_OK);
}

static void sys_task_status(struct trap_frame *tf)
{
    struct handle *h;
    int err = lookup(arch_syscall_arg(tf, 0), MICA_OBJ_TASK, 0, &h);
    if (err) {
        ST(tf, err);
        return;
    }
    struct task *t = (struct task *)h->obj;
    arch_set_result(tf, 0, t->dying ? t->end_state : MICA_TASK_ALIVE);
    arch_set_result(tf, 1, t->end_vector);
    arch_set_result(tf, 2, t->end_addr);
    arch_set_result(tf, 3, t->end_rip);
    arch_set_result(tf, 4, t->end_error);
    ST(tf, MICA_OK);
}

static void sys_task_watch(struct trap_frame *tf)
{
    struct task *t;
    struct handle *n = NULL;
    int err = lookup_task(arch_syscall_arg(tf, 0), MICA_R_CONTROL, &t);
    if (err == MICA_OK)
        err = lookup(arch_syscall_arg(tf, 1), MICA_OBJ_NOTIFICATION, MICA_R_SIGNAL, &n);
    if (err) {
        ST(tf, err);
        return;
    }
    if (t->watch)
        obj_unref(&t->watch->hdr);
    t->watch = (struct notification *)n->obj;
    obj_ref(&t->watch->hdr);
    t->watch_bits = arch_syscall_arg(tf, 2);
    ST(tf, MICA_OK);
}

/* Report a's use, limit and what it gave to children in RDI, RSI, RDX. */
static void kmem_results(struct trap_frame *tf, const struct kmem_account *a)
{
    arch_set_result(tf, 0, a->used);
    arch_set_result(tf, 1, a->limit);
    arch_set_result(tf, 2, a->given);
}

static void sys_kmem_set(struct trap_frame *tf)
{
    struct task *t;
    uint64_t pages = arch_syscall_arg(tf, 1);
    int err = lookup_task(arch_syscall_arg(tf, 0), MICA_R_CONTROL, &t);
    /* Only the account it was carved from can move pages in or out. */
    if (err == MICA_OK && t->kmem.parent != &self()->kmem)
        err = MICA_ERIGHTS;
    if (err == MICA_OK && pages < MICA_KMEM_TASK_MIN)
        err = MICA_EINVAL;
    if (err == MICA_OK)
        err = kmem_account_resize(&t->kmem, pages);
    if (err == MICA_OK)
        kmem_results(tf, &t->kmem);
    ST(tf, err);
}

static void sys_kmem_info(struct trap_frame *tf)
{
    struct handle *h = NULL;
    if (arch_syscall_arg(tf, 0) != MICA_HANDLE_NONE) {
        int err = lookup(arch_syscall_arg(tf, 0), MICA_OBJ_TASK, 0, &h);
        if (err) {
            ST(tf, err);
            return;
        }
    }
    kmem_results(tf, h ? &((struct task *)h->obj)->kmem : &self()->kmem);
    ST(tf, MICA_OK);
}

static void sys_debug_counts(struct trap_frame *tf)
{
    struct mica_obj_counts c;
    pool_counts(&c);
    c.kmem_used = self()->kmem.used;
    c.kmem_limit = self()->kmem.limit;
    c.fastpath_calls = fastpath_calls;
    c.fastpath_reply_recvs = fastpath_reply_recvs;
    ST(tf, arch_syscall_arg(tf, 0) ? copy_to_user(arch_syscall_arg(tf, 0), &c, sizeof c) : MICA_OK);
    if (arch_syscall_arg(tf, 0) == 0)
        pool_print_counts();
}

static void sys_fastpath_set(struct trap_frame *tf)
{
    if (self()->id != 1) { /* only the first task steers the kernel's tests */
        ST(tf, MICA_ERIGHTS);
        return;
    }
    fastpath_set(arch_syscall_arg(tf, 0) != 0);
    ST(tf, MICA_OK);
}

static void sys_debug_shutdown(struct trap_frame *tf)
{
    if (self()->id != 1) {
        ST(tf, MICA_ERIGHTS);
        return;
    }
    LOG_INFO("shutdown requested by init (%s)", arch_syscall_arg(tf, 0) ? "failure" : "success");
    arch_emulator_exit(arch_syscall_arg(tf, 0) ? EXIT_FAILURE_CODE : EXIT_SUCCESS_CODE);
    arch_halt_forever();
}

static void sys_time(struct trap_frame *tf)
{
    arch_set_result(tf, 0, ticks * tick_us);
    ST(tf, MICA_OK);
}

static const syscall_fn syscalls[SYS_COUNT] = {
    [SYS_NULL] = sys_null,
    [SYS_DEBUG_WRITE] = sys_debug_write,
    [SYS_SEND] = sys_send,
    [SYS_RECV] = sys_recv,
    [SYS_CALL] = sys_call,
    [SYS_REPLY] = sys_reply,
    [SYS_REPLY_RECV] = sys_reply_recv,
    [SYS_NOTIFY_SIGNAL] = sys_notify_signal,
    [SYS_NOTIFY_WAIT] = sys_notify_wait,
    [SYS_YIELD] = sys_yield,
    [SYS_SLEEP] = sys_sleep,
    [SYS_ENDPOINT_CREATE] = sys_endpoint_create,
    [SYS_NOTIFICATION_CREATE] = sys_notification_create,
    [SYS_HANDLE_CLOSE] = sys_handle_close,
    [SYS_HANDLE_MINT] = sys_handle_mint,
    [SYS_HANDLE_INFO] = sys_handle_info,
    [SYS_TASK_CREATE] = sys_task_create,
    [SYS_TASK_KILL] = sys_task_kill,
    [SYS_TASK_GIVE] = sys_task_give,
    [SYS_THREAD_CREATE] = sys_thread_create,
    [SYS_THREAD_EXIT] = sys_thread_exit,
    [SYS_MAP] = sys_map,
    [SYS_UNMAP] = sys_unmap,
    [SYS_DEBUG_COUNTS] = sys_debug_counts,
    [SYS_FASTPATH_SET] = sys_fastpath_set,
    [SYS_THREAD_SET_PRIORITY] = sys_thread_set_priority,
    [SYS_TIME] = sys_time,
    [SYS_THREAD_ABORT] = sys_thread_abort,
    [SYS_DEBUG_SHUTDOWN] = sys_debug_shutdown,
    [SYS_TASK_SET_PAGER] = sys_task_set_pager,
    [SYS_TASK_STATUS] = sys_task_status,
    [SYS_TASK_WATCH] = sys_task_watch,
    [SYS_PROTECT] = sys_protect,
    [SYS_KMEM_SET] = sys_kmem_set,
    [SYS_KMEM_INFO] = sys_kmem_info,
};

void syscall_dispatch(struct trap_frame *tf);
void syscall_at_top(struct trap_frame *tf);

/* SYSCALL as the last instruction below the top of the user half
 * (syscall_entry sends every such call here, before the fastpath or any
 * handler runs): SYSRET to the non-canonical next address would fault in
 * ring 0.  The thread is stopped instead, so no saved frame ever holds a
 * return address that cannot be returned to. */
__attribute__((noreturn)) void syscall_at_top(struct trap_frame *tf)
{
    struct task *t = current->task;
    LOG_FAIL("task %u \"%s\" thread %u: system call at the very top of the user half (rip 0x%llx); "
             "thread stopped",
             t->id, t->name, current->id, (unsigned long long)arch_user_pc(tf));
    if (last_thread(current)) {
        /* Its last thread: the task ends as if it had faulted there. */
        t->end_vector = ARCH_FAULT_PROTECTION;
        t->end_addr = t->end_rip = arch_user_pc(tf);
        t->end_error = 0;
    }
    thread_end(current, MICA_TASK_FAULTED);
    sched_exit();
}

void syscall_dispatch(struct trap_frame *tf)
{
    uint64_t nr = arch_syscall_nr(tf);
    if (nr < SYS_COUNT && syscalls[nr] != NULL)
        syscalls[nr](tf);
    else
        ST(tf, MICA_ENOSYS);
    struct thread *t = current;
    if (t->state != TS_RUNNABLE || t->rr_yield || sched_should_preempt() || tasks_stopping())
        sched_exit();
}
