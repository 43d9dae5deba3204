/* Threads with their own stack and IPC buffer from the pager; the
 * contract is in <mica/runtime.h>.
 *
 * One region per thread: the stack fills all of it but the last page,
 * which is the thread's IPC buffer.  The stack grows down towards the
 * region's base, and below every region the pager leaves 64 KiB that no
 * region covers (docs/pager.md), so an overflow faults there, the pager
 * refuses the fault and the task stops with the fault on the log. */
#include <mica/runtime.h>

int mica_thread_new(mica_thread_fn *fn, uint64_t arg, int prio, struct mica_thread *t)
{
    const struct mica_start *rec = mica_start_info();
    if (fn == NULL || t == NULL || rec == NULL || rec->self_task == 0)
        return MICA_EINVAL;
    struct mica_thread n = {.bytes = MICA_THREAD_STACK + MICA_PAGE_SIZE};
    int st = mica_region_alloc(n.bytes, &n.region);
    if (st != MICA_OK)
        return st;
    st = mica_notification_create(&n.done);
    uint64_t buf = n.region + MICA_THREAD_STACK;
    if (st == MICA_OK)
        st = mica_thread_spawn_signal(rec->self_task, fn, arg, (void *)(uintptr_t)buf, prio,
                                      (struct mica_ipc_buffer *)(uintptr_t)buf, n.done, &n.thread);
    if (st != MICA_OK) {
        if (n.done)
            mica_handle_close(n.done);
        mica_region_free(n.region, n.bytes);
        return st;
    }
    *t = n;
    return MICA_OK;
}

int mica_thread_join(struct mica_thread *t, uint64_t timeout)
{
    if (t == NULL || t->done == 0)
        return MICA_EINVAL;
    int st = mica_notify_wait(t->done, NULL, timeout);
    if (st != MICA_OK)
        return st;
    /* The thread signalled as its last use of the stack: it may not have
     * exited yet, but it will never touch the region again. */
    mica_handle_close(t->done);
    mica_handle_close(t->thread);
    mica_region_free(t->region, t->bytes);
    *t = (struct mica_thread){0};
    return MICA_OK;
}
