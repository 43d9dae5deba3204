/* rtcheck: what a server gets, checked from inside a server (rtcheck.h).
 * Each check prints "# rtcheck NAME: ..." for a failed step and answers
 * RT_RUN with the number of failures; the runtime suite in init reports
 * them as TAP. */
#include <base/str.h>
#include <mica/names.h>
#include <mica/pager.h>
#include <mica/runtime.h>

#include "rtcheck.h"

static int failures;
static const struct mica_start *me;

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            failures++;                                                                                      \
            mica_printf("# rtcheck %s:%d: check failed: %s\n", me->name, __LINE__, #cond);                   \
        }                                                                                                    \
    } while (0)

/* Frames the pager counts for this server now. */
static uint64_t frames(void)
{
    uint64_t mine = 0;
    mica_vm_stats(me->pager, NULL, NULL, &mine);
    return mine;
}

/* ---- heap: 64 MiB through malloc, in blocks of every size class ---------- */

#define HEAP_TOTAL (64ull << 20)
#define LARGE_BLOCK (1ull << 20)
#define CLASS_BYTES (4ull << 20) /* per small class: 12 * 4 MiB + 16 * 1 MiB = 64 MiB */

/* Allocate `bytes` in blocks of `size`, each linked to the one before
 * through its first word and stamped in its last byte, touching every page
 * of it; the last block, or NULL (and a failure) if malloc said no. */
static void **fill(size_t size, uint64_t bytes, void **chain)
{
    for (uint64_t done = 0; done < bytes; done += size) {
        uint8_t *b = malloc(size);
        CHECK(b != NULL);
        if (b == NULL)
            return chain;
        CHECK(((uintptr_t)b & 15) == 0);
        for (size_t off = MICA_PAGE_SIZE; off < size; off += MICA_PAGE_SIZE)
            b[off] = 1; /* every page of a large block */
        *(void ***)b = chain;
        b[size - 1] = (uint8_t)size;
        chain = (void **)b;
    }
    return chain;
}

/* Free a chain of blocks of `size`, checking each block's stamp. */
static void drain(void **chain, size_t size)
{
    while (chain != NULL) {
        uint8_t *b = (uint8_t *)chain;
        CHECK(b[size - 1] == (uint8_t)size);
        chain = *(void ***)b;
        free(b);
    }
}

static void check_heap(void)
{
    uint64_t before = frames(), taken = 1;
    void **chains[MICA_HEAP_CLASSES + 1] = {0};
    for (unsigned c = 0; c < MICA_HEAP_CLASSES; c++) {
        CHECK(mica_heap_class_size(16u << c) == (16u << c));
        chains[c] = fill(16u << c, CLASS_BYTES, NULL);
    }
    chains[MICA_HEAP_CLASSES] = fill(LARGE_BLOCK, HEAP_TOTAL - MICA_HEAP_CLASSES * CLASS_BYTES, NULL);
    uint64_t during = frames();
    mica_printf("# rtcheck %s: 64 MiB in 12 size classes and 1 MiB blocks: %llu frames (%llu before)\n",
                me->name, (unsigned long long)during, (unsigned long long)before);
    CHECK(during - before >= HEAP_TOTAL / MICA_PAGE_SIZE);
    /* realloc keeps the contents when a block moves to a bigger class. */
    char *r = malloc(20);
    CHECK(r != NULL);
    for (int i = 0; r && i < 20; i++)
        r[i] = (char)i;
    char *r2 = realloc(r, 5000);
    CHECK(r2 != NULL);
    for (int i = 0; r2 && i < 20; i++)
        CHECK(r2[i] == (char)i);
    free(r2);
    uint64_t *z = calloc(1000, 8);
    CHECK(z != NULL && z[0] == 0 && z[999] == 0);
    free(z);
    for (unsigned c = 0; c < MICA_HEAP_CLASSES; c++)
        drain(chains[c], 16u << c);
    drain(chains[MICA_HEAP_CLASSES], LARGE_BLOCK);
    mica_heap_trim();
    mica_region_usage(&taken, NULL);
    CHECK(taken == 0);
    CHECK(frames() == before);
    mica_printf("# rtcheck %s: all freed: %llu frames, %llu pages of regions\n", me->name,
                (unsigned long long)frames(), (unsigned long long)taken);
    /* The pager places regions first-fit: a freed address is used again,
     * so allocating and freeing for ever never runs out of addresses. */
    uint64_t a = 0, b = 0;
    for (int i = 0; i < 1000; i++) {
        CHECK(mica_region_alloc(1u << 20, &b) == MICA_OK);
        CHECK(i == 0 || b == a);
        a = b;
        CHECK(mica_region_free(b, 1u << 20) == MICA_OK);
    }
}

/* ---- quota: malloc says no instead of the pager stopping us ---------------- */

static void check_quota(void)
{
    uint64_t left = 0;
    mica_region_usage(NULL, &left);
    CHECK(left == me->quota_pages - (me->stack_top - me->stack_base) / MICA_PAGE_SIZE);
    CHECK(malloc(me->quota_pages * MICA_PAGE_SIZE) == NULL); /* a large block past the quota */
    void **chain = NULL;
    unsigned n = 0;
    for (void **b; (b = malloc(32u << 10)) != NULL; n++) {
        *b = chain;
        chain = b;
        ((volatile char *)b)[(32u << 10) - 1] = 1; /* touched: the pager counts it */
    }
    mica_printf("# rtcheck %s: quota=%llu pages: %u blocks of 32 KiB, then malloc returned NULL\n", me->name,
                (unsigned long long)me->quota_pages, n);
    CHECK(n > 0);
    CHECK(frames() <= me->quota_pages);
    while (chain != NULL) {
        void **next = *chain;
        free(chain);
        chain = next;
    }
    void *again = malloc(100); /* still alive, and the heap works again */
    CHECK(again != NULL);
    free(again);
}

/* ---- threads ---------------------------------------------------------------------- */

#define NTHREADS 8
static struct mica_lock count_lock = MICA_LOCK_INIT;
static uint64_t count;

/* Count to 1000 under the lock, with the heap busy in between. */
static void worker(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)buf;
    for (int i = 0; i < 1000; i++) {
        void *p = malloc(16 + (size_t)(arg * 40 + (uint64_t)i) % 3000);
        mica_lock(&count_lock);
        count++;
        mica_unlock(&count_lock);
        free(p);
        if (i % 100 == 0)
            mica_yield();
    }
}

static void check_threads(void)
{
    struct mica_thread t[NTHREADS];
    uint64_t taken0 = 0, taken = 0;
    mica_region_usage(&taken0, NULL);
    count = 0;
    for (int i = 0; i < NTHREADS; i++)
        CHECK(mica_thread_new(worker, (uint64_t)i, me->prio, &t[i]) == MICA_OK);
    for (int i = 0; i < NTHREADS; i++)
        CHECK(mica_thread_join(&t[i], 10000000) == MICA_OK);
    CHECK(count == NTHREADS * 1000);
    mica_heap_trim();
    mica_region_usage(&taken, NULL);
    CHECK(taken == taken0); /* every stack back to the pager */
    mica_printf("# rtcheck %s: %d threads ran and exited, count %llu\n", me->name, NTHREADS,
                (unsigned long long)count);
}

/* ---- limits: the own task handle does not lift the kernel's checks ----------- */

static void idle(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)arg, (void)buf;
}

static void check_limits(void)
{
    struct mica_thread t;
    uint32_t type = 0, rights = 0;
    CHECK(mica_handle_info(me->self_task, &type, &rights, NULL) == MICA_OK);
    CHECK(type == MICA_OBJ_TASK && rights == (MICA_R_CONTROL | MICA_R_MAP));
    /* No thread above our priority, none raised above it. */
    CHECK(mica_thread_new(idle, 0, me->prio + 1, &t) == MICA_EUPGRADE);
    CHECK(mica_thread_new(idle, 0, me->prio, &t) == MICA_OK);
    CHECK(mica_thread_set_priority(t.thread, me->prio + 1) == MICA_EUPGRADE);
    CHECK(mica_thread_set_priority(t.thread, MICA_PRIO_MAX) == MICA_EUPGRADE);
    CHECK(mica_thread_join(&t, 1000000) == MICA_OK);
    /* Mapping: nothing we do not have, nothing more than we have. */
    CHECK(mica_map(me->self_task, 0x7000000000ull, 0x7100000000ull, 1, MICA_MAP_READ) == MICA_ENOTOWNER);
    CHECK(mica_map(me->self_task, MICA_START_ADDR, 0x7100000000ull, 1, MICA_MAP_READ | MICA_MAP_WRITE) ==
          MICA_EUPGRADE);
    /* ... but our own pages, within ourselves, yes. */
    volatile uint64_t *p = malloc(64);
    CHECK(p != NULL);
    *p = 42;
    uint64_t page = (uint64_t)(uintptr_t)p & ~(MICA_PAGE_SIZE - 1);
    CHECK(mica_map(me->self_task, page, 0x7100000000ull, 1, MICA_MAP_READ) == MICA_OK);
    CHECK(*(volatile uint64_t *)(uintptr_t)(0x7100000000ull + ((uintptr_t)p & (MICA_PAGE_SIZE - 1))) == 42);
    CHECK(mica_unmap(me->self_task, 0x7100000000ull, 1) == MICA_OK);
    free((void *)p);
    /* The handle cannot be copied or passed on, nor the pager's widened. */
    mica_handle_t copy = 0;
    CHECK(mica_handle_mint(me->self_task, MICA_R_CONTROL, 0, &copy) == MICA_ERIGHTS);
    CHECK(mica_handle_mint(me->pager, MICA_R_SEND, 0, &copy) == MICA_ERIGHTS);
    struct mica_msg m;
    mica_msg_init(&m, PAGER_EVERY_FRAME); /* init's requests are init's */
    CHECK(mica_call(me->pager, &m, MICA_TIMEOUT_INFINITE) == MICA_OK && (int64_t)m.mr[0] == MICA_EINVAL);
}

/* ---- restart: what a fresh start gets ---------------------------------------- */

static void check_handles(void)
{
    uint32_t type = 0;
    CHECK(mica_handle_info(me->pager, &type, NULL, NULL) == MICA_OK && type == MICA_OBJ_ENDPOINT);
    CHECK(mica_handle_info(me->names, &type, NULL, NULL) == MICA_OK && type == MICA_OBJ_ENDPOINT);
    CHECK(mica_handle_info(me->self_task, &type, NULL, NULL) == MICA_OK && type == MICA_OBJ_TASK);
    struct mica_thread t;
    CHECK(mica_thread_new(idle, 0, me->prio, &t) == MICA_OK && mica_thread_join(&t, 1000000) == MICA_OK);
    mica_handle_t self = 0;
    CHECK(mica_name_lookup(me->names, mica_ipcbuf, me->name, &self) == MICA_OK);
    mica_handle_close(self);
}

/* ---- overflow: a thread's stack runs into the hole below its region --------- */

static volatile uint64_t depth;
/* Never reached, but it keeps the recursion visibly bounded to gcc. */
static volatile uint64_t depth_limit = ~0ull;

/* Recurse until the stack is gone: 64 KiB of stack, 1 KiB a frame. */
static void recurse(uint64_t arg, struct mica_ipc_buffer *buf)
{
    volatile char frame[1024];
    frame[0] = (char)arg;
    if (++depth < depth_limit)
        recurse(arg + (uint64_t)frame[0], buf);
    frame[1] = 0; /* not a tail call */
}

static struct mica_thread overflowing;

/* Start the thread that overflows, one priority below us, so it runs once
 * this reply is out; its region's base (the guard hole is below it). */
static uint64_t start_overflow(void)
{
    CHECK(mica_thread_new(recurse, 0, me->prio - 1, &overflowing) == MICA_OK);
    return overflowing.region;
}

static void run(const char *what)
{
    if (str_eq(what, "heap"))
        check_heap();
    else if (str_eq(what, "quota"))
        check_quota();
    else if (str_eq(what, "threads"))
        check_threads();
    else if (str_eq(what, "limits"))
        check_limits();
    else if (str_eq(what, "restart"))
        check_handles();
    else if (str_eq(what, "overflow"))
        (void)0; /* serve() starts it: the reply carries the region */
    else
        CHECK(!"a known check");
}

/* One call from the suite. */
static void serve(void *ctx, uint64_t badge, struct mica_msg *m, struct mica_ipc_buffer *buf)
{
    (void)ctx, (void)badge, (void)buf;
    uint32_t label = mica_msg_label(m);
    uint64_t pages = m->mr[0];
    if (label == RT_CRASH)
        *(volatile uint64_t *)0 = 1; /* as asked: die while the caller waits */
    failures = 0;
    if (label == RT_RUN)
        run(me->argv[0]);
    else if (label == RT_TOUCH)
        for (uint64_t i = 0; i < pages; i++)
            CHECK(calloc(1, 4096) != NULL); /* kept: the next instance must not have them */
    mica_msg_init(m, 0);
    m->mr[0] = (uint64_t)failures;
    m->mr[1] = me->generation;
    m->mr[2] = me->pager_client;
    m->mr[3] = frames();
    if (label == RT_RUN && str_eq(me->argv[0], "overflow"))
        m->mr[2] = start_overflow(); /* instead of the pager client */
}

int main(const struct mica_bootinfo *bi, uint64_t arg)
{
    (void)bi, (void)arg;
    mica_handle_t ep = 0;
    me = mica_start_info();
    if (me == NULL || me->argc != 1 || mica_endpoint_create(&ep) != MICA_OK ||
        mica_name_register(me->names, mica_ipcbuf, "", ep) != MICA_OK) {
        mica_puts("[FAIL] rtcheck: no start-up record, no check named after --, or no name");
        return 1;
    }
    return mica_serve(ep, mica_ipcbuf, serve, NULL);
}
