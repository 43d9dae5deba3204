/* Synchronous IPC through endpoints, notifications, sleeping.  Each call
 * works on `current` and its saved frame: arguments are read from the
 * frame, results written into the frames of the threads concerned. */
#ifndef MICA_IPC_H
#define MICA_IPC_H

#include <stdbool.h>
#include <stdint.h>

#include "mica/arch.h"
#include "mica/object.h"

/* Copy a short message (info word and four registers) from one saved
 * frame to another; the partner's call returns MICA_OK with `badge`.
 * Shared by the slow path and the fastpath, which must agree exactly. */
static inline void ipc_copy_regs(const struct trap_frame *from, struct trap_frame *to, uint64_t badge)
{
    arch_set_msg_info(to, arch_msg_info(from));
    for (unsigned i = 0; i < ARCH_MSG_REGS; i++)
        arch_set_msg_reg(to, i, arch_msg_reg(from, i));
    arch_set_msg_badge(to, badge);
    arch_set_status(to, MICA_OK);
}

/* The system calls (status in current's RAX, or current blocks). */
void ipc_send(struct handle *ep, uint64_t timeout, int is_call);
void ipc_recv(struct handle *ep, uint64_t timeout);
int ipc_reply(void);
void ipc_notify_signal(struct notification *n, uint64_t bits);
void ipc_notify_wait(struct notification *n, uint64_t timeout);
void ipc_sleep(uint64_t us);
/* Wake a thread blocked in IPC, a notification wait or a sleep with `status`. */
void ipc_abort(struct thread *t, int64_t status);

/* Send t's page fault to its task's pager (a call the kernel makes for
 * it); false when the task has no pager. */
bool ipc_fault_to_pager(struct thread *t, uint64_t addr, uint64_t access, uint64_t rip);

/* A timeout set by sched_set_timeout expired. */
void ipc_timeout_expired(struct thread *t);

/* The IPC fastpath for call and reply_recv (fastpath.c, entered from
 * syscall_entry); switchable for tests, with counters of its successes. */
void fastpath_set(bool on);
extern uint64_t fastpath_calls, fastpath_reply_recvs;

#endif
