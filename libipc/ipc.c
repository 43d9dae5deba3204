/* The message helpers that touch an IPC buffer; see <mica/ipc.h> for why
 * the buffer is an explicit argument. */
#include <mica/ipc.h>

/* Owned by the main thread; set by the program, never by libipc. */
struct mica_ipc_buffer *mica_ipcbuf;

#define INFO_WORDS_FIELD MICA_INFO(0, 0xff, 0)

int mica_buf_set_long(struct mica_ipc_buffer *buf, struct mica_msg *m, const uint64_t *words, size_t n)
{
    if (buf == NULL || (words == NULL && n != 0))
        return MICA_EINVAL;
    if (n > MICA_MSG_MAX_WORDS)
        return MICA_ETOOLONG;
    /* A word loop, not libbase's byte-wise memcpy (gcc leaves it a loop:
     * -ffreestanding turns off its memcpy idiom). */
    for (size_t i = 0; i < n; i++)
        buf->words[i] = words[i];
    m->info = (m->info & ~INFO_WORDS_FIELD) | MICA_INFO(0, n, 0);
    return MICA_OK;
}

int mica_buf_add_handle(struct mica_ipc_buffer *buf, struct mica_msg *m, mica_handle_t h, uint32_t rights)
{
    if (buf == NULL)
        return MICA_EINVAL;
    uint32_t k = MICA_INFO_HANDLES(m->info);
    if (k >= MICA_MSG_MAX_HANDLES)
        return MICA_ETOOLONG;
    buf->send_handles[k] = h;
    buf->send_rights[k] = rights;
    m->info += MICA_INFO(0, 0, 1);
    return MICA_OK;
}

mica_handle_t mica_buf_recv_handle(const struct mica_ipc_buffer *buf, const struct mica_msg *m, uint32_t i)
{
    if (buf == NULL || i >= MICA_INFO_HANDLES(m->info) || i >= MICA_MSG_MAX_HANDLES)
        return MICA_HANDLE_NONE;
    return buf->recv_handles[i];
}

int mica_msg_set_long(struct mica_msg *m, const uint64_t *words, size_t n)
{
    return mica_buf_set_long(mica_ipcbuf, m, words, n);
}

int mica_msg_add_handle(struct mica_msg *m, mica_handle_t h, uint32_t rights)
{
    return mica_buf_add_handle(mica_ipcbuf, m, h, rights);
}

mica_handle_t mica_msg_recv_handle(const struct mica_msg *m, uint32_t i)
{
    return mica_buf_recv_handle(mica_ipcbuf, m, i);
}
