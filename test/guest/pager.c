/* The pager suite (test=pager): TAP over serial.  Runs after init has
 * started the pager and handed it all free memory. */
#include "guest.h"
#include <mica/pager.h>

/* The pager's free frames plus init's own: constant while no other client
 * holds frames (init's heap grows as tests take stacks from it). */
static uint64_t free_frames(void)
{
    uint64_t f = 0, tables = 0, mine = 0;
    mica_vm_stats(pager_self, &f, &tables, &mine);
    return f + tables + mine;
}

/* FNV-1a over n bytes: a fingerprint of what must not change. */
static uint64_t fingerprint(const uint8_t *p, uint64_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Fingerprint of every module and of the boot information. */
static uint64_t boot_fingerprint(void)
{
    uint64_t h = fingerprint((const uint8_t *)bootinfo, sizeof *bootinfo);
    for (uint64_t i = 0; i < bootinfo->nmodules; i++)
        h ^= fingerprint((const uint8_t *)(uintptr_t)bootinfo->modules[i].vaddr, bootinfo->modules[i].size) +
             i;
    return h;
}

/* ---- child programs (they run init's code in their own task, and write no
 * global: they see init's data read-only) ------------------------------------ */

/* Write ~word0 into word1 of the shared page at addr. */
static void share_child(uint64_t addr, struct mica_ipc_buffer *buf)
{
    (void)buf;
    volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)addr;
    w[1] = ~w[0];
}

/* Write i + 1 into the first word of page i of `pages` pages from base. */
static void touch_pages(uint64_t base, uint64_t pages)
{
    for (uint64_t i = 0; i < pages; i++)
        *(volatile uint64_t *)(uintptr_t)(base + i * MICA_PAGE_SIZE) = i + 1;
}

/* Touch `arg & 0xffff` pages from the address in the high bits. */
static void toucher(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)buf;
    touch_pages(arg & ~0xffffull, arg & 0xffff);
}

/* In a client: reserve `pages` pages with its pager handle (low 16 bits
 * of arg; the page count in bits 16..31) and touch every one. */
static void alloc_and_touch(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)buf;
    uint64_t base = 0, pages = (arg >> 16) & 0xffff;
    if (mica_vm_alloc((mica_handle_t)(arg & 0xffff), pages * MICA_PAGE_SIZE, &base) == MICA_OK)
        touch_pages(base, pages);
}

/* In a client: reserve `pages` pages (as alloc_and_touch) and fill every
 * word of every one with a non-zero pattern, then end, leaving them dirty. */
static void alloc_and_dirty(uint64_t arg, struct mica_ipc_buffer *buf)
{
    (void)buf;
    uint64_t base = 0, pages = (arg >> 16) & 0xffff;
    if (mica_vm_alloc((mica_handle_t)(arg & 0xffff), pages * MICA_PAGE_SIZE, &base) != MICA_OK)
        return;
    volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)base;
    for (uint64_t i = 0; i < pages * (MICA_PAGE_SIZE / 8); i++)
        w[i] = 0xdead000000000000ull | i;
}

/* Wait (up to 400 ms) until the task has ended; its status. */
static struct mica_task_status wait_end(mica_handle_t task)
{
    return child_wait_end(task, 400000);
}

/* Remove a client and drop init's handles to it. */
static void drop_client(uint64_t id, mica_handle_t task, mica_handle_t thread)
{
    mica_task_kill(task);
    CHECK_EQ(mica_pager_call(pager_admin, PAGER_REMOVE_CLIENT, id, 0, NULL, NULL, NULL), MICA_OK);
    mica_handle_close(thread);
    mica_handle_close(task);
}

/* ---- cases ------------------------------------------------------------------ */

static void t_every_frame(void)
{
    uint64_t before = boot_fingerprint(), nfree = 0;
    mica_vm_stats(pager_self, &nfree, NULL, NULL);
    uint64_t frames = 0, errors = 0, dirty = 0;
    CHECK_EQ(mica_pager_call(pager_admin, PAGER_EVERY_FRAME, 0, 0, &frames, &errors, &dirty), MICA_OK);
    mica_printf(
        "# every frame: %llu frames (%llu MiB) allocated, found zero but %llu, filled, checked, freed; "
        "%llu errors\n",
        (unsigned long long)frames, (unsigned long long)(frames >> 8), (unsigned long long)dirty,
        (unsigned long long)errors);
    CHECK(frames > 0);
    CHECK_EQ(frames, nfree);
    CHECK_EQ(errors, 0);
    CHECK_EQ(dirty, 0); /* every frame was zero when taken */
    /* The boot information and every module are still what they were, and
     * the kernel still answers. */
    CHECK_EQ(boot_fingerprint(), before);
    CHECK_EQ(mica_null(), MICA_OK);
    uint64_t after = 0;
    mica_vm_stats(pager_self, &after, NULL, NULL);
    CHECK_EQ(after, nfree);
}

static void t_demand_zero(void)
{
    uint64_t base = 0;
    CHECK_EQ(mica_vm_alloc(pager_self, 64 << 10, &base), MICA_OK);
    CHECK(base >= PAGER_VM_BASE);
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)base;
    int nonzero = 0;
    for (int i = 0; i < 16 * 512; i += 64)
        nonzero += p[i] != 0;
    CHECK_EQ(nonzero, 0);
    p[0] = 0x1234;
    p[16 * 512 - 1] = 0x5678;
    CHECK_EQ(p[0], 0x1234);
    CHECK_EQ(p[16 * 512 - 1], 0x5678);
    CHECK_EQ(mica_vm_free(pager_self, base, 64 << 10), MICA_OK);
}

static void t_demand_paging_256mib(void)
{
    uint64_t nfree = free_frames(), mine0 = 0, mine1 = 0, base = 0, avail = 0;
    /* 256 MiB, or on a smaller machine what is free less 4 MiB (said below). */
    mica_vm_stats(pager_self, &avail, NULL, &mine0);
    uint64_t pages = (256ull << 20) / MICA_PAGE_SIZE;
    if (pages + 1024 > avail)
        pages = avail > 2048 ? avail - 1024 : avail / 2;
    CHECK_EQ(mica_vm_alloc(pager_self, pages * MICA_PAGE_SIZE, &base), MICA_OK);
    for (uint64_t i = 0; i < pages; i++)
        *(volatile uint64_t *)(uintptr_t)(base + i * MICA_PAGE_SIZE) = i;
    int bad = 0;
    for (uint64_t i = 0; i < pages; i += 97)
        bad += *(volatile uint64_t *)(uintptr_t)(base + i * MICA_PAGE_SIZE) != i;
    CHECK_EQ(bad, 0);
    mica_vm_stats(pager_self, NULL, NULL, &mine1);
    CHECK_EQ(mine1 - mine0, pages);
    CHECK_EQ(mica_vm_free(pager_self, base, pages * MICA_PAGE_SIZE), MICA_OK);
    CHECK_EQ(free_frames(), nfree);
    mica_printf("# demand paging: %llu pages (%llu MiB) touched and given back\n", (unsigned long long)pages,
                (unsigned long long)(pages >> 8));
}

static void t_vm_errors(void)
{
    uint64_t base = 0;
    CHECK_EQ(mica_vm_alloc(pager_self, 0, &base), MICA_EINVAL);
    CHECK_EQ(mica_vm_alloc(pager_self, 4ull << 30, &base), MICA_EINVAL);
    CHECK_EQ(mica_vm_free(pager_self, 0x1234000, 4096), MICA_EINVAL);
    /* Only init's admin badge may add memory or clients. */
    CHECK_EQ(mica_pager_call(pager_self, PAGER_ADD_MEMORY, 0, 0, NULL, NULL, NULL), MICA_EINVAL);
}

static void t_client_demand_paging(void)
{
    uint64_t nfree = free_frames(), id = 0;
    mica_handle_t t = 0, th = 0, remote = 0;
    CHECK_EQ(client_task(64, &t, &id, &remote), MICA_OK);
    CHECK_EQ(spawn_in_task(t, alloc_and_touch, remote | (32u << 16), 40, &th), MICA_OK);
    struct mica_task_status s = wait_end(t);
    CHECK_EQ(s.state, MICA_TASK_EXITED); /* finished its work, and its only thread exited */
    drop_client(id, t, th);
    CHECK_EQ(free_frames(), nfree); /* every frame back, the tables too */
}

/* Frames a client dirtied and gave back (on its removal) are the next ones
 * the pager hands out (its free list is LIFO): another client, init, must
 * see every word of them zero. */
static void t_freed_frames_reach_others_zeroed(void)
{
    uint64_t nfree = free_frames(), id = 0, base = 0;
    const uint64_t dirty = 32, mine = 64;
    mica_handle_t t = 0, th = 0, remote = 0;
    CHECK_EQ(client_task(64, &t, &id, &remote), MICA_OK);
    CHECK_EQ(spawn_in_task(t, alloc_and_dirty, remote | (dirty << 16), 40, &th), MICA_OK);
    struct mica_task_status s = wait_end(t);
    CHECK_EQ(s.state, MICA_TASK_EXITED);
    drop_client(id, t, th);
    CHECK_EQ(free_frames(), nfree);
    CHECK_EQ(mica_vm_alloc(pager_self, mine * MICA_PAGE_SIZE, &base), MICA_OK);
    const volatile uint64_t *w = (const volatile uint64_t *)(uintptr_t)base;
    uint64_t nonzero = 0;
    for (uint64_t i = 0; i < mine * (MICA_PAGE_SIZE / 8); i++)
        nonzero += w[i] != 0;
    CHECK_EQ(nonzero, 0);
    CHECK_EQ(mica_vm_free(pager_self, base, mine * MICA_PAGE_SIZE), MICA_OK);
    CHECK_EQ(free_frames(), nfree);
}

/* Never-used frames are cleared when first handed out, not at boot: the
 * pager patterns the next never-used frames (still free), and a region big
 * enough to reach past them reads zero in every word.  It is read page by
 * page, so that both paths clear some of them: first without a pause, so
 * the ring of ready frames runs dry and faults clear never-used frames
 * themselves; then with a pause every 128 pages, in which the pager's
 * clearing thread clears the never-used frames it put in the ring. */
static void t_never_used_frames_reach_clients_zeroed(void)
{
    const uint64_t scribbled = 1024, ring = 512;
    uint64_t nfree = free_frames(), avail = 0, base = 0;
    mica_vm_stats(pager_self, &avail, NULL, NULL);
    struct mica_msg m;
    mica_msg_init(&m, PAGER_SCRIBBLE_FRESH);
    m.mr[0] = scribbled;
    CHECK_EQ(mica_call(pager_admin, &m, MICA_TIMEOUT_INFINITE), MICA_OK);
    CHECK_EQ(m.mr[0], MICA_OK);
    uint64_t ahead = m.mr[1], pages = ahead + scribbled + ring;
    if (pages + 64 > avail) {
        mica_printf("# never-used frames: only %llu free, not enough to reach them; skipped\n",
                    (unsigned long long)avail);
        return;
    }
    CHECK_EQ(mica_vm_alloc(pager_self, pages * MICA_PAGE_SIZE, &base), MICA_OK);
    uint64_t nonzero = 0;
    for (uint64_t p = 0; p < pages; p++) {
        const volatile uint64_t *w = (const volatile uint64_t *)(uintptr_t)(base + p * MICA_PAGE_SIZE);
        for (uint64_t i = 0; i < MICA_PAGE_SIZE / 8; i++)
            nonzero += w[i] != 0;
        if (p >= ahead + scribbled / 2 && p % 128 == 127)
            mica_sleep_us(5000); /* the clearing thread runs */
    }
    CHECK_EQ(nonzero, 0);
    mica_printf("# never-used frames: %llu patterned, %llu pages read, %llu words not zero\n",
                (unsigned long long)scribbled, (unsigned long long)pages, (unsigned long long)nonzero);
    CHECK_EQ(mica_vm_free(pager_self, base, pages * MICA_PAGE_SIZE), MICA_OK);
    CHECK_EQ(free_frames(), nfree);
}

static void t_quota(void)
{
    uint64_t nfree = free_frames(), id = 0;
    mica_handle_t t = 0, th = 0, remote = 0;
    CHECK_EQ(client_task(8, &t, &id, &remote), MICA_OK);
    CHECK_EQ(spawn_in_task(t, alloc_and_touch, remote | (16u << 16), 40, &th), MICA_OK);
    struct mica_task_status s = wait_end(t);
    CHECK_EQ(s.state, MICA_TASK_FAULTED); /* the 9th page is over its quota */
    CHECK_EQ(s.vector, 14);
    CHECK_EQ(s.addr & 0xffff, (8 * MICA_PAGE_SIZE) & 0xffff);
    drop_client(id, t, th);
    CHECK_EQ(free_frames(), nfree);
}

static void t_unowned_memory_stops_task(void)
{
    uint64_t nfree = free_frames(), id = 0;
    mica_handle_t t = 0, th = 0, remote = 0;
    CHECK_EQ(client_task(64, &t, &id, &remote), MICA_OK);
    CHECK_EQ(spawn_in_task(t, toucher, 0x7000000000ull | 1, 40, &th), MICA_OK);
    struct mica_task_status s = wait_end(t);
    CHECK_EQ(s.state, MICA_TASK_FAULTED);
    CHECK_EQ(s.addr, 0x7000000000ull);
    CHECK_EQ(mica_null(), MICA_OK); /* and we go on */
    drop_client(id, t, th);
    CHECK_EQ(free_frames(), nfree);
}

static void t_shared_memory(void)
{
    uint64_t nfree = free_frames(), id = 0, base = 0, there = 0;
    mica_handle_t t = 0, th = 0, remote = 0;
    CHECK_EQ(client_task(64, &t, &id, &remote), MICA_OK);
    CHECK_EQ(mica_vm_alloc(pager_self, 4 * MICA_PAGE_SIZE, &base), MICA_OK);
    volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)base;
    w[0] = 0x0123456789abcdefull;
    CHECK_EQ(mica_vm_share(pager_self, base, id, &there), MICA_OK);
    CHECK(there >= PAGER_VM_BASE);
    CHECK_EQ(spawn_in_task(t, share_child, there, 40, &th), MICA_OK);
    mica_sleep_us(10000);
    CHECK_EQ(w[1], ~0x0123456789abcdefull); /* the child's write, seen here */
    CHECK_EQ(mica_vm_share(pager_self, base, pager_self_id, &there), MICA_EINVAL); /* not with oneself */
    drop_client(id, t, th);
    CHECK_EQ(mica_vm_free(pager_self, base, 4 * MICA_PAGE_SIZE), MICA_OK);
    CHECK_EQ(free_frames(), nfree);
}

/* Init serves a child's fault itself, and the kernel checks each answer. */
static void t_fault_reply_checks(void)
{
    mica_handle_t ep = 0, sendh = 0, t = 0, th = 0;
    CHECK_EQ(mica_endpoint_create(&ep), MICA_OK);
    CHECK_EQ(mica_handle_mint(ep, MICA_R_SEND, 77, &sendh), MICA_OK);
    CHECK_EQ(mica_task_create(&t), MICA_OK);
    CHECK_EQ(mica_task_set_pager(t, sendh), MICA_OK);
    CHECK_EQ(spawn_in_task(t, toucher, 0x5000000ull | 1, 40, &th), MICA_OK);
    struct mica_msg m;
    uint64_t badge = 0;
    mica_msg_init(&m, 0);
    CHECK_EQ(mica_recv(ep, &m, &badge, 1000000), MICA_OK);
    CHECK_EQ(mica_msg_label(&m), MICA_LABEL_FAULT);
    CHECK_EQ(badge, 77);
    CHECK_EQ(m.mr[0], 0x5000000);
    CHECK(m.mr[1] & MICA_FAULT_WRITE);
    CHECK(!(m.mr[1] & MICA_FAULT_PRESENT));
    uint64_t *heap = page_alloc(1);
    uint64_t text = (uint64_t)(uintptr_t)toucher & ~(MICA_PAGE_SIZE - 1);
    struct {
        uint32_t label;
        uint64_t src, dst, pages, rights;
        int want;
    } bad[] = {
        {5, (uint64_t)(uintptr_t)heap, 0x5000000, 1, MICA_MAP_READ, MICA_EINVAL}, /* not MAP/KILL */
        {MICA_FAULT_MAP, 0x3000, 0x5000000, 1, MICA_MAP_READ, MICA_ENOTOWNER},    /* not ours */
        {MICA_FAULT_MAP, (uint64_t)(uintptr_t)heap, 0x6000000, 1, MICA_MAP_READ,
         MICA_EINVAL},                                                                       /* wrong page */
        {MICA_FAULT_MAP, text, 0x5000000, 1, MICA_MAP_READ | MICA_MAP_WRITE, MICA_EUPGRADE}, /* more rights */
        {MICA_FAULT_MAP, (uint64_t)(uintptr_t)heap, 0x5000000, 1, 0, MICA_EINVAL},           /* no rights */
        {MICA_FAULT_MAP, (uint64_t)(uintptr_t)heap, 0x5000000, 0, MICA_MAP_READ, MICA_EINVAL}, /* no pages */
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mica_msg_init(&m, (uint16_t)bad[i].label);
        m.mr[0] = bad[i].src, m.mr[1] = bad[i].dst, m.mr[2] = bad[i].pages, m.mr[3] = bad[i].rights;
        CHECK_EQ(mica_reply(&m), bad[i].want);
    }
    /* Each refusal left the child waiting; now a good answer. */
    mica_msg_init(&m, MICA_FAULT_MAP);
    m.mr[0] = (uint64_t)(uintptr_t)heap, m.mr[1] = 0x5000000, m.mr[2] = 1,
    m.mr[3] = MICA_MAP_READ | MICA_MAP_WRITE;
    CHECK_EQ(mica_reply(&m), MICA_OK);
    mica_sleep_us(5000);
    CHECK_EQ(heap[0], 1); /* the child's store landed in our page */
    /* A second child is refused: its task stops, with the fault recorded. */
    mica_handle_t t2 = 0, th2 = 0;
    CHECK_EQ(mica_task_create(&t2), MICA_OK);
    CHECK_EQ(mica_task_set_pager(t2, sendh), MICA_OK);
    CHECK_EQ(spawn_in_task(t2, toucher, 0x9000000ull | 1, 40, &th2), MICA_OK);
    CHECK_EQ(mica_recv(ep, &m, &badge, 1000000), MICA_OK);
    mica_msg_init(&m, MICA_FAULT_KILL);
    CHECK_EQ(mica_reply(&m), MICA_OK);
    struct mica_task_status s = wait_end(t2);
    CHECK_EQ(s.state, MICA_TASK_FAULTED);
    CHECK_EQ(s.addr, 0x9000000);
    mica_task_kill(t);
    mica_handle_close(th);
    mica_handle_close(t);
    mica_handle_close(th2);
    mica_handle_close(t2);
    mica_handle_close(sendh);
    mica_handle_close(ep);
}

/* A pager that goes away: faults waiting at it, and faults after it, stop
 * their tasks at once; nothing hangs. */
static void t_dead_pager(void)
{
    mica_handle_t ep = 0, sendh = 0, t = 0, th = 0, t2 = 0, th2 = 0;
    CHECK_EQ(mica_endpoint_create(&ep), MICA_OK);
    CHECK_EQ(mica_handle_mint(ep, MICA_R_SEND, 9, &sendh), MICA_OK);
    CHECK_EQ(mica_task_create(&t), MICA_OK);
    CHECK_EQ(mica_task_set_pager(t, sendh), MICA_OK);
    CHECK_EQ(spawn_in_task(t, toucher, 0xa000000ull | 1, 40, &th), MICA_OK);
    mica_sleep_us(5000);
    struct mica_task_status s = {0};
    CHECK_EQ(mica_task_status(t, &s), MICA_OK);
    CHECK_EQ(s.state, MICA_TASK_ALIVE); /* its fault waits at the "pager" (us, not receiving) */
    mica_handle_close(ep);              /* the last handle that could receive */
    s = wait_end(t);
    CHECK_EQ(s.state, MICA_TASK_FAULTED);
    CHECK_EQ(s.addr, 0xa000000);
    CHECK_EQ(mica_task_create(&t2), MICA_OK);
    CHECK_EQ(mica_task_set_pager(t2, sendh), MICA_OK);
    CHECK_EQ(spawn_in_task(t2, toucher, 0xb000000ull | 1, 40, &th2), MICA_OK);
    s = wait_end(t2);
    CHECK_EQ(s.state, MICA_TASK_FAULTED); /* stopped at once */
    mica_handle_close(th);
    mica_handle_close(t);
    mica_handle_close(th2);
    mica_handle_close(t2);
    mica_handle_close(sendh);
}

GUEST_SUITE(pager);

/* test=bigmem: the pager suite's cases that do not grow with the machine,
 * for boots of 64 GiB and more (the every-frame test would touch all of
 * it), and the pager's count of what init handed over. */
static void t_free_count_matches_handover(void)
{
    uint64_t handed = 0, nfree = 0, tables = 0, mine = 0;
    for (uint64_t i = 0; i < bootinfo->nranges; i++)
        handed += bootinfo->ranges[i].size / MICA_PAGE_SIZE;
    struct mica_msg m;
    mica_msg_init(&m, PAGER_STATS);
    CHECK_EQ(mica_call(pager_admin, &m, MICA_TIMEOUT_INFINITE), MICA_OK);
    CHECK_EQ(m.mr[0], MICA_OK);
    mica_vm_stats(pager_self, &nfree, &tables, &mine);
    mica_printf("# bigmem: pager total %llu frames (%llu MiB), %llu free, %llu its tables, %llu init's; "
                "boot ranges %llu frames\n",
                (unsigned long long)m.mr[2], (unsigned long long)(m.mr[2] >> 8), (unsigned long long)nfree,
                (unsigned long long)tables, (unsigned long long)mine, (unsigned long long)handed);
    /* Init used a few pages of the window before the hand-over. */
    CHECK(m.mr[2] <= handed && handed - m.mr[2] < 1024);
    CHECK_EQ(nfree + tables + mine, m.mr[2]);
}

GUEST_CASE(bigmem, "free_count_matches_handover", t_free_count_matches_handover);
GUEST_CASE(bigmem, "demand_zero", t_demand_zero);
GUEST_CASE(bigmem, "client_demand_paging", t_client_demand_paging);
GUEST_CASE(bigmem, "freed_frames_reach_others_zeroed", t_freed_frames_reach_others_zeroed);
GUEST_CASE(bigmem, "never_used_frames_reach_clients_zeroed", t_never_used_frames_reach_clients_zeroed);
GUEST_SUITE(bigmem);

GUEST_CASE(pager, "demand_zero", t_demand_zero);
GUEST_CASE(pager, "vm_errors", t_vm_errors);
GUEST_CASE(pager, "client_demand_paging", t_client_demand_paging);
GUEST_CASE(pager, "freed_frames_reach_others_zeroed", t_freed_frames_reach_others_zeroed);
GUEST_CASE(pager, "never_used_frames_reach_clients_zeroed", t_never_used_frames_reach_clients_zeroed);
GUEST_CASE(pager, "quota", t_quota);
GUEST_CASE(pager, "unowned_memory_stops_task", t_unowned_memory_stops_task);
GUEST_CASE(pager, "shared_memory", t_shared_memory);
GUEST_CASE(pager, "fault_reply_checks", t_fault_reply_checks);
GUEST_CASE(pager, "dead_pager_does_not_hang", t_dead_pager);
GUEST_CASE(pager, "demand_paging_256mib", t_demand_paging_256mib);
GUEST_CASE(pager, "every_frame", t_every_frame);
