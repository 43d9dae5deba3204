/* The mapping database against a reference model (test=mdb, case model):
 * random map, grant, unmap (with and without MICA_UNMAP_DERIVED), protect
 * and task death over init and four tasks with agents, each with 16 pages
 * the model knows.  The model keeps, for every such page, its frame, its
 * rights, the page it was derived from and its depth; every call's status
 * (and SYS_UNMAP's count) must be the model's, and every few calls every
 * page of every task is compared with it through SYS_DEBUG_MAPPING.  At
 * the end every kernel object count is back where it started.
 * `mdbops=N` on the command line sets the number of operations
 * (make test: 20,000; make fuzz: 1,000,000); `fuzzseed=S` the seed. */
#include "guest.h"
#include "mdb_agent.h"

#define TASKS 5 /* 0: init; 1..4: tasks with agents */
#define SLOTS 16
#define ROOTS 8 /* init's own pages the model maps from (never unmapped) */
#define MODEL_VA 0x210000000000ull
#define PAGE MICA_PAGE_SIZE
#define CHECK_EVERY 32
#define MAX_PRINTED 10

struct mslot {
    uint8_t present, rights; /* rights as the kernel reports them (READ always) */
    int8_t ptask, pslot;     /* derived from; ptask -1: from root page pslot */
    uint8_t frame;           /* root page index */
    uint32_t depth;
};

static struct mslot model[TASKS][SLOTS];
static mica_handle_t task_h[TASKS];      /* init's handles */
static mica_handle_t hmap[TASKS][TASKS]; /* hmap[x][y]: task y's handle number in task x */
static struct agent agents[TASKS];
static char *stacks[TASKS];
static struct mica_ipc_buffer *bufs[TASKS];
static uint64_t root_va[ROOTS], root_phys[ROOTS];
static uint8_t root_rights[ROOTS];
static uint32_t root_depth[ROOTS];
static uint64_t rng, errors, ops_done;
/* What the run did (its last line): successful maps, grants, mappings
 * removed by unmaps, successful protects, task deaths, deepest mapping. */
static uint64_t n_maps, n_grants, n_removed, n_protects, n_deaths, max_depth;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t below(uint64_t n)
{
    return rnd() % n;
}

static uint64_t slot_va(unsigned s)
{
    return MODEL_VA + s * PAGE;
}

/* Count a disagreement and print the first few. */
static void fail(const char *what, uint64_t a, uint64_t b, uint64_t c)
{
    if (errors++ < MAX_PRINTED)
        mica_printf("# model: op %llu: %s (0x%llx 0x%llx 0x%llx)\n", (unsigned long long)ops_done, what,
                    (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
}

/* ---- the reference model ------------------------------------------------------ */

/* Remove what was derived from (t, s), and (t, s) itself unless keep; how
 * many mappings that removes. */
static uint64_t model_revoke(int t, int s, bool keep)
{
    uint64_t n = 0;
    for (int u = 0; u < TASKS; u++)
        for (int v = 0; v < SLOTS; v++)
            if (model[u][v].present && model[u][v].ptask == t && model[u][v].pslot == s)
                n += model_revoke(u, v, false);
    if (!keep) {
        model[t][s] = (struct mslot){0};
        n++;
    }
    return n;
}

/* (t, s) and what was derived from it keep at most `rights`. */
static void model_lower(int t, int s, uint8_t rights)
{
    model[t][s].rights = (uint8_t)((model[t][s].rights & rights) | MICA_MAP_READ);
    for (int u = 0; u < TASKS; u++)
        for (int v = 0; v < SLOTS; v++)
            if (model[u][v].present && model[u][v].ptask == t && model[u][v].pslot == s)
                model_lower(u, v, rights);
}

/* ---- operations ------------------------------------------------------------------ */

/* The status SYS_MAP must give for a source of `have` rights (0: none). */
static int map_expect(uint8_t have, uint8_t rights, const struct mslot *dst)
{
    if (!have)
        return MICA_ENOTOWNER;
    if (rights & ~have)
        return MICA_EUPGRADE;
    return dst->present ? MICA_EEXISTS : MICA_OK;
}

/* Task x maps (or grants) its slot s (or, for init, root page s when
 * `root`) to slot d of task y. */
static void op_map(int x, int s, bool root, int y, int d, uint8_t rights, bool grant)
{
    const struct mslot *src = root ? NULL : &model[x][s];
    uint8_t have = root ? root_rights[s] : (src->present ? src->rights : 0);
    uint64_t sva = root ? root_va[s] : slot_va((unsigned)s);
    int want = map_expect(have, rights, &model[y][d]);
    uint32_t r = rights | (grant ? MICA_MAP_GRANT : 0);
    int st = x == 0 ? mica_map(task_h[y], sva, slot_va((unsigned)d), 1, r)
                    : agent_call(&agents[x], AGENT_MAP, hmap[x][y], sva, slot_va((unsigned)d), 1, NULL, r);
    if (st != want) {
        fail(grant ? "grant status" : "map status", (uint64_t)(int64_t)st, (uint64_t)(int64_t)want, r);
        return;
    }
    if (st != MICA_OK)
        return;
    n_maps += !grant;
    n_grants += grant;
    struct mslot *dst = &model[y][d];
    if (root) {
        *dst = (struct mslot){
            1, (uint8_t)(rights | MICA_MAP_READ), -1, (int8_t)s, (uint8_t)s, root_depth[s] + 1};
        return;
    }
    if (!grant) {
        *dst = (struct mslot){
            1, (uint8_t)(rights | MICA_MAP_READ), (int8_t)x, (int8_t)s, src->frame, src->depth + 1};
        if (dst->depth > max_depth)
            max_depth = dst->depth;
        return;
    }
    /* A grant: (y, d) takes (x, s)'s place, rights lowered along. */
    *dst = model[x][s];
    model[x][s] = (struct mslot){0};
    for (int u = 0; u < TASKS; u++)
        for (int v = 0; v < SLOTS; v++)
            if (model[u][v].present && model[u][v].ptask == x && model[u][v].pslot == s) {
                model[u][v].ptask = (int8_t)y;
                model[u][v].pslot = (int8_t)d;
            }
    model_lower(y, d, rights);
}

/* Init unmaps slot d of task y (keep: only what was derived). */
static void op_unmap(int y, int d, bool keep)
{
    uint64_t removed = 0, want = model[y][d].present ? model_revoke(y, d, keep) : 0;
    int st = mica_unmap_ex(task_h[y], slot_va((unsigned)d), 1, keep ? MICA_UNMAP_DERIVED : 0, &removed);
    if (st != MICA_OK || removed != want)
        fail("unmap status or count", (uint64_t)(int64_t)st, removed, want);
    n_removed += removed;
}

/* Init lowers slot d of task y to rights. */
static void op_protect(int y, int d, uint8_t rights)
{
    const struct mslot *m = &model[y][d];
    int want = !m->present ? MICA_EINVAL : (rights & ~m->rights) ? MICA_EUPGRADE : MICA_OK;
    int st = mica_protect(task_h[y], slot_va((unsigned)d), 1, rights);
    if (st != want)
        fail("protect status", (uint64_t)(int64_t)st, (uint64_t)(int64_t)want, rights);
    else if (st == MICA_OK) {
        model_lower(y, d, rights);
        n_protects++;
    }
}

/* A fresh task y with its agent, and handles both ways with every task. */
static bool task_make(int y)
{
    int st = mica_task_create(&task_h[y]);
    if (st == MICA_OK)
        st = agent_start_on(&agents[y], task_h[y], stacks[y], bufs[y]);
    if (st != MICA_OK) {
        fail("making a task and its agent", (uint64_t)y, (uint64_t)(int64_t)st, 0);
        return false;
    }
    for (int x = 0; x < TASKS && st == MICA_OK; x++) {
        if (task_h[x] == 0)
            continue; /* not made yet: it gives both ways when it is */
        st = mica_task_give(task_h[y], task_h[x], MICA_R_MAP, 0, &hmap[y][x]);
        if (st == MICA_OK && x != 0 && x != y)
            st = mica_task_give(task_h[x], task_h[y], MICA_R_MAP, 0, &hmap[x][y]);
    }
    if (st != MICA_OK)
        fail("giving task handles", (uint64_t)y, (uint64_t)(int64_t)st, 0);
    return st == MICA_OK;
}

/* Task y dies: its pages and what was derived from them leave; a new
 * task takes its place (the others close their handles to the old one). */
static bool op_task_death(int y)
{
    for (int s = 0; s < SLOTS; s++)
        if (model[y][s].present)
            model_revoke(y, s, false);
    mica_task_kill(task_h[y]);
    n_deaths++;
    agent_release(&agents[y]);
    mica_handle_close(task_h[y]);
    for (int x = 1; x < TASKS; x++)
        if (x != y && agent_call(&agents[x], AGENT_CLOSE, hmap[x][y], 0, 0, 0, NULL, 0) != MICA_OK)
            fail("closing a handle to a dead task", (uint64_t)x, hmap[x][y], 0);
    return task_make(y);
}

/* ---- checking -------------------------------------------------------------------- */

/* Every page of every task as the model says. */
static void compare_all(void)
{
    for (int t = 0; t < TASKS; t++)
        for (int s = 0; s < SLOTS; s++) {
            struct mica_mapping m = {0};
            const struct mslot *e = &model[t][s];
            int st = mica_debug_mapping(task_h[t], slot_va((unsigned)s), &m);
            if (!e->present) {
                if (st != MICA_EFAULT)
                    fail("mapped, the model says not", (uint64_t)t, (uint64_t)s, m.phys);
            } else if (st != MICA_OK) {
                fail("not mapped, the model says mapped", (uint64_t)t, (uint64_t)s, (uint64_t)(int64_t)st);
            } else if (m.phys != root_phys[e->frame] || m.rights != e->rights || m.depth != e->depth) {
                fail("frame, rights or depth differ", (uint64_t)t << 8 | (uint64_t)s,
                     m.phys ^ root_phys[e->frame], (m.rights << 16 | m.depth) ^ (e->rights << 16 | e->depth));
            }
        }
}

/* Rights for a call: mostly a valid set, sometimes beyond the source's. */
static uint8_t gen_rights(void)
{
    return (uint8_t)(1 + below(7));
}

/* A source for a map: a slot that is mapped, if a few tries find one. */
static void pick_source(int *x, int *s)
{
    for (int i = 0; i < 8; i++) {
        *x = (int)below(TASKS);
        *s = (int)below(SLOTS);
        if (model[*x][*s].present)
            return;
    }
}

/* One random operation. */
static bool step(void)
{
    unsigned r = (unsigned)below(1000);
    int x, s, y = (int)below(TASKS), d = (int)below(SLOTS);
    if (r < 450) {
        bool grant = r >= 380, root = !grant && below(4) == 0;
        if (root) {
            op_map(0, (int)below(ROOTS), true, y, d, gen_rights(), false);
        } else {
            pick_source(&x, &s);
            op_map(x, s, false, y, d, gen_rights(), grant);
        }
    } else if (r < 700) {
        op_unmap(y, d, below(10) < 3);
    } else if (r < 998) {
        op_protect(y, d, gen_rights());
    } else {
        return op_task_death(1 + (int)below(TASKS - 1));
    }
    return true;
}

/* Init's own pages to map from, the agents' stacks, init's page tables
 * for the slots: everything init keeps, made before the counts are taken. */
static bool model_prepare(void)
{
    task_h[0] = bootinfo->self_task;
    for (int i = 0; i < ROOTS; i++) {
        struct mica_mapping m;
        uint64_t *p = page_alloc(1);
        if (p == NULL || mica_debug_mapping(task_h[0], (uint64_t)(uintptr_t)p, &m) != MICA_OK)
            return false;
        p[0] = (uint64_t)i;
        root_va[i] = (uint64_t)(uintptr_t)p;
        root_phys[i] = m.phys;
        root_rights[i] = (uint8_t)m.rights;
        root_depth[i] = (uint32_t)m.depth;
    }
    for (int t = 1; t < TASKS; t++) {
        stacks[t] = page_alloc(STACK_PAGES);
        bufs[t] = page_alloc(1);
        if (stacks[t] == NULL || bufs[t] == NULL)
            return false;
    }
    uint64_t removed;
    mica_map(task_h[0], root_va[0], slot_va(0), 1, MICA_MAP_READ);
    mica_unmap_ex(task_h[0], slot_va(0), SLOTS, 0, &removed);
    return true;
}

int mdb_model_run(uint64_t ops, uint64_t seed)
{
    struct mica_obj_counts base, end;
    errors = n_maps = n_grants = n_removed = n_protects = n_deaths = max_depth = 0;
    rng = seed * 0x9e3779b97f4a7c15ull | 1;
    for (int t = 0; t < TASKS; t++)
        for (int s = 0; s < SLOTS; s++)
            model[t][s] = (struct mslot){0};
    for (int t = 1; t < TASKS; t++)
        task_h[t] = 0;
    if (!model_prepare()) {
        mica_puts("# model: no pages for its set-up");
        return 1;
    }
    mica_debug_counts(&base);
    for (int t = 1; t < TASKS; t++)
        if (!task_make(t)) {
            mica_puts("# model: cannot make its tasks");
            return 1;
        }
    for (ops_done = 0; ops_done < ops && errors < 100; ops_done++) {
        if (!step()) {
            fail("a task could not be made again", 0, 0, 0);
            break;
        }
        if (ops_done % CHECK_EVERY == CHECK_EVERY - 1)
            compare_all();
    }
    compare_all();
    for (int t = 1; t < TASKS; t++) {
        mica_task_kill(task_h[t]);
        agent_release(&agents[t]);
        mica_handle_close(task_h[t]);
    }
    uint64_t removed;
    mica_unmap_ex(task_h[0], slot_va(0), SLOTS, 0, &removed);
    mica_sleep_us(5000);
    mica_debug_counts(&end);
    for (int i = 0; i < MICA_TAG_COUNT; i++)
        if (end.live[i] != base.live[i])
            fail("kernel objects not back at their count (tag, before, after)", (uint64_t)i, base.live[i],
                 end.live[i]);
    mica_printf("# model: %llu operations, seed %llu: %llu maps, %llu grants, %llu mappings unmapped, %llu "
                "protects, %llu task deaths, depth up to %llu; %llu disagreements\n",
                (unsigned long long)ops_done, (unsigned long long)seed, (unsigned long long)n_maps,
                (unsigned long long)n_grants, (unsigned long long)n_removed, (unsigned long long)n_protects,
                (unsigned long long)n_deaths, (unsigned long long)max_depth, (unsigned long long)errors);
    return errors != 0;
}
