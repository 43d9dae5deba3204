/* The mapping-database suite (test=mdb, issue 13): a frame taken back is
 * taken back from every task that reached it, however far it was passed
 * on.  TAP over serial.  Tasks that must map run an agent: a thread of
 * init's code that performs one call per message from init (a task can
 * only map from its own pages).  SYS_DEBUG_MAPPING shows init what each
 * task maps and how deep in the database it is.
 *
 *   take_back_region_freed     a client maps a pager page into a task; the
 *                              client frees the region; the task's next
 *                              touch faults instead of reading
 *   take_back_client_removed   the same with a page granted on: it outlives
 *                              the client's death, not the pager taking
 *                              the frame back when the client is removed;
 *                              a new client then gets the frame
 *   chain_five_deep            pager -> T0 -> ... -> T4: depths 1..5; one
 *                              unmap at the top removes all five
 *   protect_reaches_chain_end  lowering T0's rights lowers T4's; its write faults
 *   task_dies_mid_chain        killing T2 takes T2..T4 and leaves T0, T1
 *   fan_out_64                 one page in 64 tasks: MICA_UNMAP_DERIVED
 *                              removes 64 and keeps the client's; freeing
 *                              the region takes all
 *   split_2m_in_middle         a 2 MiB page of init's, mapped on whole and in
 *                              4 KiB pieces (and on again from the whole
 *                              one), unmapped in the middle, then in part
 *                              with MICA_UNMAP_DERIVED, then protected
 *   run_2m                     three whole 2 MiB pages in one map (the
 *                              kernel's run path): refused in the middle by
 *                              a page already there, nothing is mapped;
 *                              allowed, all three are, whole; taking back
 *                              what was derived removes all three
 *   pager_window_split         three frames of the pager's; freeing the
 *                              middle one leaves the others everywhere
 *   model                      random map / grant / unmap / protect / task
 *                              death against a reference model (mdb_model.c)
 *   objects_back_to_baseline   kernel objects as before the suite (runner.c) */
#include <mica/pager.h>

#include "guest.h"
#include "mdb_agent.h"

#define INF MICA_TIMEOUT_INFINITE
#define PAGE MICA_PAGE_SIZE
#define RW (MICA_MAP_READ | MICA_MAP_WRITE)
#define DST 0x200000000000ull /* where the suite maps in its tasks */
#define VEC_PF 14
#define FANOUT 64
#define CHAIN 5

static uint64_t held_2m;  /* a 2 MiB page of the window init kept (2 MiB aligned) */
static uint64_t held_run; /* three more, side by side, for run_2m */

/* n 2 MiB pages of the window, side by side and 2 MiB aligned, or 0.
 * page_alloc takes the window in order: skip to the next 2 MiB boundary,
 * then take them; when a range runs out it moves to the next (whose start
 * may not be aligned): then try again there. */
static uint64_t reserve_2m(uint64_t n)
{
    const uint64_t big = 2ull << 20;
    for (int tries = 0; tries < 4; tries++) {
        void *one = page_alloc(1);
        if (one == NULL)
            return 0;
        uint64_t next = (uint64_t)(uintptr_t)one + PAGE;
        uint64_t pad = ((next + big - 1) & ~(big - 1)) - next;
        if (pad != 0 && page_alloc(pad / PAGE) == NULL)
            return 0;
        uint64_t p = (uint64_t)(uintptr_t)page_alloc(n * big / PAGE);
        if (p != 0 && (p & (big - 1)) == 0)
            return p;
    }
    return 0;
}

/* Before the pager gets the free memory: keep 2 MiB pages of it, so init
 * holds some of the kernel's own 2 MiB mappings (roots) for
 * split_2m_in_middle and run_2m. */
static void mdb_reserve(void)
{
    held_2m = reserve_2m(1);
    held_run = reserve_2m(3);
}

/* ---- helpers ------------------------------------------------------------------ */

/* A handle with MICA_R_MAP on `task` in task `to`: its number there, or 0. */
static mica_handle_t give_map(mica_handle_t to, mica_handle_t task)
{
    mica_handle_t remote = 0;
    if (mica_task_give(to, task, MICA_R_MAP, 0, &remote) != MICA_OK)
        return 0;
    return remote;
}

/* Tell the pager client `id` is gone: it frees (and takes back) its frames. */
static void remove_client(uint64_t id)
{
    struct mica_msg m;
    mica_msg_init(&m, PAGER_REMOVE_CLIENT);
    m.mr[0] = id;
    CHECK_EQ(mica_call(pager_admin, &m, INF), MICA_OK);
    CHECK_EQ(m.mr[0], MICA_OK);
}

/* Wait (a few ms at a time) until the task has ended; its status. */
static struct mica_task_status wait_end(mica_handle_t task)
{
    struct mica_task_status s = {0};
    for (int i = 0; i < 200; i++) {
        mica_task_status(task, &s);
        if (s.state != MICA_TASK_ALIVE)
            break;
        mica_sleep_us(2000);
    }
    return s;
}

/* The mapping of va in task, or depth UINT64_MAX when there is none. */
static struct mica_mapping mapping(mica_handle_t task, uint64_t va)
{
    struct mica_mapping m = {0, 0, UINT64_MAX, 0};
    if (mica_debug_mapping(task, va, &m) != MICA_OK)
        m.depth = UINT64_MAX;
    return m;
}

/* The task's agent reads va: it must fault (the task stops) instead. */
static void expect_touch_faults(const struct agent *a, uint64_t va)
{
    uint64_t v = 0;
    CHECK_EQ(agent_call(a, AGENT_READ, 0, va, 0, 0, &v, 0), MICA_EDEAD);
    struct mica_task_status s = wait_end(a->task);
    CHECK_EQ(s.state, MICA_TASK_FAULTED);
    CHECK_EQ(s.vector, VEC_PF);
    CHECK_EQ(s.addr, va);
}

/* Kill a task and drop init's handles to it and its agent. */
static void end_task(struct agent *a)
{
    mica_task_kill(a->task);
    agent_release(a);
    mica_handle_close(a->task);
    a->task = 0;
}

/* ---- a client and a task it maps into --------------------------------------------- */

/* The pager takes back a page a client mapped on, when the client frees its
 * region: the receiving task faults at its next touch. */
static void t_take_back_region_freed(void)
{
    struct agent c = {0}, d = {0};
    uint64_t id = 0, base = 0, v = 0;
    mica_handle_t pc = 0, dt = 0;
    CHECK_EQ(client_task(16, &c.task, &id, &pc), MICA_OK);
    CHECK_EQ(mica_task_create(&dt), MICA_OK);
    CHECK_EQ(agent_start(&c, c.task), MICA_OK);
    CHECK_EQ(agent_start(&d, dt), MICA_OK);
    CHECK_EQ(agent_call(&c, AGENT_VM_ALLOC, pc, 4 * PAGE, 0, 0, &base, 0), MICA_OK);
    CHECK_EQ(agent_call(&c, AGENT_WRITE, 0, base, 0x5ec2e7, 0, NULL, 0), MICA_OK);
    mica_handle_t hd = give_map(c.task, dt);
    CHECK_EQ(agent_call(&c, AGENT_MAP, hd, base, DST, 1, NULL, RW), MICA_OK);
    struct mica_mapping mc = mapping(c.task, base), md = mapping(dt, DST);
    CHECK_EQ(mc.depth, 1); /* the pager's window is the root */
    CHECK_EQ(md.depth, 2);
    CHECK_EQ(md.phys, mc.phys);
    CHECK_EQ(agent_call(&d, AGENT_READ, 0, DST, 0, 0, &v, 0), MICA_OK);
    CHECK_EQ(v, 0x5ec2e7);
    CHECK_EQ(agent_call(&c, AGENT_VM_FREE, pc, base, 4 * PAGE, 0, NULL, 0), MICA_OK);
    CHECK_EQ(mapping(c.task, base).depth, UINT64_MAX);
    CHECK_EQ(mapping(dt, DST).depth, UINT64_MAX);
    expect_touch_faults(&d, DST);
    end_task(&d);
    end_task(&c);
    remove_client(id);
}

/* A page granted on outlives its giver's death (it no longer hangs from
 * the giver) but not the pager taking the frame back; a new client then
 * gets that frame, and the old holder faults instead of seeing it. */
static void t_take_back_client_removed(void)
{
    struct agent c = {0}, d = {0}, c2 = {0};
    uint64_t id = 0, id2 = 0, base = 0, base2 = 0, v = 0;
    mica_handle_t pc = 0, pc2 = 0, dt = 0;
    CHECK_EQ(client_task(16, &c.task, &id, &pc), MICA_OK);
    CHECK_EQ(mica_task_create(&dt), MICA_OK);
    CHECK_EQ(agent_start(&c, c.task), MICA_OK);
    CHECK_EQ(agent_start(&d, dt), MICA_OK);
    CHECK_EQ(agent_call(&c, AGENT_VM_ALLOC, pc, 2 * PAGE, 0, 0, &base, 0), MICA_OK);
    CHECK_EQ(agent_call(&c, AGENT_WRITE, 0, base, 0xaaa, 0, NULL, 0), MICA_OK);
    CHECK_EQ(agent_call(&c, AGENT_WRITE, 0, base + PAGE, 0xbbb, 0, NULL, 0), MICA_OK);
    uint64_t frame = mapping(c.task, base).phys;
    mica_handle_t hd = give_map(c.task, dt);
    CHECK_EQ(agent_call(&c, AGENT_MAP, hd, base + PAGE, DST + PAGE, 1, NULL, RW), MICA_OK);
    CHECK_EQ(agent_call(&c, AGENT_MAP, hd, base, DST, 1, NULL, RW | MICA_MAP_GRANT), MICA_OK);
    CHECK_EQ(mapping(c.task, base).depth, UINT64_MAX); /* moved away */
    CHECK_EQ(mapping(dt, DST).depth, 1);
    CHECK_EQ(mapping(dt, DST).phys, frame);
    CHECK_EQ(mapping(dt, DST + PAGE).depth, 2);
    end_task(&c); /* its mappings leave, and what was mapped on from them */
    CHECK_EQ(mapping(dt, DST + PAGE).depth, UINT64_MAX);
    CHECK_EQ(mapping(dt, DST).depth, 1);
    CHECK_EQ(agent_call(&d, AGENT_READ, 0, DST, 0, 0, &v, 0), MICA_OK);
    CHECK_EQ(v, 0xaaa);
    /* Its successor is ready before the pager frees the old frames, so
     * that they are the next ones the pager hands out (its list is LIFO). */
    CHECK_EQ(client_task(16, &c2.task, &id2, &pc2), MICA_OK);
    CHECK_EQ(agent_start(&c2, c2.task), MICA_OK);
    remove_client(id); /* the pager frees its frames: taken back from everyone */
    CHECK_EQ(mapping(dt, DST).depth, UINT64_MAX);
    CHECK_EQ(agent_call(&c2, AGENT_VM_ALLOC, pc2, 2 * PAGE, 0, 0, &base2, 0), MICA_OK);
    CHECK_EQ(agent_call(&c2, AGENT_WRITE, 0, base2, 0x5ec2e7, 0, NULL, 0), MICA_OK);
    CHECK_EQ(agent_call(&c2, AGENT_WRITE, 0, base2 + PAGE, 0x5ec2e7, 0, NULL, 0), MICA_OK);
    CHECK(mapping(c2.task, base2).phys == frame || mapping(c2.task, base2 + PAGE).phys == frame);
    expect_touch_faults(&d, DST);
    end_task(&d);
    end_task(&c2);
    remove_client(id2);
}

/* ---- chains ----------------------------------------------------------------------- */

struct chain {
    struct agent t[CHAIN];
    uint64_t id, va[CHAIN];
};

/* A page of client t[0] mapped on from each task to the next: t[i] holds
 * it at depth i + 1.  False (after failed checks) if that did not work. */
static bool chain_build(struct chain *ch)
{
    mica_handle_t pc = 0;
    *ch = (struct chain){0};
    if (client_task(16, &ch->t[0].task, &ch->id, &pc) != MICA_OK)
        return false;
    for (int i = 1; i < CHAIN; i++)
        CHECK_EQ(mica_task_create(&ch->t[i].task), MICA_OK);
    for (int i = 0; i < CHAIN; i++)
        CHECK_EQ(agent_start(&ch->t[i], ch->t[i].task), MICA_OK);
    CHECK_EQ(agent_call(&ch->t[0], AGENT_VM_ALLOC, pc, PAGE, 0, 0, &ch->va[0], 0), MICA_OK);
    CHECK_EQ(agent_call(&ch->t[0], AGENT_WRITE, 0, ch->va[0], 0xc4a1, 0, NULL, 0), MICA_OK);
    for (int i = 1; i < CHAIN; i++) {
        ch->va[i] = DST + (uint64_t)i * PAGE;
        mica_handle_t h = give_map(ch->t[i - 1].task, ch->t[i].task);
        CHECK_EQ(agent_call(&ch->t[i - 1], AGENT_MAP, h, ch->va[i - 1], ch->va[i], 1, NULL, RW), MICA_OK);
    }
    uint64_t frame = mapping(ch->t[0].task, ch->va[0]).phys;
    int bad = guest_case_failures();
    for (int i = 0; i < CHAIN; i++) {
        struct mica_mapping m = mapping(ch->t[i].task, ch->va[i]);
        CHECK_EQ(m.depth, i + 1);
        CHECK_EQ(m.phys, frame);
        CHECK_EQ(m.rights, RW);
    }
    return bad == guest_case_failures();
}

static void chain_end(struct chain *ch)
{
    for (int i = CHAIN - 1; i >= 0; i--)
        if (ch->t[i].task)
            end_task(&ch->t[i]);
    remove_client(ch->id);
}

static void t_chain_five_deep(void)
{
    struct chain ch;
    if (chain_build(&ch)) {
        uint64_t removed = 0, v = 0;
        CHECK_EQ(agent_call(&ch.t[CHAIN - 1], AGENT_READ, 0, ch.va[CHAIN - 1], 0, 0, &v, 0), MICA_OK);
        CHECK_EQ(v, 0xc4a1);
        CHECK_EQ(mica_unmap_ex(ch.t[0].task, ch.va[0], 1, 0, &removed), MICA_OK);
        CHECK_EQ(removed, CHAIN);
        for (int i = 0; i < CHAIN; i++)
            CHECK_EQ(mapping(ch.t[i].task, ch.va[i]).depth, UINT64_MAX);
        expect_touch_faults(&ch.t[CHAIN - 1], ch.va[CHAIN - 1]);
    }
    chain_end(&ch);
}

static void t_protect_reaches_chain_end(void)
{
    struct chain ch;
    if (chain_build(&ch)) {
        uint64_t v = 0;
        CHECK_EQ(mica_protect(ch.t[0].task, ch.va[0], 1, MICA_MAP_READ), MICA_OK);
        for (int i = 0; i < CHAIN; i++)
            CHECK_EQ(mapping(ch.t[i].task, ch.va[i]).rights, MICA_MAP_READ);
        CHECK_EQ(agent_call(&ch.t[CHAIN - 2], AGENT_READ, 0, ch.va[CHAIN - 2], 0, 0, &v, 0), MICA_OK);
        CHECK_EQ(v, 0xc4a1);
        /* The end of the chain may read, no longer write. */
        struct agent *last = &ch.t[CHAIN - 1];
        CHECK_EQ(agent_call(last, AGENT_WRITE, 0, ch.va[CHAIN - 1], 1, 0, NULL, 0), MICA_EDEAD);
        struct mica_task_status s = wait_end(last->task);
        CHECK_EQ(s.state, MICA_TASK_FAULTED);
        CHECK_EQ(s.addr, ch.va[CHAIN - 1]);
        CHECK(s.error & 1); /* present: a rights violation */
    }
    chain_end(&ch);
}

static void t_task_dies_mid_chain(void)
{
    struct chain ch;
    if (chain_build(&ch)) {
        end_task(&ch.t[2]);
        CHECK_EQ(mapping(ch.t[0].task, ch.va[0]).depth, 1);
        CHECK_EQ(mapping(ch.t[1].task, ch.va[1]).depth, 2);
        for (int i = 3; i < CHAIN; i++)
            CHECK_EQ(mapping(ch.t[i].task, ch.va[i]).depth, UINT64_MAX);
        expect_touch_faults(&ch.t[4], ch.va[4]);
        uint64_t v = 0;
        CHECK_EQ(agent_call(&ch.t[1], AGENT_READ, 0, ch.va[1], 0, 0, &v, 0), MICA_OK);
        CHECK_EQ(v, 0xc4a1);
    }
    chain_end(&ch);
}

/* ---- fan-out ----------------------------------------------------------------------- */

/* Client c maps its page at va into each of the tasks (handles h[]). */
static void fan_out(const struct agent *c, const mica_handle_t *h, uint64_t va)
{
    for (int i = 0; i < FANOUT; i++)
        CHECK_EQ(agent_call(c, AGENT_MAP, h[i], va, DST, 1, NULL, MICA_MAP_READ), MICA_OK);
}

/* How many of the tasks map DST. */
static int fan_count(const mica_handle_t *t)
{
    int n = 0;
    for (int i = 0; i < FANOUT; i++)
        n += mapping(t[i], DST).depth != UINT64_MAX;
    return n;
}

static void t_fan_out_64(void)
{
    struct agent c = {0};
    uint64_t id = 0, base = 0, removed = 0;
    mica_handle_t pc = 0, t[FANOUT] = {0}, h[FANOUT] = {0};
    CHECK_EQ(client_task(16, &c.task, &id, &pc), MICA_OK);
    CHECK_EQ(agent_start(&c, c.task), MICA_OK);
    for (int i = 0; i < FANOUT; i++) {
        CHECK_EQ(mica_task_create(&t[i]), MICA_OK);
        h[i] = give_map(c.task, t[i]);
    }
    CHECK_EQ(agent_call(&c, AGENT_VM_ALLOC, pc, PAGE, 0, 0, &base, 0), MICA_OK);
    CHECK_EQ(agent_call(&c, AGENT_WRITE, 0, base, 64, 0, NULL, 0), MICA_OK);
    fan_out(&c, h, base);
    CHECK_EQ(fan_count(t), FANOUT);
    CHECK_EQ(mapping(t[FANOUT - 1], DST).depth, 2);
    /* Take back from the clients' clients only. */
    CHECK_EQ(mica_unmap_ex(c.task, base, 1, MICA_UNMAP_DERIVED, &removed), MICA_OK);
    CHECK_EQ(removed, FANOUT);
    CHECK_EQ(fan_count(t), 0);
    CHECK_EQ(mapping(c.task, base).depth, 1);
    fan_out(&c, h, base);
    CHECK_EQ(fan_count(t), FANOUT);
    CHECK_EQ(agent_call(&c, AGENT_VM_FREE, pc, base, PAGE, 0, NULL, 0), MICA_OK);
    CHECK_EQ(fan_count(t), 0);
    for (int i = 0; i < FANOUT; i++) {
        mica_task_kill(t[i]);
        mica_handle_close(t[i]);
    }
    end_task(&c);
    remove_client(id);
}

/* ---- 2 MiB pages -------------------------------------------------------------------- */

static void t_split_2m_in_middle(void)
{
    mica_handle_t self = bootinfo->self_task, bt = 0, ct = 0;
    struct agent b = {0};
    uint64_t removed = 0, h = held_2m;
    CHECK(h != 0);
    if (h == 0)
        return;
    struct mica_mapping mh = mapping(self, h);
    CHECK_EQ(mh.size, 2ull << 20); /* the kernel's own 2 MiB page: a root */
    CHECK_EQ(mh.depth, 0);
    CHECK_EQ(mica_task_create(&bt), MICA_OK);
    CHECK_EQ(mica_task_create(&ct), MICA_OK);
    CHECK_EQ(agent_start(&b, bt), MICA_OK);
    /* Whole into b; pieces 0, 256 and 300 into c; b maps its page 256 on to c. */
    CHECK_EQ(mica_map(bt, h, DST, 512, RW), MICA_OK);
    CHECK_EQ(mapping(bt, DST).size, 2ull << 20);
    CHECK_EQ(mapping(bt, DST).depth, 1);
    CHECK_EQ(mica_map(ct, h, DST, 1, RW), MICA_OK);
    CHECK_EQ(mica_map(ct, h + 256 * PAGE, DST + PAGE, 1, RW), MICA_OK);
    CHECK_EQ(mica_map(ct, h + 300 * PAGE, DST + 2 * PAGE, 1, RW), MICA_OK);
    mica_handle_t hc = give_map(bt, ct);
    CHECK_EQ(agent_call(&b, AGENT_MAP, hc, DST + 256 * PAGE, DST + 3 * PAGE, 1, NULL, RW), MICA_OK);
    CHECK_EQ(mapping(ct, DST + 3 * PAGE).depth, 2);
    CHECK_EQ(mapping(ct, DST + 3 * PAGE).phys, mh.phys + 256 * PAGE);
    /* Unmap page 256 of init's: both 2 MiB pages split; four mappings go. */
    CHECK_EQ(mica_unmap_ex(self, h + 256 * PAGE, 1, 0, &removed), MICA_OK);
    CHECK_EQ(removed, 4);
    CHECK_EQ(mapping(self, h + 256 * PAGE).depth, UINT64_MAX);
    CHECK_EQ(mapping(self, h + 255 * PAGE).size, PAGE);
    CHECK_EQ(mapping(self, h + 255 * PAGE).depth, 0);
    CHECK_EQ(mapping(bt, DST + 256 * PAGE).depth, UINT64_MAX);
    struct mica_mapping m = mapping(bt, DST + 255 * PAGE);
    CHECK_EQ(m.size, PAGE);
    CHECK_EQ(m.depth, 1);
    CHECK_EQ(m.phys, mh.phys + 255 * PAGE);
    CHECK_EQ(mapping(bt, DST + 511 * PAGE).phys, mh.phys + 511 * PAGE);
    CHECK_EQ(mapping(ct, DST).depth, 1);
    CHECK_EQ(mapping(ct, DST + PAGE).depth, UINT64_MAX);
    CHECK_EQ(mapping(ct, DST + 2 * PAGE).depth, 1);
    CHECK_EQ(mapping(ct, DST + 3 * PAGE).depth, UINT64_MAX);
    /* Only what was derived from page 300: b's and c's, not init's. */
    CHECK_EQ(mica_unmap_ex(self, h + 300 * PAGE, 1, MICA_UNMAP_DERIVED, &removed), MICA_OK);
    CHECK_EQ(removed, 2);
    CHECK_EQ(mapping(self, h + 300 * PAGE).depth, 0);
    CHECK_EQ(mapping(bt, DST + 300 * PAGE).depth, UINT64_MAX);
    CHECK_EQ(mapping(ct, DST + 2 * PAGE).depth, UINT64_MAX);
    /* Lower pages 0 and 1 of init's: b's and c's copies follow. */
    CHECK_EQ(mica_protect(self, h, 2, MICA_MAP_READ), MICA_OK);
    CHECK_EQ(mapping(bt, DST).rights, MICA_MAP_READ);
    CHECK_EQ(mapping(bt, DST + PAGE).rights, MICA_MAP_READ);
    CHECK_EQ(mapping(bt, DST + 2 * PAGE).rights, RW);
    CHECK_EQ(mapping(ct, DST).rights, MICA_MAP_READ);
    end_task(&b);
    mica_task_kill(ct);
    mica_handle_close(ct);
}

/* Three frames the pager hands one client; freeing the middle one takes
 * back exactly its mappings (the pager's 2 MiB window page is split). */
static void t_pager_window_split(void)
{
    struct agent c = {0};
    uint64_t id = 0, r[3] = {0}, phys[3] = {0};
    mica_handle_t pc = 0, dt = 0;
    CHECK_EQ(client_task(16, &c.task, &id, &pc), MICA_OK);
    CHECK_EQ(mica_task_create(&dt), MICA_OK);
    CHECK_EQ(agent_start(&c, c.task), MICA_OK);
    mica_handle_t hd = give_map(c.task, dt);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(agent_call(&c, AGENT_VM_ALLOC, pc, PAGE, 0, 0, &r[i], 0), MICA_OK);
        CHECK_EQ(agent_call(&c, AGENT_WRITE, 0, r[i], (uint64_t)i, 0, NULL, 0), MICA_OK);
        CHECK_EQ(agent_call(&c, AGENT_MAP, hd, r[i], DST + (uint64_t)i * PAGE, 1, NULL, RW), MICA_OK);
        phys[i] = mapping(c.task, r[i]).phys;
    }
    mica_printf("# pager_window_split: frames 0x%llx 0x%llx 0x%llx\n", (unsigned long long)phys[0],
                (unsigned long long)phys[1], (unsigned long long)phys[2]);
    CHECK_EQ(agent_call(&c, AGENT_VM_FREE, pc, r[1], PAGE, 0, NULL, 0), MICA_OK);
    CHECK_EQ(mapping(dt, DST + PAGE).depth, UINT64_MAX);
    CHECK_EQ(mapping(dt, DST).phys, phys[0]);
    CHECK_EQ(mapping(dt, DST + 2 * PAGE).phys, phys[2]);
    CHECK_EQ(mapping(c.task, r[0]).depth, 1);
    CHECK_EQ(mapping(c.task, r[2]).depth, 1);
    mica_task_kill(dt);
    mica_handle_close(dt);
    end_task(&c);
    remove_client(id);
}

/* ---- the model, and the table ------------------------------------------------------------ */

static void t_model(void)
{
    CHECK_EQ(mdb_model_run(guest_cmdline_number("mdbops", 20000), guest_cmdline_number("fuzzseed", 1)), 0);
}

/* Three whole 2 MiB pages of init's in one call: the path that goes slot
 * by slot through a run (space.c) must refuse, map and take back exactly
 * as the page-by-page path does. */
static void t_run_2m(void)
{
    const uint64_t big = 2ull << 20;
    mica_handle_t self = bootinfo->self_task, xt = 0;
    uint64_t h = held_run, removed = 0;
    CHECK(h != 0);
    if (h == 0)
        return;
    for (uint64_t i = 0; i < 3; i++)
        CHECK_EQ(mapping(self, h + i * big).size, big);
    CHECK_EQ(mica_task_create(&xt), MICA_OK);
    uint64_t mid = DST + big + 5 * PAGE; /* inside the second 2 MiB of the destination */
    CHECK_EQ(mica_map(xt, h, mid, 1, RW), MICA_OK);
    CHECK_EQ(mica_map(xt, h, DST, 3 * 512, RW), MICA_EEXISTS);
    CHECK_EQ(mapping(xt, DST).depth, UINT64_MAX); /* a refused call maps nothing */
    CHECK_EQ(mapping(xt, DST + 2 * big).depth, UINT64_MAX);
    /* Elsewhere (the blocker left a page table, where 2 MiB pages cannot go). */
    const uint64_t to = DST + (1ull << 30);
    CHECK_EQ(mica_unmap(xt, mid, 1), MICA_OK);
    CHECK_EQ(mica_map(xt, h, to, 3 * 512, RW), MICA_OK);
    for (uint64_t i = 0; i < 3; i++) {
        struct mica_mapping m = mapping(xt, to + i * big);
        CHECK_EQ(m.size, big);
        CHECK_EQ(m.depth, 1);
        CHECK_EQ(m.rights, RW);
        CHECK_EQ(m.phys, mapping(self, h + i * big).phys);
    }
    CHECK_EQ(mica_unmap_ex(self, h, 3 * 512, MICA_UNMAP_DERIVED, &removed), MICA_OK);
    CHECK_EQ(removed, 3);
    for (uint64_t i = 0; i < 3; i++) {
        CHECK_EQ(mapping(xt, to + i * big).depth, UINT64_MAX);
        CHECK_EQ(mapping(self, h + i * big).depth, 0);
    }
    mica_task_kill(xt);
    mica_handle_close(xt);
}

GUEST_SUITE(mdb, .prio = 50, .baseline = true, .before_pager = mdb_reserve);
GUEST_CASE(mdb, "take_back_region_freed", t_take_back_region_freed);
GUEST_CASE(mdb, "take_back_client_removed", t_take_back_client_removed);
GUEST_CASE(mdb, "chain_five_deep", t_chain_five_deep);
GUEST_CASE(mdb, "protect_reaches_chain_end", t_protect_reaches_chain_end);
GUEST_CASE(mdb, "task_dies_mid_chain", t_task_dies_mid_chain);
GUEST_CASE(mdb, "fan_out_64", t_fan_out_64);
GUEST_CASE(mdb, "split_2m_in_middle", t_split_2m_in_middle);
GUEST_CASE(mdb, "run_2m", t_run_2m);
GUEST_CASE(mdb, "pager_window_split", t_pager_window_split);
GUEST_CASE(mdb, "model", t_model);
