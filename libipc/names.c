/* Client side of the name service; see <mica/names.h>. */
#include <mica/names.h>

bool mica_name_pack(const char *name, uint64_t mr[3])
{
    mr[0] = mr[1] = mr[2] = 0;
    for (size_t i = 0; name[i] != '\0'; i++) {
        if (i >= NS_NAME_MAX)
            return false;
        mr[i / 8] |= (uint64_t)(uint8_t)name[i] << (8 * (i % 8));
    }
    return true;
}

/* One name-service call; the reply's status. */
static int ns_call(mica_handle_t ns, struct mica_msg *m)
{
    int st = mica_call(ns, m, MICA_TIMEOUT_INFINITE);
    return st != MICA_OK ? st : (int)(int64_t)m->mr[0];
}

int mica_name_register(mica_handle_t ns, struct mica_ipc_buffer *buf, const char *name, mica_handle_t ep)
{
    struct mica_msg m;
    mica_msg_init(&m, NS_REGISTER);
    if (!mica_name_pack(name, m.mr))
        return MICA_EINVAL;
    int st = mica_buf_add_handle(buf, &m, ep, MICA_R_SEND | MICA_R_TRANSFER);
    return st != MICA_OK ? st : ns_call(ns, &m);
}

int mica_name_lookup(mica_handle_t ns, struct mica_ipc_buffer *buf, const char *name, mica_handle_t *out)
{
    struct mica_msg m;
    mica_msg_init(&m, NS_LOOKUP);
    if (!mica_name_pack(name, m.mr))
        return MICA_EINVAL;
    int st = ns_call(ns, &m);
    if (st == MICA_OK)
        *out = mica_buf_recv_handle(buf, &m, 0);
    return st;
}

int mica_name_lookup_wait(mica_handle_t ns, struct mica_ipc_buffer *buf, const char *name, uint64_t timeout,
                          mica_handle_t *out)
{
    uint64_t start = mica_time_us(), delay = 1000;
    for (;;) {
        int st = mica_name_lookup(ns, buf, name, out);
        if (st != MICA_EBADH)
            return st; /* found, or an error waiting cannot cure */
        uint64_t waited = mica_time_us() - start;
        if (timeout != MICA_TIMEOUT_INFINITE && waited >= timeout)
            return MICA_ETIMEOUT;
        if (timeout != MICA_TIMEOUT_INFINITE && delay > timeout - waited)
            delay = timeout - waited;
        mica_sleep_us(delay);
        delay = delay < 32000 ? delay * 2 : 64000; /* 1, 2, 4 ... 64 ms between tries */
    }
}
