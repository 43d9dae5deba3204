/* The IPC fastpath for call and reply_recv; see include/mica/ipc.h. */
#include "mica/ipc.h"

int fastpath_enabled = 0;

void fastpath_call(struct trap_frame *tf)
{
    (void)tf;
}

void fastpath_reply_recv(struct trap_frame *tf)
{
    (void)tf;
}
