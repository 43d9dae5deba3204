/* Child tasks for the in-guest tests: a new task runs a function of init's
 * own image, which it shares read-only, on a stack and IPC buffer mapped at
 * the same addresses in both spaces. */
#include "guest.h"

extern char __mica_image_start[], __mica_text_end[], __mica_rodata_end[], __mica_image_end[];

/* Map [start, end) of init's image into task with rights. */
static int share_image(mica_handle_t task, char *start, char *end, uint32_t rights)
{
    uint64_t pages = (uint64_t)(end - start) / MICA_PAGE_SIZE;
    if (pages == 0)
        return MICA_OK;
    return mica_map(task, (uint64_t)(uintptr_t)start, (uint64_t)(uintptr_t)start, pages, rights);
}

/* A new task running fn: arg, or (when give is a handle) the number of
 * give's copy in the child; the task is killed again when anything fails. */
static int spawn_remote_ex(mica_thread_fn *fn, uint64_t arg, mica_handle_t give, uint32_t rights,
                           uint64_t badge, int prio, mica_handle_t *task_out, mica_handle_t *thread_out)
{
    mica_handle_t task, remote;
    int err = mica_task_create(&task);
    if (err)
        return err;
    if (give != MICA_HANDLE_NONE) {
        err = mica_task_give(task, give, rights, badge, &remote);
        arg = remote;
    }
    if (!err)
        err = spawn_in_task(task, fn, arg, prio, thread_out);
    if (err) {
        mica_task_kill(task);
        mica_handle_close(task);
        return err;
    }
    *task_out = task;
    return MICA_OK;
}

int spawn_remote(mica_thread_fn *fn, uint64_t arg, int prio, mica_handle_t *task_out,
                 mica_handle_t *thread_out)
{
    return spawn_remote_ex(fn, arg, MICA_HANDLE_NONE, 0, 0, prio, task_out, thread_out);
}

int spawn_remote_with(mica_thread_fn *fn, mica_handle_t give, uint32_t rights, uint64_t badge,
                      mica_handle_t *task_out, mica_handle_t *thread_out)
{
    return spawn_remote_ex(fn, 0, give, rights, badge, 40, task_out, thread_out);
}

int spawn_in_task(mica_handle_t task, mica_thread_fn *fn, uint64_t arg, int prio, mica_handle_t *thread_out)
{
    /* The child runs init's code: text and read-only data shared, init's
     * writable data shared read-only (a child must not write globals). */
    int err = share_image(task, __mica_image_start, __mica_text_end, MICA_MAP_READ | MICA_MAP_EXEC);
    if (!err)
        err = share_image(task, __mica_text_end, __mica_rodata_end, MICA_MAP_READ);
    if (!err)
        err = share_image(task, __mica_rodata_end, __mica_image_end, MICA_MAP_READ);
    char *stack = page_alloc(STACK_PAGES);
    struct mica_ipc_buffer *buf = page_alloc(1);
    if (!err && (stack == NULL || buf == NULL))
        err = MICA_ENOMEM;
    if (!err)
        err = mica_map(task, (uint64_t)(uintptr_t)stack, (uint64_t)(uintptr_t)stack, STACK_PAGES,
                       MICA_MAP_READ | MICA_MAP_WRITE);
    if (!err)
        err = mica_map(task, (uint64_t)(uintptr_t)buf, (uint64_t)(uintptr_t)buf, 1,
                       MICA_MAP_READ | MICA_MAP_WRITE);
    /* Same addresses in both spaces, so the start block written through
     * init's mapping of the stack is where the child will read it. */
    if (!err)
        err = mica_thread_spawn(task, fn, arg, stack + STACK_PAGES * MICA_PAGE_SIZE, prio, buf, thread_out);
    return err;
}

struct mica_task_status child_wait_end(mica_handle_t task, uint64_t max_us)
{
    struct mica_task_status s = {0};
    for (uint64_t waited = 0;; waited += 2000) {
        if (mica_task_status(task, &s) == MICA_OK && s.state != MICA_TASK_ALIVE)
            break;
        if (waited >= max_us)
            break;
        mica_sleep_us(2000);
    }
    return s;
}

/* A child task that is a pager client with `quota` pages, whose faults go
 * to the pager; its pager handle's number there comes back in *remote. */
int client_task(uint64_t quota, mica_handle_t *task, uint64_t *id, mica_handle_t *remote)
{
    mica_handle_t t = 0, pe = 0;
    uint64_t badge = 0;
    int st = mica_task_create(&t);
    if (st == MICA_OK)
        st = pager_add_client(t, quota, 0, id, &badge);
    if (st == MICA_OK)
        st = mica_handle_mint(pager_mint, MICA_R_SEND | MICA_R_TRANSFER, badge, &pe);
    if (st == MICA_OK)
        st = mica_task_set_pager(t, pe);
    if (st == MICA_OK)
        st = mica_task_give(t, pe, MICA_R_SEND, badge, remote);
    if (pe)
        mica_handle_close(pe);
    if (st == MICA_OK)
        *task = t;
    else if (t)
        mica_handle_close(t);
    return st;
}
