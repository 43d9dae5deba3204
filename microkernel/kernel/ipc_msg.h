/* Decoding and checking a message a sender offers: the info word, and the
 * handles it lists in its IPC buffer.  Pure (no kernel state: handles are
 * looked up through a callback), so the libFuzzer target
 * test/fuzz/fuzz_ipc_msg.c runs exactly the kernel's code. */
#ifndef MICA_IPC_MSG_H
#define MICA_IPC_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "mica/abi.h"

/* The rights of handle h of the sender, or false if it has none. */
typedef bool (*ipc_handle_rights_fn)(void *ctx, uint32_t h, uint32_t *rights);

/* Check a message: sizes within the limits (MICA_ETOOLONG), a buffer when
 * it needs one (buf NULL: MICA_EFAULT), every passed handle existing
 * (MICA_EBADH) with MICA_R_TRANSFER and at least the rights given
 * (MICA_ERIGHTS).  0 when the message can be delivered. */
int ipc_msg_check(uint64_t info, const struct mica_ipc_buffer *buf, ipc_handle_rights_fn rights, void *ctx);

#endif
