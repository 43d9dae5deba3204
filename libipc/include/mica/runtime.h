/* The server runtime on top of libipc (docs/servers.md): a heap, threads,
 * a lock, and the server loop.  Memory comes from the program's pager, in
 * regions counted against its quota=; everything here needs the start-up
 * record init gives every server (<mica/start.h>): without one (init, a
 * test's child task) the heap and the thread helper answer NULL and
 * MICA_EINVAL. */
#ifndef MICA_RUNTIME_H
#define MICA_RUNTIME_H

#include <mica/ipc.h>
#include <mica/start.h>
#include <stdbool.h>

/* ---- a lock (lock.c) ------------------------------------------------------
 * A mutex between the threads of one task.  Uncontended, lock and unlock
 * are one atomic instruction each; a thread that finds it taken sleeps on
 * a notification (created on first contention) until the holder hands it
 * over, so a high-priority waiter never spins on a preempted low-priority
 * holder.  Not recursive.  Zero-initialised (MICA_LOCK_INIT) is unlocked. */
struct mica_lock {
    int64_t count;     /* holders + waiters */
    mica_handle_t ntf; /* the wait-queue notification, 0 until needed */
};
#define MICA_LOCK_INIT                                                                                       \
    {                                                                                                        \
        0, 0                                                                                                 \
    }
void mica_lock(struct mica_lock *l);
void mica_unlock(struct mica_lock *l);

/* ---- pager regions within the quota (heap.c) ------------------------------
 * A demand-zero region of at least `bytes` (rounded up to pages) from this
 * program's pager, or MICA_ENOMEM when the regions taken so far plus the
 * first thread's stack would exceed quota= (so a page fault in memory the
 * runtime gave out is never refused for the quota).  Every other pager
 * error is passed on.  The runtime's heap and threads take their memory
 * here; a program may too. */
int mica_region_alloc(uint64_t bytes, uint64_t *addr);
/* Give back a region of mica_region_alloc (address and the same size). */
int mica_region_free(uint64_t addr, uint64_t bytes);
/* Pages of the quota the runtime has taken so far, and how many are left. */
void mica_region_usage(uint64_t *taken, uint64_t *left);

/* ---- the heap (heap.c) ----------------------------------------------------
 * malloc and friends, safe from any thread.  Requests up to 32 KiB round
 * up to a size class (16 B, 32 B, ... 32 KiB, powers of two) and come from
 * 64 KiB spans of 4 MiB segments (pager regions); larger ones are a region
 * each.  A segment goes back to the pager when its last object is freed,
 * a large block when it is freed.  NULL when the quota or the pager says
 * no, never a crash.  Blocks are 16-byte aligned (large ones page-aligned). */
void *malloc(size_t n);
void free(void *p);
void *calloc(size_t count, size_t size);
void *realloc(void *p, size_t n);
/* Give the one empty segment the heap keeps for the next request back to
 * the pager (after a burst, or before counting pages). */
void mica_heap_trim(void);
/* The size class of an n-byte request (what malloc really gives), or n
 * rounded up to pages for a large one; 0 for n == 0. */
size_t mica_heap_class_size(size_t n);
#define MICA_HEAP_CLASSES 12            /* 16 B .. 32 KiB */
#define MICA_HEAP_SMALL_MAX (32u << 10) /* larger: a region of its own */

/* ---- threads (thread.c) ---------------------------------------------------
 * A thread of this task running fn(arg, ipcbuf), with a stack of
 * MICA_THREAD_STACK bytes and its own IPC buffer, both in one pager region
 * below which the pager leaves a 64 KiB hole: a stack overflow faults
 * there and stops the task, it never runs into other memory.  prio may
 * not exceed the caller's (the kernel refuses it: MICA_EUPGRADE).  Every
 * thread must be joined: mica_thread_join waits for fn to return and gives
 * the region and handles back. */
#define MICA_THREAD_STACK (64u << 10)
struct mica_thread {
    mica_handle_t thread; /* MICA_R_CONTROL: priority, abort */
    mica_handle_t done;   /* signalled once fn has returned */
    uint64_t region, bytes;
};
int mica_thread_new(mica_thread_fn *fn, uint64_t arg, int prio, struct mica_thread *t);
/* Wait up to timeout (microseconds or MICA_TIMEOUT_*) for t's end; then
 * free its stack and handles.  MICA_ETIMEOUT leaves t as it was. */
int mica_thread_join(struct mica_thread *t, uint64_t timeout);

/* ---- the server loop (serve.c) ---------------------------------------------
 * Receive on ep (needs MICA_R_RECV) forever: each message goes to fn with
 * the sender's badge and the receiving thread's IPC buffer, fn turns *m
 * into the reply, and the loop answers and receives the next one in one
 * call.  A reply the kernel refuses (a bad passed handle, a long message
 * that does not fit) is dropped with one [WARN] line and the loop goes on.
 * Returns only when receiving itself fails (ep is no endpoint this thread
 * may receive on, or it died), with that status. */
typedef void mica_serve_fn(void *ctx, uint64_t badge, struct mica_msg *m, struct mica_ipc_buffer *buf);

/* The [WARN] line for a refused reply (serve.c). */
void mica_serve_warn(mica_handle_t ep, int status);

/* What a server does when the kernel refuses its reply: the request was
 * from `badge`, the refused reply had label `label`, and the status says
 * why.  It may send another reply (mica_reply) to the same caller, who
 * still waits.  Without one, mica_serve logs mica_serve_warn's line. */
typedef void mica_serve_refused_fn(void *ctx, uint64_t badge, uint32_t label, int status);

/* Inline, so that a server's handler is called directly, and inlined
 * where the compiler sees fit: the pager's fault path is this loop.
 * mica_serve_with also takes the refusal handler (NULL: the [WARN]). */
static inline int mica_serve_with(mica_handle_t ep, struct mica_ipc_buffer *buf, mica_serve_fn *fn,
                                  mica_serve_refused_fn *refused, void *ctx)
{
    struct mica_msg m = {0};
    uint64_t badge = 0;
    int st = mica_recv(ep, &m, &badge, MICA_TIMEOUT_INFINITE);
    while (st == MICA_OK) {
        fn(ctx, badge, &m, buf);
        uint64_t served = badge;
        uint32_t label = (uint32_t)MICA_INFO_LABEL(m.info);
        st = mica_reply_recv(ep, &m, &badge, MICA_TIMEOUT_INFINITE);
        if (st != MICA_OK) {
            /* Either the reply was refused (then nothing was received) or
             * receiving failed: one more receive tells which. */
            if (refused != NULL)
                refused(ctx, served, label, st);
            else
                mica_serve_warn(ep, st);
            st = mica_recv(ep, &m, &badge, MICA_TIMEOUT_INFINITE);
        }
    }
    return st;
}

/* mica_serve_with without a refusal handler: the usual server loop. */
static inline int mica_serve(mica_handle_t ep, struct mica_ipc_buffer *buf, mica_serve_fn *fn, void *ctx)
{
    return mica_serve_with(ep, buf, fn, NULL, ctx);
}

#endif
