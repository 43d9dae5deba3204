/* Agents for the mapping-database suite; see mdb_agent.h. */
#include <mica/pager.h>

#include "guest.h"
#include "mdb_agent.h"

#define AGENT_PRIO 45 /* below init's 50 in the suites: init waits for each answer */

extern char __mica_image_start[], __mica_text_end[], __mica_rodata_end[], __mica_image_end[];

/* Perform one request of m in the agent's task; the result in *out. */
static int agent_do(const struct mica_msg *m, uint64_t *out)
{
    mica_handle_t h = (mica_handle_t)(m->mr[0] & 0xffffffffu);
    uint32_t extra = (uint32_t)(m->mr[0] >> 32);
    uint64_t x = m->mr[1], y = m->mr[2], z = m->mr[3];
    switch (mica_msg_label(m)) {
    case AGENT_MAP:
        return mica_map(h, x, y, z, extra);
    case AGENT_UNMAP:
        return mica_unmap_ex(h, x, y, extra, out);
    case AGENT_PROTECT:
        return mica_protect(h, x, y, extra);
    case AGENT_READ:
        *out = *(volatile uint64_t *)(uintptr_t)x;
        return MICA_OK;
    case AGENT_WRITE:
        *(volatile uint64_t *)(uintptr_t)x = y;
        return MICA_OK;
    case AGENT_VM_ALLOC:
        return mica_vm_alloc(h, x, out);
    case AGENT_VM_FREE:
        return mica_vm_free(h, x, y);
    case AGENT_CLOSE:
        return mica_handle_close(h);
    default:
        return MICA_EINVAL;
    }
}

/* The agent's thread (it writes no global: init's data is read-only here):
 * answer requests on endpoint ep until it cannot receive. */
static void agent_main(uint64_t ep, struct mica_ipc_buffer *buf)
{
    (void)buf;
    struct mica_msg m;
    uint64_t badge;
    int st = mica_recv((mica_handle_t)ep, &m, &badge, MICA_TIMEOUT_INFINITE);
    while (st == MICA_OK) {
        uint64_t out = 0;
        int r = agent_do(&m, &out);
        mica_msg_init(&m, 0);
        m.mr[0] = (uint64_t)(int64_t)r;
        m.mr[1] = out;
        st = mica_reply_recv((mica_handle_t)ep, &m, &badge, MICA_TIMEOUT_INFINITE);
    }
}

/* Give task the receive end of a new endpoint; its number there. */
static int agent_endpoint(struct agent *a, mica_handle_t task, mica_handle_t *remote)
{
    *a = (struct agent){.task = task};
    int st = mica_endpoint_create(&a->ep);
    if (st == MICA_OK)
        st = mica_task_give(task, a->ep, MICA_R_RECV, 0, remote);
    return st;
}

int agent_start(struct agent *a, mica_handle_t task)
{
    mica_handle_t remote = 0;
    int st = agent_endpoint(a, task, &remote);
    if (st == MICA_OK)
        st = spawn_in_task(task, agent_main, remote, AGENT_PRIO, &a->thread);
    return st;
}

/* Map [start, end) of init's image into task with rights. */
static int share_image(mica_handle_t task, char *start, char *end, uint32_t rights)
{
    uint64_t pages = (uint64_t)(end - start) / MICA_PAGE_SIZE;
    if (pages == 0)
        return MICA_OK;
    return mica_map(task, (uint64_t)(uintptr_t)start, (uint64_t)(uintptr_t)start, pages, rights);
}

int agent_start_on(struct agent *a, mica_handle_t task, char *stack, struct mica_ipc_buffer *buf)
{
    mica_handle_t remote = 0;
    int st = agent_endpoint(a, task, &remote);
    if (st == MICA_OK)
        st = share_image(task, __mica_image_start, __mica_text_end, MICA_MAP_READ | MICA_MAP_EXEC);
    if (st == MICA_OK)
        st = share_image(task, __mica_text_end, __mica_rodata_end, MICA_MAP_READ);
    if (st == MICA_OK)
        st = share_image(task, __mica_rodata_end, __mica_image_end, MICA_MAP_READ);
    if (st == MICA_OK)
        st = mica_map(task, (uint64_t)(uintptr_t)stack, (uint64_t)(uintptr_t)stack, STACK_PAGES,
                      MICA_MAP_READ | MICA_MAP_WRITE);
    if (st == MICA_OK)
        st = mica_map(task, (uint64_t)(uintptr_t)buf, (uint64_t)(uintptr_t)buf, 1,
                      MICA_MAP_READ | MICA_MAP_WRITE);
    if (st == MICA_OK)
        st = mica_thread_spawn(task, agent_main, remote, stack + STACK_PAGES * MICA_PAGE_SIZE, AGENT_PRIO,
                               buf, &a->thread);
    return st;
}

void agent_release(struct agent *a)
{
    if (a->thread)
        mica_handle_close(a->thread);
    if (a->ep)
        mica_handle_close(a->ep);
    a->thread = a->ep = 0;
}

int agent_call(const struct agent *a, uint32_t op, uint64_t h, uint64_t x, uint64_t y, uint64_t z,
               uint64_t *out, uint32_t extra)
{
    struct mica_msg m;
    mica_msg_init(&m, op);
    m.mr[0] = h | (uint64_t)extra << 32;
    m.mr[1] = x;
    m.mr[2] = y;
    m.mr[3] = z;
    int st = mica_call(a->ep, &m, MICA_TIMEOUT_INFINITE);
    if (st != MICA_OK)
        return st;
    if (out != NULL)
        *out = m.mr[1];
    return (int)(int64_t)m.mr[0];
}
