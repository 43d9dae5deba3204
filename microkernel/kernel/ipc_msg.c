/* Message checks; see ipc_msg.h. */
#include <stddef.h>

#include "ipc_msg.h"

int ipc_msg_check(uint64_t info, const struct mica_ipc_buffer *buf, ipc_handle_rights_fn rights, void *ctx)
{
    uint32_t words = MICA_INFO_WORDS(info), nh = MICA_INFO_HANDLES(info);
    if (words > MICA_MSG_MAX_WORDS || nh > MICA_MSG_MAX_HANDLES)
        return MICA_ETOOLONG;
    if (words == 0 && nh == 0)
        return MICA_OK;
    if (buf == NULL)
        return MICA_EFAULT;
    for (uint32_t i = 0; i < nh; i++) {
        uint32_t have;
        if (!rights(ctx, buf->send_handles[i], &have))
            return MICA_EBADH;
        if (!(have & MICA_R_TRANSFER) || (buf->send_rights[i] & ~have))
            return MICA_ERIGHTS;
    }
    return MICA_OK;
}
