/* test=kmem: kernel-memory quotas (issue 14, docs/kernel.md "Kernel memory").
 *
 * A greedy task spends its whole quota every way the ABI allows: tasks
 * (each with its handle table and top-level table), threads (records,
 * kernel stacks, FPU areas), endpoints and notifications (parked in its
 * child tasks' tables, so its own table is not the limit), and page tables
 * through sparse maps of one page into itself; then every kind of
 * allocation fails with MICA_ENOMEM at its own call.  While it holds all of
 * that: echo (another server) keeps answering, a worker server keeps taking
 * page faults that need new page tables, a third task is created and
 * mapped, and init restarts echo after a crash.  A fault whose tables a
 * child's quota cannot pay is refused by the pager, or served by a pager
 * that raises the quota first.  When the greedy task is killed, the pool is
 * back at its baseline, page for page.
 *
 * The ISO carries init, the pager and echo (restart=on-failure).  A thread
 * suite: the cases run in a thread of init while init's main thread serves
 * the names, in the order they are written. */
#include <mica/names.h>
#include <mica/pager.h>

#include "guest.h"

#define ECHO_CRASH 0x666
#define SUITE_PRIO 30
#define CHILD_PRIO 20
#define PAGE MICA_PAGE_SIZE

#define GREEDY_KMEM 256u
#define GREEDY_KIDS 8
#define GREEDY_KID_KMEM 8u
#define GREEDY_THREADS 4
#define GREEDY_OBJECTS 100          /* endpoints and notifications, before the maps */
#define GREEDY_VA 0x200000000000ull /* 32 TiB: nothing of init's code is shared there */
#define WORKER_KMEM 96u
#define WORKER_REGION (64ull << 20)
#define WORKER_TOUCHES 16
#define RAISE_VA 0x280000000000ull
#define REPORT_WAIT_US 5000000ull

/* The name service, through the suite thread's own IPC buffer. */
static mica_handle_t ns;
#define suite_buf guest_buffer

/* ---- the greedy task (runs init's code with init's data read-only: no
 * globals, no printing; it reports by one call that is never answered) ---- */

/* What the greedy task saw, bit by bit. */
enum {
    G_TASKS = 1 << 0,     /* its child tasks were created */
    G_THREADS = 1 << 1,   /* its threads were created */
    G_OBJECTS = 1 << 2,   /* its first endpoints and notifications */
    G_MAPS = 1 << 3,      /* sparse maps ran into MICA_ENOMEM */
    G_FILLED = 1 << 4,    /* endpoints, then notifications, until MICA_ENOMEM */
    G_FULL = 1 << 5,      /* used == limit */
    G_ALL_ENOMEM = 1 << 6 /* every kind of allocation then fails with MICA_ENOMEM */
};
#define G_EVERYTHING 0x7f

static void sleeper(uint64_t ntf, struct mica_ipc_buffer *buf)
{
    (void)buf;
    for (;;)
        mica_notify_wait((mica_handle_t)ntf, NULL, MICA_TIMEOUT_INFINITE);
}

/* Create objects with `create` (at most `max`), each handed to one of the
 * kids and closed here, so they live on, charged to us.  How many were
 * made; the status that stopped it in *last. */
static uint64_t park_new(int (*create)(mica_handle_t *), uint32_t rights, const mica_handle_t *kids,
                         unsigned nkids, uint64_t max, int *last)
{
    uint64_t n = 0;
    int st = MICA_OK;
    while (n < max) {
        mica_handle_t h = 0, there = 0;
        st = create(&h);
        if (st != MICA_OK)
            break;
        st = mica_task_give(kids[n % nkids], h, rights, 0, &there);
        mica_handle_close(h);
        if (st != MICA_OK)
            break;
        n++;
    }
    *last = st;
    return n;
}

/* Map src into self at va, va + step, ... until a call fails; the count,
 * the failing status in *last and the last address mapped in *at. */
static uint64_t map_until_error(mica_handle_t self, uint64_t src, uint64_t va, uint64_t step, int *last,
                                uint64_t *at)
{
    uint64_t n = 0;
    int st;
    while ((st = mica_map(self, src, va, 1, MICA_MAP_READ)) == MICA_OK) {
        *at = va;
        va += step;
        n++;
    }
    *last = st;
    return n;
}

static void greedy(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)buf;
    mica_handle_t rep = (mica_handle_t)arg, self = (mica_handle_t)(arg >> 32), kids[GREEDY_KIDS], ntf = 0;
    _Static_assert(GREEDY_THREADS * 512 <= 4096, "the sleepers' stacks fit in ours");
    char stacks[GREEDY_THREADS][512] __attribute__((aligned(16)));
    uint64_t ok = 0, ne = 0, nn = 0, nmaps = 0, at = 0;
    unsigned nk = 0, nt = 0;
    int st = MICA_OK, st2 = MICA_OK;

    while (nk < GREEDY_KIDS && mica_task_create_kmem(GREEDY_KID_KMEM, &kids[nk]) == MICA_OK)
        nk++;
    ok |= nk == GREEDY_KIDS ? G_TASKS : 0;
    if (nk == 0)
        nk = 1; /* park_new needs a kid; the report says what went wrong */
    if (mica_notification_create(&ntf) == MICA_OK)
        for (; nt < GREEDY_THREADS; nt++) {
            mica_handle_t th = 0;
            if (mica_thread_spawn(self, sleeper, ntf, stacks[nt] + sizeof stacks[nt], CHILD_PRIO, NULL,
                                  &th) != MICA_OK)
                break;
        }
    ok |= nt == GREEDY_THREADS ? G_THREADS : 0;

    ne = park_new(mica_endpoint_create, MICA_R_SEND | MICA_R_RECV, kids, nk, GREEDY_OBJECTS, &st);
    nn = park_new(mica_notification_create, MICA_R_SIGNAL | MICA_R_WAIT, kids, nk, GREEDY_OBJECTS, &st2);
    ok |= ne == GREEDY_OBJECTS && nn == GREEDY_OBJECTS ? G_OBJECTS : 0;

    /* Page tables: one page of our stack, mapped 1 GiB apart (a directory
     * and a table each), then 2 MiB apart in the last gigabyte (a table
     * each) until not one page is left. */
    uint64_t src = (uint64_t)(uintptr_t)stacks & ~(PAGE - 1);
    nmaps = map_until_error(self, src, GREEDY_VA, 1ull << 30, &st, &at);
    if (st == MICA_ENOMEM && nmaps > 0)
        nmaps += map_until_error(self, src, at + (2ull << 20), 2ull << 20, &st, &at);
    ok |= st == MICA_ENOMEM && nmaps > 1 ? G_MAPS : 0;

    ne += park_new(mica_endpoint_create, MICA_R_SEND | MICA_R_RECV, kids, nk, UINT64_MAX, &st);
    nn += park_new(mica_notification_create, MICA_R_SIGNAL | MICA_R_WAIT, kids, nk, UINT64_MAX, &st2);
    ok |= st == MICA_ENOMEM && st2 == MICA_ENOMEM ? G_FILLED : 0;

    struct mica_kmem k = {0};
    ok |= mica_kmem_info(0, &k) == MICA_OK && k.used == k.limit && k.limit == GREEDY_KMEM ? G_FULL : 0;

    mica_handle_t h = 0;
    int all = mica_task_create_kmem(MICA_KMEM_TASK_MIN, &h) == MICA_ENOMEM;
    all &= mica_thread_spawn(self, sleeper, ntf, stacks[0] + sizeof stacks[0], CHILD_PRIO, NULL, &h) ==
           MICA_ENOMEM;
    all &= mica_map(self, src, at + (1ull << 30) * 2, 1, MICA_MAP_READ) == MICA_ENOMEM;
    all &= mica_endpoint_create(&h) == MICA_ENOMEM;
    all &= mica_notification_create(&h) == MICA_ENOMEM;
    ok |= all ? G_ALL_ENOMEM : 0;

    struct mica_msg m = {0};
    mica_msg_init(&m, 1);
    m.mr[0] = ok;
    m.mr[1] = ne;
    m.mr[2] = nn;
    m.mr[3] = nmaps;
    mica_call(rep, &m, MICA_TIMEOUT_INFINITE); /* never answered: we hold on until killed */
    for (;;)
        mica_notify_wait(ntf, NULL, MICA_TIMEOUT_INFINITE);
}

/* ---- a worker server: each call names an address of its pager region to
 * write; a first touch is a fault, and 2 MiB apart each needs a new table
 * charged to the worker's own quota ---- */

static void worker(uint64_t ep, struct mica_ipc_buffer *buf)
{
    (void)buf;
    struct mica_msg m = {0};
    uint64_t badge;
    int st = mica_recv((mica_handle_t)ep, &m, &badge, MICA_TIMEOUT_INFINITE);
    for (;;) {
        if (st == MICA_OK) {
            volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)m.mr[0];
            *p = m.mr[1];
            m.mr[0] = *p + 1;
            m.info = MICA_INFO(1, 0, 0);
        }
        st = mica_reply_recv((mica_handle_t)ep, &m, &badge, MICA_TIMEOUT_INFINITE);
    }
}

struct worker {
    mica_handle_t task, thread, ep;
    uint64_t id, region;
};

/* pager_add_client through this thread's own IPC buffer (the library's
 * helper uses the main thread's, which serves the names meanwhile). */
static int add_client(mica_handle_t task, uint64_t *id, uint64_t *badge)
{
    struct mica_msg m = {0};
    mica_msg_init(&m, PAGER_ADD_CLIENT);
    m.mr[0] = 1024; /* frames */
    m.info = MICA_INFO(PAGER_ADD_CLIENT, 0, 1);
    suite_buf->send_handles[0] = task;
    suite_buf->send_rights[0] = MICA_R_MAP;
    int st = mica_call(pager_admin, &m, MICA_TIMEOUT_INFINITE);
    if (st == MICA_OK && (int64_t)m.mr[0] != MICA_OK)
        st = (int)(int64_t)m.mr[0];
    *id = m.mr[1];
    *badge = m.mr[2];
    return st;
}

/* Start a worker with its own quota, as a pager client with a 64 MiB
 * region; false after failed checks. */
static bool worker_start(struct worker *w, uint64_t kmem)
{
    mica_handle_t remote = 0, pe = 0;
    uint64_t badge = 0;
    int before = guest_case_failures();
    *w = (struct worker){0};
    CHECK_EQ(mica_endpoint_create(&w->ep), MICA_OK);
    CHECK_EQ(mica_task_create_kmem(kmem, &w->task), MICA_OK);
    CHECK_EQ(add_client(w->task, &w->id, &badge), MICA_OK);
    CHECK_EQ(mica_handle_mint(pager_mint, MICA_R_SEND, badge, &pe), MICA_OK);
    CHECK_EQ(mica_task_set_pager(w->task, pe), MICA_OK);
    mica_handle_close(pe);
    struct mica_msg m = {0};
    mica_msg_init(&m, PAGER_VM_ALLOC_FOR);
    m.mr[0] = w->id;
    m.mr[1] = WORKER_REGION;
    CHECK_EQ(mica_call(pager_admin, &m, MICA_TIMEOUT_INFINITE), MICA_OK);
    CHECK_EQ(m.mr[0], MICA_OK);
    w->region = m.mr[1];
    CHECK_EQ(mica_task_give(w->task, w->ep, MICA_R_RECV, 0, &remote), MICA_OK);
    CHECK_EQ(spawn_in_task(w->task, worker, remote, CHILD_PRIO, &w->thread), MICA_OK);
    return guest_case_failures() == before;
}

/* Ask w to write v at page i (2 MiB apart) of its region: its status. */
static int worker_touch(struct worker *w, unsigned i, uint64_t v)
{
    struct mica_msg m = {0};
    mica_msg_init(&m, 1);
    m.mr[0] = w->region + (uint64_t)i * (2ull << 20);
    m.mr[1] = v;
    int st = mica_call(w->ep, &m, MICA_TIMEOUT_INFINITE);
    return st == MICA_OK && m.mr[0] != v + 1 ? MICA_EINVAL : st;
}

/* Kill w, give its frames back to the pager, drop the handles. */
static void worker_stop(struct worker *w)
{
    struct mica_msg m = {0};
    mica_task_kill(w->task);
    mica_msg_init(&m, PAGER_REMOVE_CLIENT);
    m.mr[0] = w->id;
    CHECK_EQ(mica_call(pager_admin, &m, MICA_TIMEOUT_INFINITE), MICA_OK);
    mica_handle_close(w->thread);
    mica_handle_close(w->task);
    mica_handle_close(w->ep);
}

/* ---- echo through the name service ---- */

/* Call echo through a fresh lookup: its status (the reply checked). */
static int call_echo(uint64_t label)
{
    mica_handle_t echo = 0;
    int st = mica_name_lookup(ns, suite_buf, "echo", &echo);
    if (st != MICA_OK)
        return st;
    struct mica_msg m = {0};
    mica_msg_init(&m, label);
    m.mr[0] = 41;
    st = mica_call(echo, &m, MICA_TIMEOUT_INFINITE);
    if (st == MICA_OK && (mica_msg_label(&m) != label + 1 || m.mr[0] != 42))
        st = MICA_EINVAL;
    mica_handle_close(echo);
    return st;
}

/* Call echo until it answers (it registers again after a restart). */
static int echo_answers(void)
{
    int st = MICA_EBADH;
    for (int i = 0; i < 300 && (st = call_echo(5)) != MICA_OK; i++)
        mica_sleep_us(10000);
    return st;
}

/* ---- cases ---- */

static mica_handle_t greedy_task, greedy_thread, greedy_rep;
static struct mica_obj_counts base;

/* The name service's handle, before the first case. */
static void kmem_setup(unsigned pass)
{
    (void)pass;
    ns = servers_ns_handle();
}

GUEST_SUITE(kmem, .before_pass = kmem_setup, .thread = true);

/* Echo answers; init's own quota is read; the baseline is taken. */
GUEST_TEST(kmem, setup)
{
    CHECK_EQ(echo_answers(), MICA_OK);
    struct mica_kmem mine = {0};
    CHECK_EQ(mica_kmem_info(0, &mine), MICA_OK);
    CHECK(mine.used <= mine.limit && mine.given >= 2); /* the pager's and echo's quotas */
    mica_sleep_us(20000);
    CHECK_EQ(mica_debug_counts(&base), MICA_OK);
    CHECK_EQ(base.kmem_limit, mine.limit);
}

/* The greedy task spends its quota every way and reports. */
GUEST_TEST(kmem, greedy_spends_its_whole_quota)
{
    mica_handle_t r1 = 0, r2 = 0;
    CHECK_EQ(mica_endpoint_create(&greedy_rep), MICA_OK);
    CHECK_EQ(mica_task_create_kmem(GREEDY_KMEM, &greedy_task), MICA_OK);
    CHECK_EQ(mica_task_give(greedy_task, greedy_rep, MICA_R_SEND, 0, &r1), MICA_OK);
    CHECK_EQ(mica_task_give(greedy_task, greedy_task, MICA_R_ALL, 0, &r2), MICA_OK);
    CHECK_EQ(spawn_in_task(greedy_task, greedy, r1 | (uint64_t)r2 << 32, CHILD_PRIO, &greedy_thread),
             MICA_OK);
    struct mica_msg m = {0};
    uint64_t badge;
    CHECK_EQ(mica_recv(greedy_rep, &m, &badge, REPORT_WAIT_US), MICA_OK);
    CHECK_EQ(m.mr[0], G_EVERYTHING);
    CHECK(m.mr[1] > GREEDY_OBJECTS && m.mr[2] > GREEDY_OBJECTS && m.mr[3] > 2);
    mica_printf("# kmem: the greedy task made %llu endpoints, %llu notifications and %llu sparse maps; "
                "what it saw: 0x%llx (0x%x is everything)\n",
                (unsigned long long)m.mr[1], (unsigned long long)m.mr[2], (unsigned long long)m.mr[3],
                (unsigned long long)m.mr[0], G_EVERYTHING);
    struct mica_kmem k = {0};
    CHECK_EQ(mica_kmem_info(greedy_task, &k), MICA_OK);
    CHECK_EQ(k.used, GREEDY_KMEM);
    CHECK_EQ(k.limit, GREEDY_KMEM);
    CHECK_EQ(k.given, GREEDY_KIDS * GREEDY_KID_KMEM);
    mica_debug_counts(NULL); /* every task's use and limit, on the log */
}

/* While the greedy task holds its quota: echo answers, a worker takes
 * faults that need new tables, init makes and maps a third task. */
GUEST_TEST(kmem, others_go_on)
{
    struct worker w;
    CHECK_EQ(call_echo(5), MICA_OK);
    if (worker_start(&w, WORKER_KMEM)) {
        for (unsigned i = 0; i < WORKER_TOUCHES; i++)
            CHECK_EQ(worker_touch(&w, i, 100 + i), MICA_OK);
        struct mica_kmem k = {0};
        CHECK_EQ(mica_kmem_info(w.task, &k), MICA_OK);
        CHECK(k.used > WORKER_TOUCHES && k.used <= WORKER_KMEM); /* a table per touch, its own */
        worker_stop(&w);
    }
    mica_handle_t t3 = 0;
    char *page = page_alloc(1);
    CHECK(page != NULL);
    CHECK_EQ(mica_task_create_kmem(32, &t3), MICA_OK);
    for (uint64_t i = 1; page && i <= 4; i++)
        CHECK_EQ(mica_map(t3, (uint64_t)(uintptr_t)page, i << 30, 1, MICA_MAP_READ | MICA_MAP_WRITE),
                 MICA_OK);
    struct mica_kmem k3 = {0};
    CHECK_EQ(mica_kmem_info(t3, &k3), MICA_OK);
    CHECK(k3.used >= 2 + 4 && k3.limit == 32);
    CHECK_EQ(mica_task_kill(t3), MICA_OK);
    mica_handle_close(t3);
    CHECK_EQ(call_echo(5), MICA_OK);
}

/* Echo crashes mid-call and init restarts it from its own quota. */
GUEST_TEST(kmem, restart_goes_on)
{
    const struct server *s = servers_find("echo");
    CHECK(s != NULL);
    unsigned starts = s ? s->starts : 0;
    CHECK_EQ(call_echo(ECHO_CRASH), MICA_EDEAD);
    for (int i = 0; s && i < 300 && s->starts == starts; i++)
        mica_sleep_us(10000);
    CHECK(s != NULL && s->starts == starts + 1);
    CHECK_EQ(echo_answers(), MICA_OK);
}

/* A child whose quota cannot pay for a fault's tables: the real pager
 * refuses it (the task stops, the pager says why); init, as the pager of
 * another child, raises that child's quota and serves the fault. */
static void child_touch(uint64_t ep, struct mica_ipc_buffer *buf)
{
    (void)buf;
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)RAISE_VA;
    *p = 7;
    struct mica_msg m = {0};
    mica_msg_init(&m, 2);
    m.mr[0] = *p;
    mica_send((mica_handle_t)ep, &m, MICA_TIMEOUT_INFINITE);
}

GUEST_TEST(kmem, fault_over_quota)
{
    /* Refused: a worker with no room left faults on a fresh 2 MiB. */
    struct worker w;
    if (worker_start(&w, WORKER_KMEM)) {
        CHECK_EQ(worker_touch(&w, 0, 1), MICA_OK);
        struct mica_kmem k = {0};
        CHECK_EQ(mica_kmem_info(w.task, &k), MICA_OK);
        CHECK_EQ(mica_kmem_set(w.task, k.used, &k), MICA_OK);
        CHECK_EQ(k.limit, k.used);
        CHECK_EQ(mica_kmem_set(w.task, k.used - 1, NULL), MICA_EBUSY); /* below its use */
        CHECK_EQ(worker_touch(&w, 5, 1), MICA_EDEAD);
        struct mica_task_status ts = {0};
        CHECK_EQ(mica_task_status(w.task, &ts), MICA_OK);
        CHECK_EQ(ts.state, MICA_TASK_FAULTED);
        CHECK_EQ(ts.vector, 14);
        worker_stop(&w);
    }

    /* Served after a raise: init is the child's pager. */
    mica_handle_t ep = 0, send = 0, task = 0, th = 0, remote = 0;
    char *page = page_alloc(1);
    CHECK(page != NULL);
    CHECK_EQ(mica_endpoint_create(&ep), MICA_OK);
    CHECK_EQ(mica_handle_mint(ep, MICA_R_SEND | MICA_R_TRANSFER, 0x77, &send), MICA_OK);
    CHECK_EQ(mica_task_create_kmem(64, &task), MICA_OK);
    CHECK_EQ(mica_task_set_pager(task, send), MICA_OK);
    CHECK_EQ(mica_task_give(task, send, MICA_R_SEND, 0x77, &remote), MICA_OK);
    CHECK_EQ(spawn_in_task(task, child_touch, remote, CHILD_PRIO, &th), MICA_OK);
    struct mica_kmem k = {0};
    CHECK_EQ(mica_kmem_info(task, &k), MICA_OK);
    CHECK_EQ(mica_kmem_set(task, k.used, NULL), MICA_OK); /* not one page left */
    struct mica_msg m = {0};
    uint64_t badge = 0;
    CHECK_EQ(mica_recv(ep, &m, &badge, REPORT_WAIT_US), MICA_OK);
    CHECK_EQ(mica_msg_label(&m), MICA_LABEL_FAULT);
    CHECK_EQ(m.mr[0], RAISE_VA);
    struct mica_msg map = {0};
    mica_msg_init(&map, MICA_FAULT_MAP);
    map.mr[0] = (uint64_t)(uintptr_t)page;
    map.mr[1] = RAISE_VA;
    map.mr[2] = 1;
    map.mr[3] = MICA_MAP_READ | MICA_MAP_WRITE;
    CHECK_EQ(mica_reply(&map), MICA_ENOMEM); /* its quota cannot pay: the child keeps waiting */
    CHECK_EQ(mica_kmem_set(task, k.used + 8, &k), MICA_OK);
    CHECK_EQ(mica_reply(&map), MICA_OK);
    CHECK_EQ(mica_recv(ep, &m, &badge, REPORT_WAIT_US), MICA_OK);
    CHECK_EQ(mica_msg_label(&m), 2);
    CHECK_EQ(m.mr[0], 7);
    CHECK_EQ(mica_kmem_info(task, &k), MICA_OK);
    CHECK(k.used > k.limit - 8 && k.used <= k.limit);
    CHECK_EQ(mica_kmem_set(task, k.limit, NULL), MICA_OK);
    /* Only the creator moves a task's pages. */
    CHECK_EQ(mica_kmem_set(bootinfo->self_task, 100, NULL), MICA_ERIGHTS);
    CHECK_EQ(mica_kmem_set(task, 1, NULL), MICA_EINVAL);
    CHECK_EQ(mica_task_create_kmem(1, NULL), MICA_EINVAL);
    CHECK_EQ(mica_task_create_kmem(UINT64_MAX / 2, NULL), MICA_ENOMEM);
    CHECK_EQ(mica_task_create_kmem(UINT64_MAX, NULL), MICA_ENOMEM); /* not "all that is left" */
    mica_task_kill(task);
    mica_handle_close(th);
    mica_handle_close(task);
    mica_handle_close(send);
    mica_handle_close(ep);
}

/* Kill the greedy task: every page comes back. */
GUEST_TEST(kmem, back_to_baseline_page_for_page)
{
    struct mica_obj_counts end;
    CHECK_EQ(mica_task_kill(greedy_task), MICA_OK);
    mica_handle_close(greedy_thread);
    mica_handle_close(greedy_task);
    mica_handle_close(greedy_rep);
    mica_sleep_us(20000); /* dead threads' stacks are freed when the kernel next schedules */
    mica_debug_counts(&end);
    for (int i = 0; i < MICA_TAG_COUNT; i++)
        if (i != MICA_TAG_PAGE_TABLE)
            CHECK_EQ(end.live[i], base.live[i]);
    /* Page for page: only init's own new page tables (its heap grew) differ. */
    uint64_t new_tables = end.live[MICA_TAG_PAGE_TABLE] - base.live[MICA_TAG_PAGE_TABLE];
    CHECK(new_tables < 8);
    CHECK_EQ(end.pool_pages_free + new_tables, base.pool_pages_free);
    CHECK_EQ(end.kmem_used, base.kmem_used + new_tables);
    mica_printf(
        "# kmem: pool %llu of %llu pages free at the start, %llu at the end (init's page tables: +%llu)\n",
        (unsigned long long)base.pool_pages_free, (unsigned long long)base.pool_pages_total,
        (unsigned long long)end.pool_pages_free, (unsigned long long)new_tables);
    if (guest_case_failures())
        mica_debug_counts(NULL);
}
