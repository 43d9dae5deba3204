/* The pager's free frames; see frames.h and docs/pager.md ("Frames").
 *
 * Three forms of free frame, taken in this order:
 *   1. recycled: frames given back, cleared when given back (frames_give),
 *      on a LIFO list threaded through word 0 of the frames themselves;
 *   2. ready: a ring of RING frames that the cleaner thread (lowest
 *      priority) cleared ahead of time;
 *   3. never used: the ranges init handed over, taken with a bump pointer
 *      and cleared on the spot (the cold path).
 * Nothing here costs per page at hand-over: a range is two words, whatever
 * its size.  So a boot with 256 GiB hands memory over as fast as one with
 * 512 MiB, and no frame is written before it is first needed.
 *
 * Who writes what.  The pager's main thread owns everything but `clean`;
 * the cleaner only reads ring[] and `tail` and writes `clean`.  There is
 * one CPU and the cleaner has the lowest priority, so the main thread is
 * never interrupted by it, while the cleaner may be stopped anywhere (in
 * the middle of clearing a frame): the main thread never hands out a ring
 * frame past `clean` (the cleaner may be clearing the one at `clean`), and
 * waits for the cleaner (frames_settle) before it takes the ring back.
 * When never-used frames run out, it takes ring frames back from the end
 * (`tail`) but never the one at `clean`, so a small machine does not lose
 * up to 2 MiB to a cleaner that has not run yet. */
#include "frames.h"

#define MAX_FRESH 128                /* never-used ranges (init's ranges, merged) */
#define RING 512u                    /* ready frames: 2 MiB cleared ahead */
#define CLEANER_PRIO 1               /* below every server and test */
#define PATTERN 0xf5eedf5eedf5eedull /* frames_scribble's words */

struct fresh {
    uint64_t next, end; /* never-used frames [next, end) */
};

static struct fresh fresh[MAX_FRESH];
static unsigned nfresh, fcur; /* ranges in use; the first one with frames */
static uint64_t nfresh_left, ntotal;

static uint64_t rec_head, nrec; /* recycled: clear but for the link word */

/* The ring: [head, clean) cleared, [clean, tail) still to clear; indices
 * grow forever, slot = index % RING. */
static uint64_t ring[RING];
static uint64_t head, tail;
static uint64_t clean;     /* written by the cleaner only */
static mica_handle_t wake; /* notification the cleaner waits on */
static int cleaner_up, paused, cold;

/* Fill the page at f with zeros: 512 iterations of `rep stosq`. */
static void page_zero(uint64_t f)
{
    uint64_t n = MICA_PAGE_SIZE / 8;
    __asm__ volatile("rep stosq" : "+D"(f), "+c"(n) : "a"(0ull) : "memory");
}

int frames_add(uint64_t base, uint64_t bytes)
{
    bytes &= ~(MICA_PAGE_SIZE - 1);
    if (bytes == 0)
        return MICA_OK;
    if (nfresh > 0 && fresh[nfresh - 1].end == base) {
        fresh[nfresh - 1].end += bytes; /* init hands a range over in chunks */
    } else {
        if (nfresh == MAX_FRESH)
            return MICA_ENOMEM;
        fresh[nfresh++] = (struct fresh){base, base + bytes};
    }
    nfresh_left += bytes / MICA_PAGE_SIZE;
    ntotal += bytes / MICA_PAGE_SIZE;
    return MICA_OK;
}

/* The next never-used frame, contents unknown, or 0. */
static uint64_t fresh_take(void)
{
    while (fcur < nfresh && fresh[fcur].next == fresh[fcur].end)
        fcur++;
    if (fcur == nfresh)
        return 0;
    uint64_t f = fresh[fcur].next;
    fresh[fcur].next += MICA_PAGE_SIZE;
    nfresh_left--;
    return f;
}

/* Give the cleaner never-used frames until its ring is full, and wake it. */
static void ring_top_up(void)
{
    uint64_t f, was = tail;
    if (!cleaner_up || paused)
        return;
    while (tail - head < RING && (f = fresh_take()) != 0)
        ring[tail++ % RING] = f;
    __atomic_signal_fence(__ATOMIC_RELEASE);
    if (tail != was)
        mica_notify_signal(wake, 1);
}

uint64_t frames_take(void)
{
    uint64_t f = rec_head;
    if (f != 0 && !cold) {
        rec_head = *(uint64_t *)f;
        *(uint64_t *)f = 0;
        nrec--;
        return f;
    }
    if (head != __atomic_load_n(&clean, __ATOMIC_ACQUIRE) && !cold) {
        f = ring[head++ % RING];
        if (tail - head <= RING / 2)
            ring_top_up();
        return f;
    }
    f = fresh_take();
    if (f == 0 && tail - __atomic_load_n(&clean, __ATOMIC_ACQUIRE) > 1)
        f = ring[--tail % RING]; /* memory is short: take back the last frame not yet cleared */
    if (f != 0)
        page_zero(f);
    return f;
}

void frames_give(uint64_t f)
{
    page_zero(f);
    *(uint64_t *)f = rec_head;
    rec_head = f;
    nrec++;
}

uint64_t frames_free(void)
{
    return nrec + (tail - head) + nfresh_left;
}

uint64_t frames_total(void)
{
    return ntotal;
}

/* The cleaner: clear each frame the main thread put in the ring, then wait
 * for more.  A frame counts as ready only once `clean` has passed it. */
static void cleaner(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)arg;
    (void)buf;
    for (;;) {
        uint64_t c = __atomic_load_n(&clean, __ATOMIC_RELAXED), bits;
        while (c != __atomic_load_n(&tail, __ATOMIC_ACQUIRE)) {
            page_zero(ring[c % RING]);
            __atomic_store_n(&clean, ++c, __ATOMIC_RELEASE);
        }
        mica_notify_wait(wake, &bits, MICA_TIMEOUT_INFINITE);
    }
}

int frames_start_cleaner(mica_handle_t self_task, uint64_t *meta)
{
    if (cleaner_up)
        return MICA_EEXISTS; /* two cleaners would both write `clean` */
    uint64_t stack = frames_take(), ipcbuf = frames_take();
    mica_handle_t th = 0;
    int st = stack && ipcbuf ? mica_notification_create(&wake) : MICA_ENOMEM;
    if (st == MICA_OK)
        st = mica_thread_spawn(self_task, cleaner, 0, (void *)(uintptr_t)(stack + MICA_PAGE_SIZE),
                               CLEANER_PRIO, (struct mica_ipc_buffer *)(uintptr_t)ipcbuf, &th);
    if (st != MICA_OK) {
        if (stack)
            frames_give(stack);
        if (ipcbuf)
            frames_give(ipcbuf);
        return st;
    }
    mica_handle_close(th);
    *meta += 2;
    cleaner_up = 1;
    ring_top_up();
    return MICA_OK;
}

void frames_settle(void)
{
    paused = 1;
    while (cleaner_up && __atomic_load_n(&clean, __ATOMIC_ACQUIRE) != tail)
        mica_sleep_us(1000); /* the cleaner runs when nothing else does */
    while (head != tail) {
        uint64_t f = ring[head++ % RING];
        *(uint64_t *)f = rec_head;
        rec_head = f;
        nrec++;
    }
}

void frames_resume(void)
{
    paused = 0;
    ring_top_up();
}

void frames_set_cold(int on)
{
    cold = on;
}

uint64_t frames_scribble(uint64_t n)
{
    unsigned r = fcur;
    uint64_t at = r < nfresh ? fresh[r].next : 0;
    for (uint64_t done = 0; done < n && r < nfresh;) {
        if (at == fresh[r].end) {
            if (++r < nfresh)
                at = fresh[r].next;
            continue;
        }
        uint64_t *w = (uint64_t *)(uintptr_t)at;
        for (uint64_t i = 0; i < MICA_PAGE_SIZE / 8; i++)
            w[i] = PATTERN ^ i;
        at += MICA_PAGE_SIZE;
        done++;
    }
    return nrec + (tail - head);
}
