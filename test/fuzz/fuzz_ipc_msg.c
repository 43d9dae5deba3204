/* libFuzzer target for the kernel's message checks (microkernel/kernel/
 * ipc_msg.c): random info words, IPC buffers and sender handle tables.
 * Invariants: the result is one of the five the function may give; when it
 * accepts, every limit holds and every passed handle exists, may be
 * transferred and is given no right it lacks; the same input always gives
 * the same answer; the buffer is never written. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "microkernel/kernel/ipc_msg.h"

struct table {
    uint32_t rights[128]; /* 0: no such handle */
};

static bool lookup(void *ctx, uint32_t h, uint32_t *rights)
{
    const struct table *t = ctx;
    if (h == 0 || h >= 128 || t->rights[h] == 0)
        return false;
    *rights = t->rights[h];
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct table t = {{0}};
    struct mica_ipc_buffer buf, copy;
    uint64_t info = 0;
    memset(&buf, 0, sizeof buf);
    if (size < 9)
        return 0;
    memcpy(&info, data, 8);
    int with_buffer = data[8] & 1;
    data += 9, size -= 9;
    /* The next bytes fill the sender's table (rights of handles 1..127),
     * then the buffer's handle lists. */
    size_t n = size < 127 ? size : 127;
    for (size_t i = 0; i < n; i++)
        t.rights[i + 1] = data[i] & 0x7f;
    data += n, size -= n;
    size_t m = size < sizeof buf.send_handles + sizeof buf.send_rights
                   ? size
                   : sizeof buf.send_handles + sizeof buf.send_rights;
    memcpy(buf.send_handles, data, m);
    memcpy(&copy, &buf, sizeof buf);

    int r = ipc_msg_check(info, with_buffer ? &buf : NULL, lookup, &t);
    if (r != MICA_OK && r != MICA_ETOOLONG && r != MICA_EFAULT && r != MICA_EBADH && r != MICA_ERIGHTS)
        abort();
    if (r != ipc_msg_check(info, with_buffer ? &buf : NULL, lookup, &t))
        abort();
    if (memcmp(&copy, &buf, sizeof buf) != 0)
        abort();
    uint32_t words = MICA_INFO_WORDS(info), nh = MICA_INFO_HANDLES(info);
    if (r == MICA_OK) {
        if (words > MICA_MSG_MAX_WORDS || nh > MICA_MSG_MAX_HANDLES)
            abort();
        if ((words || nh) && !with_buffer)
            abort();
        for (uint32_t i = 0; i < nh; i++) {
            uint32_t h = buf.send_handles[i], have;
            if (!lookup(&t, h, &have) || !(have & MICA_R_TRANSFER) || (buf.send_rights[i] & ~have))
                abort();
        }
    }
    if (r == MICA_ETOOLONG && words <= MICA_MSG_MAX_WORDS && nh <= MICA_MSG_MAX_HANDLES)
        abort();
    return 0;
}
