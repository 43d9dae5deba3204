/* Client side of the pager protocol; see <mica/pager.h>. */
#include <mica/pager.h>

/* One request: label and two arguments in, status and results out. */
static int pager_call(mica_handle_t pager, uint16_t label, uint64_t a0, uint64_t a1, uint64_t *r1,
                      uint64_t *r2, uint64_t *r3)
{
    struct mica_msg m;
    mica_msg_init(&m, label);
    m.mr[0] = a0;
    m.mr[1] = a1;
    int st = mica_call(pager, &m, MICA_TIMEOUT_INFINITE);
    if (st != MICA_OK)
        return st;
    if ((int64_t)m.mr[0] != MICA_OK)
        return (int)(int64_t)m.mr[0];
    if (r1)
        *r1 = m.mr[1];
    if (r2)
        *r2 = m.mr[2];
    if (r3)
        *r3 = m.mr[3];
    return MICA_OK;
}

int mica_vm_alloc(mica_handle_t pager, uint64_t size, uint64_t *addr)
{
    return pager_call(pager, PAGER_VM_ALLOC, size, 0, addr, NULL, NULL);
}

int mica_vm_free(mica_handle_t pager, uint64_t addr, uint64_t size)
{
    return pager_call(pager, PAGER_VM_FREE, addr, size, NULL, NULL, NULL);
}

int mica_vm_share(mica_handle_t pager, uint64_t addr, uint64_t client, uint64_t *addr_there)
{
    return pager_call(pager, PAGER_VM_SHARE, addr, client, addr_there, NULL, NULL);
}

int mica_vm_stats(mica_handle_t pager, uint64_t *free_frames, uint64_t *table_frames, uint64_t *mine)
{
    return pager_call(pager, PAGER_STATS, 0, 0, free_frames, table_frames, mine);
}
