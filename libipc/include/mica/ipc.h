/* libipc: the only way a Mica user program reaches the kernel.
 *
 * One function per system call of <mica/abi.h>, named mica_<call>: static
 * inline wrappers over the stubs of <mica/syscall.h>, so a call compiles to
 * register moves and `syscall`.  The rules, for every call:
 *   - the result is an int status, MICA_OK (0) or a negative MICA_E*,
 *     except mica_time_us (the time) and mica_thread_exit (no return);
 *   - out-parameters are written only when the call succeeds, and any of
 *     them may be NULL when the caller does not want that result;
 *   - a failed call changes nothing (abi.h);
 *   - timeouts are microseconds, or MICA_TIMEOUT_POLL / _INFINITE; they
 *     travel in R12 for every call that has one (SEND, RECV, CALL,
 *     REPLY_RECV, NOTIFY_WAIT).
 *
 * The IPC buffer of a thread.  Long messages and passed handles go through
 * the page the kernel registered as the calling thread's IPC buffer
 * (SYS_THREAD_CREATE's last argument).  User programs have no thread-local
 * storage (the ABI has no call to set FS or GS), so libipc keeps no hidden
 * "current buffer" that could be wrong on another thread.  Instead:
 *   - the mica_buf_* helpers take the buffer explicitly and are right on
 *     every thread;
 *   - mica_ipcbuf is the main thread's buffer, and the mica_msg_* helpers
 *     that touch a buffer are shorthands that use it: for the main thread
 *     (or a program with one thread) only.  In init, start-up sets it from
 *     the boot information (bootinfo->ipc_buffer).  Other programs are not
 *     told where their first thread's buffer is, but every loader puts it
 *     at MICA_IPCBUF_ADDR (abi.h), and start-up sets mica_ipcbuf to that;
 *   - a thread started with mica_thread_spawn receives its own buffer as
 *     the second argument of its function, and uses the mica_buf_* forms.
 */
#ifndef MICA_IPC_H
#define MICA_IPC_H

#include <mica/abi.h>
#include <mica/syscall.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- messages ------------------------------------------------------------
 * struct mica_msg (from <mica/syscall.h>) is the short message: the info
 * word (label, long-word count, handle count; abi.h) and mr[0..3]. */

/* Start an empty message with the given label: no long words, no handles,
 * message registers zeroed (so no stale stack data reaches the receiver). */
static inline void mica_msg_init(struct mica_msg *m, uint16_t label)
{
    m->info = MICA_INFO(label, 0, 0);
    for (int i = 0; i < MICA_MSG_REGS; i++)
        m->mr[i] = 0;
}

static inline uint32_t mica_msg_label(const struct mica_msg *m)
{
    return MICA_INFO_LABEL(m->info);
}

/* Words of long message in the IPC buffer. */
static inline uint32_t mica_msg_words(const struct mica_msg *m)
{
    return MICA_INFO_WORDS(m->info);
}

/* Handles passed with the message. */
static inline uint32_t mica_msg_handles(const struct mica_msg *m)
{
    return MICA_INFO_HANDLES(m->info);
}

/* The main thread's IPC buffer: set at start-up in init, by main in other
 * programs; see the top of this file.  Other threads never use it. */
extern struct mica_ipc_buffer *mica_ipcbuf;

/* Copy n words into buf as m's long message and set m's word count
 * (replacing any earlier long message).  MICA_ETOOLONG if n exceeds
 * MICA_MSG_MAX_WORDS, MICA_EINVAL if buf is NULL; m is unchanged then.
 * A received long message is read in place: buf->words[0 ..
 * mica_msg_words(m)). */
int mica_buf_set_long(struct mica_ipc_buffer *buf, struct mica_msg *m, const uint64_t *words, size_t n);

/* Pass handle h with m, giving the receiver `rights` (MICA_R_*; the kernel
 * refuses more than h holds, and h needs MICA_R_TRANSFER).  MICA_ETOOLONG
 * past MICA_MSG_MAX_HANDLES, MICA_EINVAL if buf is NULL. */
int mica_buf_add_handle(struct mica_ipc_buffer *buf, struct mica_msg *m, mica_handle_t h, uint32_t rights);

/* The i-th handle received with m (renumbered into this task), or
 * MICA_HANDLE_NONE if m carried fewer than i + 1 handles. */
mica_handle_t mica_buf_recv_handle(const struct mica_ipc_buffer *buf, const struct mica_msg *m, uint32_t i);

/* The same three on mica_ipcbuf, for the main thread. */
int mica_msg_set_long(struct mica_msg *m, const uint64_t *words, size_t n);
int mica_msg_add_handle(struct mica_msg *m, mica_handle_t h, uint32_t rights);
mica_handle_t mica_msg_recv_handle(const struct mica_msg *m, uint32_t i);

/* ---- IPC ----------------------------------------------------------------- */

/* Send m on endpoint ep (needs MICA_R_SEND); waits up to timeout for a
 * receiver. */
static inline int mica_send(mica_handle_t ep, const struct mica_msg *m, uint64_t timeout)
{
    return mica_syscall_send(ep, m, timeout);
}

/* Receive on ep (needs MICA_R_RECV) into *out; *badge is the badge of the
 * handle the sender used.  The one exception to "written only on success":
 * a failed receive leaves an empty message (all zero) and badge 0, so a
 * server loop's `struct mica_msg m;` is never read uninitialised (gcc
 * would say so under -Werror=maybe-uninitialized otherwise). */
static inline int mica_recv(mica_handle_t ep, struct mica_msg *out, uint64_t *badge, uint64_t timeout)
{
    struct mica_msg m;
    uint64_t b;
    int st = mica_syscall_recv(ep, &m, timeout, &b);
    if (st != MICA_OK) {
        m = (struct mica_msg){0};
        b = 0;
    }
    if (out != NULL)
        *out = m;
    if (badge != NULL)
        *badge = b;
    return st;
}

/* Send *inout on ep and wait for the reply, which replaces *inout. */
static inline int mica_call(mica_handle_t ep, struct mica_msg *inout, uint64_t timeout)
{
    struct mica_msg m = *inout;
    uint64_t b;
    int st = mica_syscall_exchange(SYS_CALL, ep, &m, timeout, &b);
    if (st == MICA_OK)
        *inout = m;
    return st;
}

/* Reply to the caller this thread last received from. */
static inline int mica_reply(const struct mica_msg *m)
{
    return mica_syscall_reply(m);
}

/* Reply with *inout, then receive the next message on ep into *inout: the
 * server loop in one call. */
static inline int mica_reply_recv(mica_handle_t ep, struct mica_msg *inout, uint64_t *badge, uint64_t timeout)
{
    struct mica_msg m = *inout;
    uint64_t b;
    int st = mica_syscall_exchange(SYS_REPLY_RECV, ep, &m, timeout, &b);
    if (st == MICA_OK) {
        *inout = m;
        if (badge != NULL)
            *badge = b;
    }
    return st;
}

/* OR bits into notification ntf (needs MICA_R_SIGNAL). */
static inline int mica_notify_signal(mica_handle_t ntf, uint64_t bits)
{
    return mica_syscall2(SYS_NOTIFY_SIGNAL, ntf, bits, NULL);
}

/* Wait on notification ntf (needs MICA_R_WAIT); *bits gets the bits. */
static inline int mica_notify_wait(mica_handle_t ntf, uint64_t *bits, uint64_t timeout)
{
    uint64_t v;
    int st = mica_syscall1_t(SYS_NOTIFY_WAIT, ntf, timeout, &v);
    if (st == MICA_OK && bits != NULL)
        *bits = v;
    return st;
}

/* ---- threads and time ---------------------------------------------------- */

/* The cheapest round trip into the kernel. */
static inline int mica_null(void)
{
    return mica_syscall0(SYS_NULL, NULL);
}

/* Write len bytes of s to the kernel's debug console. */
static inline int mica_debug_write(const char *s, size_t len)
{
    return mica_syscall2(SYS_DEBUG_WRITE, (uint64_t)(uintptr_t)s, len, NULL);
}

static inline int mica_yield(void)
{
    return mica_syscall0(SYS_YIELD, NULL);
}

static inline int mica_sleep_us(uint64_t us)
{
    return mica_syscall1(SYS_SLEEP, us, NULL);
}

/* Microseconds since boot. */
static inline uint64_t mica_time_us(void)
{
    uint64_t t;
    mica_syscall0(SYS_TIME, &t);
    return t;
}

/* Create a thread in task (needs MICA_R_CONTROL) at entry with the given
 * stack pointer, argument word, priority (MICA_PRIO_MIN..MAX) and IPC
 * buffer page (0 for none).  entry, stack and ipc_buffer are addresses in
 * the task's address space, which need not be the caller's.  The thread
 * starts at entry with RSP = stack; abi.h does not yet say which register
 * carries arg (libipc's _start expects RSI, see the runtime below).  For a
 * thread of this task running a C function, use mica_thread_spawn. */
static inline int mica_thread_create(mica_handle_t task, uint64_t entry, uint64_t stack, uint64_t arg,
                                     int prio, uint64_t ipc_buffer, mica_handle_t *out)
{
    uint64_t h;
    int st =
        mica_syscall6(SYS_THREAD_CREATE, task, entry, stack, arg, (uint64_t)(int64_t)prio, ipc_buffer, &h);
    if (st == MICA_OK && out != NULL)
        *out = (mica_handle_t)h;
    return st;
}

/* End the calling thread with an exit code. */
static inline _Noreturn void mica_thread_exit(int code)
{
    mica_syscall1(SYS_THREAD_EXIT, (uint64_t)(int64_t)code, NULL);
    __builtin_trap(); /* the kernel never returns here; if it did, fault loudly */
}

/* Set the priority of thread thr (needs MICA_R_CONTROL). */
static inline int mica_thread_set_priority(mica_handle_t thr, int prio)
{
    return mica_syscall2(SYS_THREAD_SET_PRIORITY, thr, (uint64_t)(int64_t)prio, NULL);
}

/* End thread thr's IPC wait, notification wait or sleep: that call returns
 * MICA_EABORTED in thr (needs MICA_R_CONTROL). */
static inline int mica_thread_abort(mica_handle_t thr)
{
    return mica_syscall1(SYS_THREAD_ABORT, thr, NULL);
}

/* ---- kernel objects and handles ------------------------------------------ */

static inline int mica_endpoint_create(mica_handle_t *out)
{
    uint64_t h;
    int st = mica_syscall0(SYS_ENDPOINT_CREATE, &h);
    if (st == MICA_OK && out != NULL)
        *out = (mica_handle_t)h;
    return st;
}

static inline int mica_notification_create(mica_handle_t *out)
{
    uint64_t h;
    int st = mica_syscall0(SYS_NOTIFICATION_CREATE, &h);
    if (st == MICA_OK && out != NULL)
        *out = (mica_handle_t)h;
    return st;
}

static inline int mica_handle_close(mica_handle_t h)
{
    return mica_syscall1(SYS_HANDLE_CLOSE, h, NULL);
}

/* A new handle to h's object with fewer (or equal) rights and a badge; h
 * needs MICA_R_TRANSFER. */
static inline int mica_handle_mint(mica_handle_t h, uint32_t rights, uint64_t badge, mica_handle_t *out)
{
    uint64_t n;
    int st = mica_syscall3(SYS_HANDLE_MINT, h, rights, badge, &n);
    if (st == MICA_OK && out != NULL)
        *out = (mica_handle_t)n;
    return st;
}

/* The object type (enum mica_obj_type), rights and badge of h. */
static inline int mica_handle_info(mica_handle_t h, uint32_t *type, uint32_t *rights, uint64_t *badge)
{
    uint64_t t, r, b;
    int st = mica_syscall1_r3(SYS_HANDLE_INFO, h, &t, &r, &b);
    if (st == MICA_OK) {
        if (type != NULL)
            *type = (uint32_t)t;
        if (rights != NULL)
            *rights = (uint32_t)r;
        if (badge != NULL)
            *badge = b;
    }
    return st;
}

/* A new, empty task (address space and handle table) whose kernel-memory
 * quota is kmem_pages carved out of ours (0: MICA_KMEM_DEFAULT). */
static inline int mica_task_create_kmem(uint64_t kmem_pages, mica_handle_t *out)
{
    uint64_t h;
    int st = mica_syscall1(SYS_TASK_CREATE, kmem_pages, &h);
    if (st == MICA_OK && out != NULL)
        *out = (mica_handle_t)h;
    return st;
}

/* A new, empty task with the default kernel-memory quota. */
static inline int mica_task_create(mica_handle_t *out)
{
    return mica_task_create_kmem(0, out);
}

/* Kernel memory of a task (0: the caller), in pages. */
struct mica_kmem {
    uint64_t used, limit, given; /* given: the limits of the tasks it created, part of used */
};

/* Read the kernel-memory use and limit of task (0: the caller). */
static inline int mica_kmem_info(mica_handle_t task, struct mica_kmem *out)
{
    uint64_t r[3];
    int st = mica_syscall1_r3(SYS_KMEM_INFO, task, &r[0], &r[1], &r[2]);
    if (st == MICA_OK && out != NULL)
        *out = (struct mica_kmem){r[0], r[1], r[2]};
    return st;
}

/* Set the kernel-memory limit of a task we created (pages move between
 * its quota and ours); its use and new limit come back in out. */
static inline int mica_kmem_set(mica_handle_t task, uint64_t pages, struct mica_kmem *out)
{
    uint64_t r[3];
    int st = mica_syscall2_r3(SYS_KMEM_SET, task, pages, r);
    if (st == MICA_OK && out != NULL)
        *out = (struct mica_kmem){r[0], r[1], r[2]};
    return st;
}

/* Destroy task (needs MICA_R_CONTROL) with its threads. */
static inline int mica_task_kill(mica_handle_t task)
{
    return mica_syscall1(SYS_TASK_KILL, task, NULL);
}

/* Put a copy of h, with the given rights and badge, into task's handle
 * table (task needs MICA_R_MAP); *out_remote is its number there. */
static inline int mica_task_give(mica_handle_t task, mica_handle_t h, uint32_t rights, uint64_t badge,
                                 mica_handle_t *out_remote)
{
    uint64_t n;
    int st = mica_syscall4(SYS_TASK_GIVE, task, h, rights, badge, &n);
    if (st == MICA_OK && out_remote != NULL)
        *out_remote = (mica_handle_t)n;
    return st;
}

/* ---- memory -------------------------------------------------------------- */

/* Map `pages` pages starting at src (in the caller's space) at dst in
 * task's space (needs MICA_R_MAP) with rights MICA_MAP_* (never more than
 * the caller holds on src). */
static inline int mica_map(mica_handle_t task, uint64_t src, uint64_t dst, uint64_t pages, uint32_t rights)
{
    return mica_syscall5(SYS_MAP, task, src, dst, pages, rights, NULL);
}

static inline int mica_unmap(mica_handle_t task, uint64_t dst, uint64_t pages)
{
    return mica_syscall3(SYS_UNMAP, task, dst, pages, NULL);
}

/* ---- debugging and tests ------------------------------------------------- */

/* The kernel writes its object counts into *out. */
static inline int mica_debug_counts(struct mica_obj_counts *out)
{
    return mica_syscall1(SYS_DEBUG_COUNTS, (uint64_t)(uintptr_t)out, NULL);
}

/* Switch the IPC fastpath on or off (tests; abi.h: needs the boot handle). */
static inline int mica_fastpath_set(int on)
{
    return mica_syscall1(SYS_FASTPATH_SET, on != 0, NULL);
}

/* End the run (the emulator, under a test= command line), reporting
 * failure when `failed` is non-zero.  First task only: elsewhere it returns
 * an error. */
static inline int mica_debug_shutdown(int failed)
{
    return mica_syscall1(SYS_DEBUG_SHUTDOWN, failed != 0, NULL);
}

/* ---- paging and supervision (docs/pager.md) --------------------------------- */

/* Send task's page faults to endpoint ep (needs MICA_R_CONTROL on task and
 * MICA_R_SEND on ep, whose badge the pager then sees); 0 clears it. */
static inline int mica_task_set_pager(mica_handle_t task, mica_handle_t ep)
{
    return mica_syscall2(SYS_TASK_SET_PAGER, task, ep, NULL);
}

/* Why a task ended: state (enum mica_task_state), exception vector, fault
 * address, RIP and error code (for MICA_TASK_EXITED, the exit code of its
 * last thread); a live task reports MICA_TASK_ALIVE. */
struct mica_task_status {
    uint64_t state, vector, addr, rip, error;
};
static inline int mica_task_status(mica_handle_t task, struct mica_task_status *out)
{
    uint64_t r[5];
    int st = mica_syscall1_r5(SYS_TASK_STATUS, task, r);
    if (st == MICA_OK && out != NULL)
        *out = (struct mica_task_status){r[0], r[1], r[2], r[3], r[4]};
    return st;
}

/* Lower the rights of `pages` mapped pages of task at dst to MICA_MAP_*
 * rights (never more than each page has); needs MICA_R_MAP on task. */
static inline int mica_protect(mica_handle_t task, uint64_t dst, uint64_t pages, uint32_t rights)
{
    return mica_syscall4(SYS_PROTECT, task, dst, pages, rights, NULL);
}

/* Signal `bits` on notification ntf when task ends. */
static inline int mica_task_watch(mica_handle_t task, mica_handle_t ntf, uint64_t bits)
{
    return mica_syscall3(SYS_TASK_WATCH, task, ntf, bits, NULL);
}

/* ---- the runtime (crt0.asm, start.c) ------------------------------------ */

/* Every program defines main.  The first thread starts in _start with RSP
 * 16-byte aligned, RDI = the boot-information page (init) or 0, RSI = the
 * argument word; mica_start sets mica_ipcbuf from the boot information (if
 * any), calls main(bi, arg) and ends the thread with main's result as the
 * exit code.  The loader maps the image as linked by libipc/user.ld and
 * zeroes .bss, as ELF requires. */
int main(const struct mica_bootinfo *bi, uint64_t arg);

/* The function a spawned thread runs: its argument word and its own IPC
 * buffer (as given to mica_thread_spawn).  Returning ends the thread with
 * exit code 0. */
typedef void mica_thread_fn(uint64_t arg, struct mica_ipc_buffer *ipcbuf);

/* Start a thread of THIS task running fn(arg, ipcbuf): task must be the
 * caller's own task handle (e.g. bootinfo->self_task for init), because
 * the start block is written through the caller's mapping of the stack.
 * stack_top is the top of the new thread's stack (it is aligned down to 16
 * and the top 32 bytes hold the start block, where the thread's RSP
 * starts), ipcbuf a page-aligned page (MICA_PAGE_SIZE) to register as its
 * IPC buffer, or NULL.  MICA_EINVAL for a NULL fn or stack; otherwise the
 * status of SYS_THREAD_CREATE. */
int mica_thread_spawn(mica_handle_t task, mica_thread_fn *fn, uint64_t arg, void *stack_top, int prio,
                      struct mica_ipc_buffer *ipcbuf, mica_handle_t *out);
/* The same, and when fn returns the thread signals bit 1 on notification
 * `done` (0: none) as its very last use of its stack, then exits: whoever
 * waits on `done` may then give the stack back (mica_thread_join). */
int mica_thread_spawn_signal(mica_handle_t task, mica_thread_fn *fn, uint64_t arg, void *stack_top, int prio,
                             struct mica_ipc_buffer *ipcbuf, mica_handle_t done, mica_handle_t *out);

/* ---- printing (print.c) ---------------------------------------------------
 * Formatted with libbase's fmt_vsnprintf (%d %i %u %x %X %o %c %s %p, no
 * floating point) into a 256-byte stack buffer, written with one
 * SYS_DEBUG_WRITE.  Output longer than 255 bytes is cut, and its last three
 * bytes become "...".  A write identical to the one before is not written
 * but counted: the line comes again with "[so far N times]" at 10, 100,
 * 1000, ... copies, and with "[in all N times]" before the next different
 * line.  Return the number of bytes written (or counted), or a negative
 * MICA_E* status. */
int mica_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mica_vprintf(const char *fmt, va_list ap);

/* Write s and a newline (one write when the line fits in 256 bytes, so
 * lines of different threads do not interleave).  Returns as mica_printf. */
int mica_puts(const char *s);

#endif
