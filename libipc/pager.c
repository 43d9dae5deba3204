/* Client side of the pager protocol; see <mica/pager.h>. */
#include <mica/pager.h>

/* One request, passing `give` with `rights` when give is not 0. */
static int pager_request(mica_handle_t pager, uint16_t label, uint64_t a0, uint64_t a1, mica_handle_t give,
                         uint32_t rights, uint64_t *r1, uint64_t *r2, uint64_t *r3)
{
    struct mica_msg m;
    mica_msg_init(&m, label);
    m.mr[0] = a0;
    m.mr[1] = a1;
    int st = give ? mica_msg_add_handle(&m, give, rights) : MICA_OK;
    if (st == MICA_OK)
        st = mica_call(pager, &m, MICA_TIMEOUT_INFINITE);
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

int mica_pager_call(mica_handle_t pager, uint16_t label, uint64_t a0, uint64_t a1, uint64_t *r1, uint64_t *r2,
                    uint64_t *r3)
{
    return pager_request(pager, label, a0, a1, 0, 0, r1, r2, r3);
}

int mica_pager_add_client(mica_handle_t admin, mica_handle_t task, uint64_t quota_pages, uint64_t flags,
                          uint64_t *id, uint64_t *badge)
{
    return pager_request(admin, PAGER_ADD_CLIENT, quota_pages, flags, task, MICA_R_MAP, id, badge, NULL);
}

int mica_vm_alloc(mica_handle_t pager, uint64_t size, uint64_t *addr)
{
    return mica_pager_call(pager, PAGER_VM_ALLOC, size, 0, addr, NULL, NULL);
}

int mica_vm_free(mica_handle_t pager, uint64_t addr, uint64_t size)
{
    return mica_pager_call(pager, PAGER_VM_FREE, addr, size, NULL, NULL, NULL);
}

int mica_vm_share(mica_handle_t pager, uint64_t addr, uint64_t client, uint64_t *addr_there)
{
    return mica_pager_call(pager, PAGER_VM_SHARE, addr, client, addr_there, NULL, NULL);
}

int mica_vm_stats(mica_handle_t pager, uint64_t *free_frames, uint64_t *table_frames, uint64_t *mine)
{
    return mica_pager_call(pager, PAGER_STATS, 0, 0, free_frames, table_frames, mine);
}
