/* The ring-3 system-call fuzzer (test=sysfuzz; sysfuzz.h states the
 * interface).
 *
 * How it works.  A xorshift64* generator, seeded through splitmix64, picks
 * each call: a number in 0..SYS_COUNT+5 (and a few huge ones), then its
 * arguments from classes (handles, pointers, lengths, rights, priorities,
 * info words, timeouts) that mix valid, boundary and hostile values.  Every
 * call goes through libipc's full-register stub, so RDI..R9 and R12 are
 * always set.  Before the call the fuzzer works out, from its model, which
 * statuses are possible; after it, it checks the status and updates the
 * model.  Between calls it creates child tasks, maps init's code into some
 * of them, starts threads there (workers that serve, call, send and wait
 * on handles it gives them, threads that fault, threads at random code
 * addresses) and kills them again; it talks to the workers, and acts as
 * the pager of some children (receives their faults, answers them).
 *
 * The model.  The handle table of init is mirrored exactly (only init's own
 * calls change it); the fuzzer also knows the rights of its own pages that
 * it uses as pointers or map sources, and which of them are unmapped.  A
 * status is checked against the set the model allows: a single value when
 * an error is certain (several when the ABI does not fix the order of its
 * checks), a set of plausible outcomes otherwise.
 *
 * What it never does, because init must survive it (init dying ends the
 * system): kill its own task or abort or end its own thread, shut the
 * system down, touch a handle it did not create (init's own task and thread
 * handles, the watchdog), give a child any page of init that init still
 * uses with write access, let a child run init's code from a random place
 * where init's strings are mapped (it would print them, TAP lines too), or
 * pass the kernel a pointer to write through unless it is one of its
 * scratch pages.  Hostile pointers go to the kernel only; the fuzzer never
 * dereferences them.  Its own task is a target only for calls that cannot
 * hurt it (map and unmap inside a private 2 MiB region, give, status) or
 * whose arguments make an error certain.
 * Every wait is a poll or at most WAIT_MAX_US; a call's reply wait has no
 * bound (the ABI's timeout covers only the sending), so a watchdog thread
 * aborts a call that waits longer than WD_LIMIT_US (a server starved by a
 * spinning thread) and reports any other call that does.
 *
 * Reproducing.  The same seed draws the same calls, but the kernel's
 * answers depend on timing (threads of child tasks run between the
 * fuzzer's calls), so a failure prints the call number, its registers and
 * what the model allowed; fuzztrace=N prints every call from the N-th on
 * with its status, and fuzzrepro=N replays the N-th minimized sequence
 * kept at the end of this file (kernel panics the fuzzer found). */
#include "sysfuzz.h"
#include "base/fmt.h"
#include "base/str.h"
#include "guest.h"

extern char __mica_image_start[], __mica_text_end[], __mica_rodata_end[], __mica_image_end[];

#define NHANDLES 128    /* handle numbers 1..127 */
#define CHUNK 1000      /* calls per TAP line */
#define MAX_CHILDREN 10 /* child-task records */
#define CHILD_LIMIT 8   /* the random ops keep two records spare */
#define SLOTS 4         /* thread slots of a child: stack and IPC buffer */
#define SLOT_STACK_PAGES 2
#define SLOT_PAGES (SLOT_STACK_PAGES + 1)
#define SCRATCH_PAGES 8              /* page 0: newlines, for SYS_DEBUG_WRITE */
#define BIG_PAGES 1024               /* 4 MiB on a 2 MiB boundary, for large maps */
#define ALIAS_BASE 0x500000000000ull /* a private 2 MiB region in init's space */
#define ALIAS_PAGES 512
#define ALIAS_VOID (1ull << 40)        /* ... and nothing for 1 TiB after it */
#define NEVER_MAPPED 0x300000000000ull /* 1 TiB init never maps */
#define WAIT_MAX_US 2000
#define WD_PERIOD_US 50000
#define WD_LIMIT_US 500000
#define MAX_PRINTED 60 /* failure reports printed in full */
#define NCALLS (SYS_COUNT + 6)
#define NSTATUS 20 /* MICA_OK and MICA_E* -1..-19 */
#define PAGE MICA_PAGE_SIZE

#define BIT(st) (1u << (unsigned)(-(st)))
#define ALL_ST ((1u << NSTATUS) - 1)
#define MR MICA_MAP_READ
#define MW MICA_MAP_WRITE
#define MX MICA_MAP_EXEC

/* ---- the generator ------------------------------------------------------- */

static uint64_t rng;

static void seed_rng(uint64_t seed)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    rng = z ? z : 1;
}

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

static uint64_t below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static bool chance(unsigned pct)
{
    return below(100) < pct;
}

/* ---- the model ------------------------------------------------------------ */

enum { S_FREE, S_FOREIGN, S_OWNED };

/* One handle of init as the fuzzer believes it is.  obj names the object
 * for the fuzzer (copies share it; 0: received, identity unknown). */
struct hslot {
    uint8_t state, type;
    uint32_t rights;
    uint64_t badge;
    uint32_t obj;
};

/* A thread slot of a child: its stack and IPC buffer pages, mapped at the
 * same address in init and in the child. */
struct tslot {
    bool busy;
    mica_handle_t th;
    uint32_t obj;
};

/* A child task the fuzzer created.  `task` is the handle TASK_CREATE gave
 * (all rights); it is closed only after the task is killed, so that no
 * task is left alive without a handle in init. */
/* What a child is for.  Stable: calm workers, so it lives a while; crashy:
 * any worker, and threads that fault at once; wild: also threads that start
 * anywhere in init's code. */
enum { ROLE_STABLE, ROLE_CRASHY, ROLE_WILD };

struct child {
    bool used, dead, provisioned;
    uint8_t role;
    mica_handle_t task;
    uint32_t obj;
    struct tslot slot[SLOTS];
};

static struct hslot tab[NHANDLES];
static struct child kids[MAX_CHILDREN];
static uint32_t next_obj;
static uint64_t stale[8];
static unsigned stale_pos;
static uint32_t hot[8]; /* objects lent to workers: where IPC partners are */
static unsigned hot_pos;

/* Memory: taken once from page_alloc (it never frees). */
static char *scratch, *big, *slot_mem;
static uint8_t alias[ALIAS_PAGES]; /* MICA_MAP_* of each page at ALIAS_BASE, 0: unmapped */
static uint32_t win_rights;        /* what init holds on its free-memory window */
static uint64_t utop;
static uint64_t text_lo, text_hi, ro_hi, data_hi;

/* Run state. */
static mica_handle_t self_task, self_thread, wd_thread;
static unsigned my_prio;
static uint64_t calls_done, checks_passed, checks_failed, printed, chunk_failed;
static uint64_t last_time;
static bool enomem_seen;
static uint64_t st_children, st_threads, st_faults_received, st_rescues, st_received_handles;
static uint64_t cov[NCALLS + 1][NSTATUS + 1]; /* calls by number (last row: huge) and status (last: bad) */
static uint64_t seed_used;
static uint64_t trace_from = ~0ull; /* fuzztrace=N: print every call from the N-th on */
/* fuzzavoid=known: steer clear of the kernel bugs found so far, so that a
 * run can look for others.  The two panics of the pager path (see
 * repro_pager_two_faults, repro_own_pager_exits): an endpoint that is a
 * pager is never lent to a child and a lent one never becomes a pager, and
 * init answers a fault it holds before it receives again.  The leak of a
 * task destroyed by its last handle (repro_task_table_leak): workers create
 * no tasks (init kills every task it creates before it closes the handle,
 * so only a task a child created could end that way). */
static bool avoid_known;
static bool owe_fault;   /* init received a fault and has not answered */
#define OBJ_FLAGS 65536u /* flags by object id modulo this (collisions only add flags) */
#define F_LENT 1u        /* a handle to it went to a child */
#define F_PAGER 2u       /* it is (or was) some task's pager */
static uint8_t obj_flags[OBJ_FLAGS];

/* The watchdog's view of the main thread. */
static volatile uint64_t wd_seq, wd_aborted_seq, wd_aborts;
static volatile int wd_inflight, wd_stop;

static const char *const call_names[SYS_COUNT] = {
    [SYS_NULL] = "null",
    [SYS_DEBUG_WRITE] = "debug_write",
    [SYS_SEND] = "send",
    [SYS_RECV] = "recv",
    [SYS_CALL] = "call",
    [SYS_REPLY] = "reply",
    [SYS_REPLY_RECV] = "reply_recv",
    [SYS_NOTIFY_SIGNAL] = "notify_signal",
    [SYS_NOTIFY_WAIT] = "notify_wait",
    [SYS_YIELD] = "yield",
    [SYS_SLEEP] = "sleep",
    [SYS_ENDPOINT_CREATE] = "endpoint_create",
    [SYS_NOTIFICATION_CREATE] = "notification_create",
    [SYS_HANDLE_CLOSE] = "handle_close",
    [SYS_HANDLE_MINT] = "handle_mint",
    [SYS_HANDLE_INFO] = "handle_info",
    [SYS_TASK_CREATE] = "task_create",
    [SYS_TASK_KILL] = "task_kill",
    [SYS_TASK_GIVE] = "task_give",
    [SYS_THREAD_CREATE] = "thread_create",
    [SYS_THREAD_EXIT] = "thread_exit",
    [SYS_MAP] = "map",
    [SYS_UNMAP] = "unmap",
    [SYS_DEBUG_COUNTS] = "debug_counts",
    [SYS_FASTPATH_SET] = "fastpath_set",
    [SYS_THREAD_SET_PRIORITY] = "thread_set_priority",
    [SYS_TIME] = "time",
    [SYS_THREAD_ABORT] = "thread_abort",
    [SYS_DEBUG_SHUTDOWN] = "debug_shutdown",
    [SYS_TASK_SET_PAGER] = "task_set_pager",
    [SYS_TASK_STATUS] = "task_status",
    [SYS_TASK_WATCH] = "task_watch",
    [SYS_PROTECT] = "protect",
    [SYS_KMEM_SET] = "kmem_set",
    [SYS_KMEM_INFO] = "kmem_info",
};

static const char *call_name(uint64_t nr)
{
    return nr < SYS_COUNT && call_names[nr] ? call_names[nr] : "unknown";
}

static uint64_t va(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static bool in_range(uint64_t a, uint64_t lo, uint64_t bytes)
{
    return a >= lo && a - lo < bytes;
}

/* Canonical form of v for the paging mode (sign-extended from bit 47 or 56). */
static bool canonical(uint64_t v)
{
    unsigned s = bootinfo->paging_levels == 5 ? 7 : 16;
    return (uint64_t)((int64_t)(v << s) >> s) == v;
}

static bool present(uint64_t h)
{
    return h > 0 && h < NHANDLES && tab[h].state != S_FREE;
}

static unsigned free_slots(void)
{
    unsigned n = 0;
    for (unsigned h = 1; h < NHANDLES; h++)
        n += tab[h].state == S_FREE;
    return n;
}

static int child_of_task(uint64_t h)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (kids[i].used && kids[i].task == h)
            return i;
    return -1;
}

static int child_of_obj(uint32_t obj)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (obj != 0 && kids[i].used && kids[i].obj == obj)
            return i;
    return -1;
}

static unsigned children_used(void)
{
    unsigned n = 0;
    for (int i = 0; i < MAX_CHILDREN; i++)
        n += kids[i].used;
    return n;
}

static uint64_t slot_stack(int ci, int si)
{
    return va(slot_mem) + (uint64_t)(ci * SLOTS + si) * SLOT_PAGES * PAGE;
}

static uint64_t slot_stack_top(int ci, int si)
{
    return slot_stack(ci, si) + SLOT_STACK_PAGES * PAGE;
}

static uint64_t slot_buf(int ci, int si)
{
    return slot_stack_top(ci, si);
}

/* What init holds on page pg (MICA_MAP_* bits), 0 when it is certainly not
 * mapped user memory, -1 when the fuzzer does not know. */
static int page_rights(uint64_t pg)
{
    pg &= ~(PAGE - 1);
    if (pg >= utop)
        return 0;
    if (in_range(pg, va(scratch), SCRATCH_PAGES * PAGE) || in_range(pg, va(big), BIG_PAGES * PAGE) ||
        in_range(pg, va(slot_mem), MAX_CHILDREN * SLOTS * SLOT_PAGES * PAGE))
        return (int)win_rights;
    if (in_range(pg, ALIAS_BASE, ALIAS_PAGES * PAGE)) /* mapped means readable, whatever was asked */
        return alias[(pg - ALIAS_BASE) / PAGE] ? alias[(pg - ALIAS_BASE) / PAGE] | MR : 0;
    if (in_range(pg, ALIAS_BASE, ALIAS_VOID) || in_range(pg, NEVER_MAPPED, 1ull << 40))
        return 0;
    if (pg >= text_lo && pg < text_hi)
        return MR | MX;
    if (pg >= text_hi && pg < ro_hi)
        return MR;
    if (pg >= ro_hi && pg < data_hi)
        return MR | MW;
    if (pg == MICA_BOOTINFO_ADDR)
        return MR;
    return -1;
}

/* Whether [p, p+len) is all mapped in init with `need`: 1 yes, 0 certainly
 * not (some page lacks it, or the range leaves the user half), -1 unknown. */
static int range_known(uint64_t p, uint64_t len, uint32_t need)
{
    if (len == 0)
        return 1;
    if (p >= utop || len > utop - p)
        return 0;
    uint64_t first = p & ~(PAGE - 1), last = (p + len - 1) & ~(PAGE - 1);
    if ((last - first) / PAGE > 64)
        return -1;
    int result = 1;
    for (uint64_t pg = first; pg <= last; pg += PAGE) {
        int r = page_rights(pg);
        if (r == 0 || (r > 0 && (r & (int)need) != (int)need))
            return 0;
        if (r < 0)
            result = -1;
    }
    return result;
}

/* ---- recording a handle ---------------------------------------------------- */

static void fail_note(const char *fmt, uint64_t a, uint64_t b, uint64_t c);

/* A new handle h appeared in init's table (a create, mint, give to self or
 * a received handle); the kernel must have put it in a free slot. */
static void model_add(uint64_t h, unsigned type, uint32_t rights, uint64_t badge, uint32_t obj)
{
    if (h == 0 || h >= NHANDLES || tab[h].state != S_FREE) {
        fail_note("new handle %llu (type %llu) is not a free slot number (state %llu)", h, type,
                  h < NHANDLES ? tab[h].state : 99);
        return;
    }
    tab[h] =
        (struct hslot){.state = S_OWNED, .type = (uint8_t)type, .rights = rights, .badge = badge, .obj = obj};
}

static void model_del(uint64_t h)
{
    if (h == 0 || h >= NHANDLES)
        return;
    tab[h] = (struct hslot){0};
    stale[stale_pos++ % 8] = h;
}

static unsigned flags_of(uint64_t h)
{
    if (!present(h))
        return 0;
    return tab[h].obj ? obj_flags[tab[h].obj % OBJ_FLAGS] : F_LENT; /* received: it came from a child */
}

static void flag(uint64_t h, unsigned f)
{
    if (present(h) && tab[h].obj)
        obj_flags[tab[h].obj % OBJ_FLAGS] |= (uint8_t)f;
}

/* Whether handle h may go to a child (avoid_known: not a pager). */
static bool lendable(uint64_t h)
{
    return !avoid_known || !(flags_of(h) & F_PAGER);
}

/* ---- argument classes ------------------------------------------------------ */

/* A handle number of init that is not one the fuzzer must leave alone. */
static uint64_t not_foreign(uint64_t h)
{
    return h < NHANDLES && tab[h].state == S_FOREIGN ? 0 : h;
}

/* A random handle the fuzzer owns, of `type` (0: any), or 0 if none. */
static uint64_t pick_owned(unsigned type)
{
    unsigned n = 0;
    for (unsigned h = 1; h < NHANDLES; h++)
        n += tab[h].state == S_OWNED && (type == 0 || tab[h].type == type);
    if (n == 0)
        return 0;
    unsigned k = (unsigned)below(n);
    for (unsigned h = 1; h < NHANDLES; h++)
        if (tab[h].state == S_OWNED && (type == 0 || tab[h].type == type) && k-- == 0)
            return h;
    return 0;
}

/* A random handle of `type` to an object a worker also holds, or 0. */
static uint64_t pick_hot(unsigned type)
{
    unsigned n = 0;
    for (unsigned h = 1; h < NHANDLES; h++)
        for (unsigned i = 0; i < 8; i++)
            n += tab[h].state == S_OWNED && tab[h].type == type && tab[h].obj != 0 && tab[h].obj == hot[i];
    if (n == 0)
        return 0;
    unsigned k = (unsigned)below(n);
    for (unsigned h = 1; h < NHANDLES; h++)
        for (unsigned i = 0; i < 8; i++)
            if (tab[h].state == S_OWNED && tab[h].type == type && tab[h].obj != 0 && tab[h].obj == hot[i] &&
                k-- == 0)
                return h;
    return 0;
}

/* A handle argument: mostly the fuzzer's own (of `type` when it has one,
 * often one a worker shares), else closed ones, boundaries, high bits
 * above a valid number, random. */
static uint64_t gen_handle(unsigned type)
{
    unsigned r = (unsigned)below(100);
    uint64_t h;
    if (r < 25 && type && pick_hot(type))
        h = pick_hot(type);
    else if (r < 45)
        h = pick_owned(type) ? pick_owned(type) : pick_owned(0);
    else if (r < 58)
        h = pick_owned(0);
    else if (r < 66)
        h = stale[below(8)];
    else if (r < 70)
        h = 0;
    else if (r < 73)
        h = 127;
    else if (r < 76)
        h = 128;
    else if (r < 79)
        h = 0xffffffffull;
    else if (r < 83)
        h = (1ull << 32) + pick_owned(type);
    else if (r < 86)
        h = 1ull << 63;
    else if (r < 88)
        h = ~0ull;
    else if (r < 96)
        h = 1 + below(NHANDLES - 1);
    else
        h = rnd();
    return not_foreign(h);
}

/* Handle rights (MICA_R_*), relative to `held`. */
static uint64_t gen_rights(uint32_t held)
{
    unsigned r = (unsigned)below(100);
    if (r < 35)
        return below(MICA_R_ALL + 1);
    if (r < 55)
        return held;
    if (r < 65)
        return held & rnd();
    if (r < 75)
        return held | (1u << below(7));
    if (r < 80)
        return MICA_R_ALL;
    if (r < 86)
        return (1ull << (7 + below(57))) | below(MICA_R_ALL + 1);
    if (r < 90)
        return ~0ull;
    return rnd();
}

static uint64_t gen_map_rights(void)
{
    unsigned r = (unsigned)below(100);
    if (r < 65)
        return 1 + below(7);
    if (r < 72)
        return 0;
    if (r < 84)
        return (1ull << (3 + below(61))) | below(8);
    if (r < 88)
        return ~0ull;
    return rnd();
}

static uint64_t gen_badge(uint64_t held)
{
    unsigned r = (unsigned)below(100);
    if (r < 40)
        return 0;
    if (r < 60)
        return held;
    if (r < 70)
        return held + 1;
    if (r < 75)
        return ~0ull;
    return rnd();
}

/* A priority: mostly valid (at most the fuzzer's own), then just above,
 * out of range, and values whose low half is valid. */
static uint64_t gen_prio(void)
{
    unsigned r = (unsigned)below(100);
    if (r < 55)
        return below(my_prio + 1);
    if (r < 62)
        return my_prio;
    if (r < 70 && my_prio < MICA_PRIO_MAX)
        return my_prio + 1 + below(MICA_PRIO_MAX - my_prio);
    if (r < 76)
        return MICA_PRIO_MAX + 1;
    if (r < 80)
        return MICA_PRIO_MAX + 2 + below(200);
    if (r < 84)
        return 1ull << 31;
    if (r < 88)
        return (1ull << 32) + below(my_prio + 1);
    if (r < 92)
        return 1ull << 63;
    if (r < 96)
        return ~0ull;
    return rnd();
}

static uint64_t gen_timeout(void)
{
    unsigned r = (unsigned)below(100);
    if (r < 75)
        return MICA_TIMEOUT_POLL;
    if (r < 80)
        return 1;
    return 1 + below(WAIT_MAX_US);
}

/* A length or count. */
static uint64_t gen_len(void)
{
    static const uint64_t fixed[] = {0,    1,     2,     7,          64,         4095, 4096,
                                     4097, 65536, 65537, 1ull << 32, 1ull << 63, ~0ull};
    if (chance(85))
        return fixed[below(sizeof fixed / sizeof fixed[0])];
    return chance(50) ? below(70000) : rnd();
}

/* An address in the kernel half or outside the canonical ranges. */
static uint64_t gen_hostile_addr(void)
{
    switch (below(7)) {
    case 0:
        return 0xffff800000000000ull + below(1ull << 30) * 8;
    case 1:
        return 0xffffffff80000000ull + below(1ull << 24);
    case 2:
        return 0x8000000000000000ull + below(1ull << 20) * PAGE;
    case 3:
        return utop;
    case 4:
        return utop + below(1ull << 20) * PAGE;
    case 5:
        return ~0ull - below(PAGE);
    default:
        return 0xff00000000000000ull + below(1ull << 20) * PAGE;
    }
}

/* A pointer for the kernel to read (SYS_DEBUG_WRITE): the valid ones point
 * at newlines (scratch page 0 and its read-only alias), so what the kernel
 * prints never breaks a log line. */
static uint64_t gen_read_ptr(void)
{
    unsigned r = (unsigned)below(100);
    if (r < 10)
        return 0;
    if (r < 35)
        return gen_hostile_addr();
    if (r < 40)
        return utop - 1 - below(64);
    if (r < 60)
        return va(scratch) + below(PAGE);
    if (r < 72)
        return ALIAS_BASE + 4 * PAGE + (chance(50) ? PAGE - 1 - below(8) : below(PAGE));
    if (r < 82)
        return NEVER_MAPPED + below(1ull << 30);
    if (r < 88)
        return below(0x400000);
    return rnd();
}

/* A pointer for the kernel to write (SYS_DEBUG_COUNTS): never init memory
 * other than scratch; unmapped, read-only, straddling, unaligned and
 * hostile ones otherwise.  Unknown user addresses become hostile ones. */
static uint64_t gen_write_ptr(void)
{
    unsigned r = (unsigned)below(100);
    uint64_t p;
    if (r < 1 && chance(20))
        p = 0;
    else if (r < 30)
        p = gen_hostile_addr();
    else if (r < 45)
        p = va(scratch) + PAGE + below((SCRATCH_PAGES - 1) * PAGE - sizeof(struct mica_obj_counts));
    else if (r < 65)
        p = ALIAS_BASE + below(8) * PAGE + (chance(50) ? PAGE - 1 - below(64) : below(PAGE));
    else if (r < 72)
        p = NEVER_MAPPED + below(1ull << 30);
    else if (r < 78)
        p = text_lo + below(text_hi - text_lo);
    else if (r < 82)
        p = MICA_BOOTINFO_ADDR + below(64);
    else if (r < 86)
        p = utop - below(sizeof(struct mica_obj_counts));
    else
        p = rnd();
    if (p != 0 && range_known(p, sizeof(struct mica_obj_counts), 0) < 0)
        p = gen_hostile_addr();
    return p;
}

/* A user code or stack address for THREAD_CREATE (init's code only when
 * `code` says the target is a wild child). */
static uint64_t gen_entry(bool code)
{
    unsigned r = (unsigned)below(100);
    if (r < 25 || (r < 40 && !code))
        return NEVER_MAPPED + below(1ull << 30);
    if (r < 40)
        return text_lo + below(text_hi - text_lo);
    if (r < 50)
        return 0;
    if (r < 55)
        return utop - 2;
    if (r < 80)
        return gen_hostile_addr();
    return below(utop);
}

static uint64_t gen_ipcbuf(int ci, int si)
{
    unsigned r = (unsigned)below(100);
    if (r < 30)
        return 0;
    if (r < 50 && ci >= 0)
        return slot_buf(ci, si);
    if (r < 60)
        return va(scratch) + PAGE + below(PAGE) + 1;
    if (r < 75)
        return gen_hostile_addr() & ~(PAGE - 1);
    if (r < 80)
        return utop - PAGE;
    if (r < 90)
        return below(utop >> 12) << 12;
    return rnd();
}

/* ---- map arguments ---------------------------------------------------------- */

struct maparg {
    uint64_t src, dst, pages, rights;
    unsigned cls;   /* the source's class, SRC_* */
    uint64_t limit; /* pages the source may lend from src (0: any count) */
};

enum {
    SRC_SCRATCH,
    SRC_BIG,
    SRC_TEXT,
    SRC_RODATA,
    SRC_DATA,
    SRC_BOOTINFO,
    SRC_ALIAS,
    SRC_NEVER,
    SRC_LOW,
    SRC_HOSTILE,
    SRC_UNALIGNED,
    SRC_RANDOM,
    SRC_CLASSES
};

/* A map source and how many pages may follow it inside memory the fuzzer
 * may lend (0: any count, everything after it fails).  Scratch page 0 (the
 * newlines) is not lent. */
static uint64_t gen_src(unsigned cls, uint64_t *limit)
{
    uint64_t k;
    *limit = 0;
    switch (cls) {
    case SRC_SCRATCH:
        k = 1 + below(SCRATCH_PAGES - 1);
        *limit = SCRATCH_PAGES - k;
        return va(scratch) + k * PAGE;
    case SRC_BIG:
        k = chance(50) ? below(2) * 512 : below(BIG_PAGES);
        *limit = BIG_PAGES - k;
        return va(big) + k * PAGE;
    case SRC_TEXT:
        k = below((text_hi - text_lo) / PAGE);
        *limit = (text_hi - text_lo) / PAGE - k;
        return text_lo + k * PAGE;
    case SRC_RODATA:
        if (ro_hi == text_hi)
            return NEVER_MAPPED;
        k = below((ro_hi - text_hi) / PAGE);
        *limit = (ro_hi - text_hi) / PAGE - k;
        return text_hi + k * PAGE;
    case SRC_DATA:
        if (data_hi == ro_hi)
            return NEVER_MAPPED;
        k = below((data_hi - ro_hi) / PAGE);
        *limit = (data_hi - ro_hi) / PAGE - k;
        return ro_hi + k * PAGE;
    case SRC_BOOTINFO:
        *limit = 1;
        return MICA_BOOTINFO_ADDR;
    case SRC_ALIAS:
        return ALIAS_BASE + below(16) * PAGE;
    case SRC_NEVER:
        return NEVER_MAPPED + below(1ull << 26) * PAGE;
    case SRC_LOW:
        /* Below init's image; never reaching it (nothing is mapped there,
         * but the rule must not depend on that). */
        k = 1 + below(0x3ff);
        *limit = 0x400 - k;
        return k * PAGE;
    case SRC_HOSTILE:
        return gen_hostile_addr();
    case SRC_UNALIGNED:
        *limit = SCRATCH_PAGES - 2;
        return va(scratch) + PAGE + 1 + below(PAGE - 1);
    default:
        return rnd() | (1ull << 63);
    }
}

/* A destination in a child task (anything goes there). */
static uint64_t gen_child_dst(void)
{
    unsigned r = (unsigned)below(100);
    if (r < 25)
        return below(utop >> 12) << 12;
    if (r < 40)
        return below(utop >> 21) << 21;
    if (r < 50)
        return 0x200000 + below(512) * PAGE;
    if (r < 55)
        return text_lo + below((data_hi - text_lo) / PAGE) * PAGE;
    if (r < 62)
        return slot_stack(0, 0) + below(MAX_CHILDREN * SLOTS * SLOT_PAGES) * PAGE;
    if (r < 67)
        return utop - PAGE * (1 + below(4));
    if (r < 70)
        return 0;
    if (r < 85)
        return gen_hostile_addr();
    if (r < 92)
        return (below(utop >> 12) << 12) + 1 + below(PAGE - 1);
    return rnd();
}

/* A destination in init itself: inside the alias region, or one that makes
 * the call fail for certain (kernel, non-canonical, unaligned, occupied). */
static uint64_t gen_self_dst(void)
{
    unsigned r = (unsigned)below(100);
    if (r < 75)
        return ALIAS_BASE + below(ALIAS_PAGES) * PAGE;
    if (r < 80)
        return ALIAS_BASE + PAGE + 1 + below(PAGE - 1);
    if (r < 85)
        return text_lo;
    if (r < 90)
        return utop - PAGE;
    return gen_hostile_addr();
}

/* Keep m within what its source may lend: no more pages than the limit
 * (counts the kernel must refuse, 0 or over 65536, stay), and init's
 * writable data never lent writable. */
static void map_fix(struct maparg *m)
{
    if (m->limit != 0 && m->pages >= 1 && m->pages <= 65536 && m->pages > m->limit)
        m->pages = 1 + below(m->limit);
    if (m->cls == SRC_DATA && !(m->rights & ~7ull))
        m->rights &= ~(uint64_t)MW;
}

static void gen_map(bool self, struct maparg *m)
{
    m->cls = (unsigned)below(SRC_CLASSES);
    m->src = gen_src(m->cls, &m->limit);
    m->pages = chance(50) ? 1 + below(4) : gen_len();
    if (chance(15))
        m->pages = chance(50) ? 512 : 513;
    m->rights = gen_map_rights();
    map_fix(m);
    m->dst = self ? gen_self_dst() : gen_child_dst();
    if (self && in_range(m->dst, ALIAS_BASE, ALIAS_PAGES * PAGE) && m->pages >= 1 && m->pages <= 65536) {
        uint64_t room = ALIAS_PAGES - (m->dst - ALIAS_BASE) / PAGE;
        if (m->pages > room)
            m->pages = 1 + below(room);
    }
}

/* ---- a call and what the model allows ---------------------------------------- */

struct call {
    uint64_t nr, a[6], to; /* RAX; RDI RSI RDX R10 R8 R9; R12 */
    uint32_t allowed;      /* statuses the model allows: BIT(st) */
    const char *why;       /* the rule behind `allowed`, for the report */
    int st;
    uint64_t r[6];          /* RDI RSI RDX R10 R8 R9 after the call */
    int spawn_ci, spawn_si; /* >= 0: start fz_worker there with mica_thread_spawn */
};

static void call_init(struct call *c, uint64_t nr)
{
    *c = (struct call){.nr = nr, .allowed = ALL_ST, .spawn_ci = -1};
}

/* Restrict c to `certain` when it is not empty (an error must come),
 * else to `otherwise`. */
static void allow(struct call *c, uint32_t certain, uint32_t otherwise, const char *why)
{
    if (certain) {
        c->allowed = certain;
        c->why = why;
    } else {
        c->allowed = otherwise;
        c->why = "the outcomes the model allows";
    }
}

/* The error a lookup of h (of `type`, 0: any, with `rights`) must give:
 * its status bit, or 0 when the model says it succeeds. */
static uint32_t lookup_err(uint64_t h, unsigned type, uint32_t rights)
{
    if (!present(h))
        return BIT(MICA_EBADH);
    if (type && tab[h].type != type)
        return BIT(MICA_ETYPE);
    if ((tab[h].rights & rights) != rights)
        return BIT(MICA_ERIGHTS);
    return 0;
}

/* Errors of an address range as a SYS_MAP source or destination, or of an
 * IPC buffer page: unaligned, non-canonical, in or reaching the kernel. */
static uint32_t range_err(uint64_t a, uint64_t pages)
{
    uint32_t e = 0;
    if (a & (PAGE - 1))
        e |= BIT(MICA_EINVAL);
    if (!canonical(a))
        e |= BIT(MICA_ENONCANON);
    else if (a >= utop)
        e |= BIT(MICA_EKERNEL);
    else if (pages <= 65536 && a + pages * PAGE > utop)
        e |= BIT(MICA_EKERNEL) | BIT(MICA_ENONCANON);
    return e;
}

/* Errors of a code or stack address (THREAD_CREATE). */
static uint32_t addr_err(uint64_t a)
{
    if (!canonical(a))
        return BIT(MICA_ENONCANON);
    return a >= utop ? BIT(MICA_EKERNEL) : 0;
}

/* Errors of deriving a handle from h with rights and badge (mint, give). */
static uint32_t derive_err(uint64_t h, uint64_t rights, uint64_t badge)
{
    if (!present(h))
        return BIT(MICA_EBADH);
    uint32_t e = 0;
    if (!(tab[h].rights & MICA_R_TRANSFER))
        e |= BIT(MICA_ERIGHTS);
    if (rights & ~(uint64_t)MICA_R_ALL)
        e |= BIT(MICA_EINVAL);
    else if (rights & ~(uint64_t)tab[h].rights)
        e |= BIT(MICA_EUPGRADE);
    if (tab[h].badge != 0 && badge != tab[h].badge)
        e |= BIT(MICA_EINVAL);
    return e;
}

/* Errors of the message in c (SEND, CALL): its size, and the handles it
 * passes from init's IPC buffer. */
static uint32_t message_err(uint64_t info)
{
    uint32_t words = MICA_INFO_WORDS(info), nh = MICA_INFO_HANDLES(info), e = 0;
    if (words > MICA_MSG_MAX_WORDS || nh > MICA_MSG_MAX_HANDLES)
        return BIT(MICA_ETOOLONG);
    for (uint32_t i = 0; i < nh; i++) {
        uint32_t h = mica_ipcbuf->send_handles[i];
        if (!present(h))
            e |= BIT(MICA_EBADH);
        else if (!(tab[h].rights & MICA_R_TRANSFER) || (mica_ipcbuf->send_rights[i] & ~tab[h].rights))
            e |= BIT(MICA_ERIGHTS);
    }
    return e;
}

/* What SYS_MAP (target task a[0]) may answer.  Errors the model makes
 * certain are required (any of them: the kernel checks page by page);
 * `maybe` adds what it cannot rule out. */
static void expect_map(struct call *c, const struct maparg *m)
{
    bool self = c->a[0] == self_task;
    uint32_t e = lookup_err(c->a[0], MICA_OBJ_TASK, MICA_R_MAP), maybe = 0;
    bool task_ok = e == 0, pages_ok = m->pages >= 1 && m->pages <= 65536;
    if (!pages_ok || m->rights == 0 || (m->rights & ~7ull))
        e |= BIT(MICA_EINVAL);
    e |= range_err(m->src, m->pages) | range_err(m->dst, m->pages);
    if (pages_ok && !range_err(m->src, m->pages))
        for (uint64_t i = 0; i < m->pages; i++) {
            int r = i < 64 ? page_rights(m->src + i * PAGE) : -1;
            if (r < 0)
                maybe |= BIT(MICA_ENOTOWNER) | BIT(MICA_EUPGRADE);
            else if (r == 0)
                e |= BIT(MICA_ENOTOWNER);
            else if (m->rights & 7 & ~(uint64_t)r)
                e |= BIT(MICA_EUPGRADE);
            if (i >= 64)
                break;
        }
    if (pages_ok && !range_err(m->dst, m->pages)) {
        if (!self)
            maybe |= BIT(MICA_EEXISTS);
        for (uint64_t i = 0; self && i < m->pages; i++) {
            int r = i < 64 ? page_rights(m->dst + i * PAGE) : -1;
            if (r < 0)
                maybe |= BIT(MICA_EEXISTS);
            else if (r > 0)
                e |= BIT(MICA_EEXISTS);
            if (i >= 64)
                break;
        }
    }
    if (task_ok && !self)
        maybe |= BIT(MICA_EDEAD);
    allow(c, e ? e | maybe : 0, BIT(MICA_OK) | BIT(MICA_ENOMEM) | maybe,
          "map: errors certain from the handle, sizes, addresses or init's own pages");
}

/* ---- reporting ---------------------------------------------------------------- */

static void pass(void)
{
    checks_passed++;
}

/* A failed check that is not about one call's status. */
static void fail_note(const char *fmt, uint64_t a, uint64_t b, uint64_t c)
{
    checks_failed++;
    chunk_failed++;
    if (printed++ >= MAX_PRINTED)
        return;
    char line[200];
    fmt_snprintf(line, sizeof line, fmt, (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
    mica_printf("# sysfuzz FAIL after call %llu (seed %llu): %s\n", (unsigned long long)calls_done,
                (unsigned long long)seed_used, line);
}

/* A failed check of call c: everything needed to issue it again. */
static void fail_call(const struct call *c, const char *why)
{
    checks_failed++;
    chunk_failed++;
    if (printed++ >= MAX_PRINTED) {
        if (printed == MAX_PRINTED + 1)
            mica_puts("# sysfuzz: further failures are counted, not printed");
        return;
    }
    mica_printf("# sysfuzz FAIL call %llu (seed %llu): %s: %s -> %d, allowed mask 0x%x (bit n: status -n)\n",
                (unsigned long long)calls_done, (unsigned long long)seed_used, call_name(c->nr), why, c->st,
                c->allowed);
    mica_printf("#   rax=0x%llx rdi=0x%llx rsi=0x%llx rdx=0x%llx r10=0x%llx r8=0x%llx r9=0x%llx r12=0x%llx\n",
                (unsigned long long)c->nr, (unsigned long long)c->a[0], (unsigned long long)c->a[1],
                (unsigned long long)c->a[2], (unsigned long long)c->a[3], (unsigned long long)c->a[4],
                (unsigned long long)c->a[5], (unsigned long long)c->to);
    const struct mica_ipc_buffer *b = mica_ipcbuf;
    mica_printf("#   ipc buffer send_handles=%u,%u,%u,%u send_rights=0x%x,0x%x,0x%x,0x%x; results rdi=0x%llx "
                "rsi=0x%llx\n",
                b->send_handles[0], b->send_handles[1], b->send_handles[2], b->send_handles[3],
                b->send_rights[0], b->send_rights[1], b->send_rights[2], b->send_rights[3],
                (unsigned long long)c->r[0], (unsigned long long)c->r[1]);
}

/* One check on call c. */
static void check(const struct call *c, bool ok, const char *why)
{
    if (ok)
        pass();
    else
        fail_call(c, why);
}

/* ---- issuing ------------------------------------------------------------------ */

static void fz_worker(uint64_t arg, struct mica_ipc_buffer *buf);

#define FL_CF 0x1ull
#define FL_PF 0x4ull
#define FL_ZF 0x40ull
#define FL_SF 0x80ull
#define FL_DF 0x400ull
#define FL_OF 0x800ull
#define FL_NT 0x4000ull
#define FL_AC 0x40000ull
/* The flags a call must give back as the thread set them. */
#define FL_KEPT (FL_CF | FL_PF | FL_ZF | FL_SF | FL_DF | FL_OF | FL_NT | FL_AC)

/* RFLAGS for one call: any mix of the bits ring 3 may set (never TF: init
 * would stop itself), plus reserved bits and IOPL, which POPF ignores. */
static uint64_t gen_rflags(void)
{
    if (chance(30))
        return 0;
    uint64_t f = rnd() & FL_KEPT;
    if (chance(20))
        f |= rnd() & 0xffc08028ull; /* reserved bits 3, 5, 15, 22..31 */
    if (chance(10))
        f |= 0x3000; /* IOPL 3: silently refused at CPL 3 */
    return f;
}

/* mica_syscall_exchange with the FL_KEPT bits of RFLAGS set to `set` for
 * the SYSCALL; *after gets RFLAGS as the call returned them. */
static int exchange_flags(uint64_t n, uint64_t ep, struct mica_msg *m, uint64_t timeout, uint64_t *badge,
                          uint64_t set, uint64_t *after)
{
    uint64_t rax = n, rdi = ep, rsi = m->info, rdx = m->mr[0], fl;
    register uint64_t r10 __asm__("r10") = m->mr[1];
    register uint64_t r8 __asm__("r8") = m->mr[2];
    register uint64_t r9 __asm__("r9") = m->mr[3];
    register uint64_t r12 __asm__("r12") = timeout;
    __asm__ volatile("pushfq\n\t"
                     "pushfq\n\t"
                     "andq %[clear], (%%rsp)\n\t"
                     "orq %[set], (%%rsp)\n\t"
                     "popfq\n\t"
                     "syscall\n\t"
                     "pushfq\n\t"
                     "popq %[fl]\n\t"
                     "popfq"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8),
                       "+r"(r9), [fl] "=&r"(fl)
                     : "r"(r12), [set] "r"(set), [clear] "r"(~FL_KEPT)
                     : "rcx", "r11", "memory", "cc");
    *badge = rdi;
    m->info = rsi;
    m->mr[0] = rdx;
    m->mr[1] = r10;
    m->mr[2] = r8;
    m->mr[3] = r9;
    *after = fl;
    return (int)rax;
}

/* init's own x87/SSE registers around each call: filled with a value of
 * the call before it, compared after (no other thread's state may show). */
static uint8_t fpu_img[512] __attribute__((aligned(64)));
static uint8_t fpu_now[512] __attribute__((aligned(64)));

static void fpu_canary_set(uint64_t v)
{
    __asm__ volatile("fxsave64 %0" : "=m"(fpu_img));
    for (int i = 0; i < 32; i++) {
        uint64_t w = v * 0x9e3779b97f4a7c15ull + (uint64_t)i;
        __builtin_memcpy(fpu_img + 160 + 8 * i, &w, 8); /* XMM0..15 */
    }
    for (int i = 0; i < 8; i++) /* ST0..7: the 80-bit registers, padding zero */
        for (int j = 0; j < 16; j++)
            fpu_img[32 + 16 * i + j] = j < 8 ? (uint8_t)(v >> (j * 8)) ^ (uint8_t)i : j < 10 ? 0x3f : 0;
    fpu_img[4] = 0xff; /* all eight tagged valid (FXSAVE's abridged tags) */
    __asm__ volatile("fxrstor64 %0" : : "m"(fpu_img));
}

/* True when the registers still hold what fpu_canary_set loaded. */
static bool fpu_canary_ok(void)
{
    __asm__ volatile("fxsave64 %0" : "=m"(fpu_now));
    if (fpu_now[4] != fpu_img[4] || __builtin_memcmp(fpu_now + 160, fpu_img + 160, 256) != 0)
        return false;
    for (int i = 0; i < 8; i++)
        if (__builtin_memcmp(fpu_now + 32 + 16 * i, fpu_img + 32 + 16 * i, 10) != 0)
            return false;
    return true;
}

/* A write through p of len bytes that may fail: a copy of the part of
 * [p, p + len) on a page init can read, to check that a failed call left
 * it alone.  Returns the bytes copied (0: nothing to check). */
static uint64_t straddle_snapshot(uint64_t p, uint64_t len, uint8_t *copy)
{
    if (p == 0 || p >= utop || page_rights(p) <= 0 || !(page_rights(p) & MW))
        return 0;
    uint64_t n = PAGE - (p & (PAGE - 1));
    n = n < len ? n : len;
    __builtin_memcpy(copy, (const void *)(uintptr_t)p, n);
    return n;
}

/* Make call c, then check its status: within the ABI, and allowed. */
static void issue(struct call *c)
{
    struct mica_msg m = {.info = c->a[1], .mr = {c->a[2], c->a[3], c->a[4], c->a[5]}};
    uint64_t r0 = 0;
    calls_done++;
    if (calls_done >= trace_from)
        mica_printf("# trace %llu: %s(%llu) 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx t=%llu%s\n",
                    (unsigned long long)calls_done, call_name(c->nr), (unsigned long long)c->nr,
                    (unsigned long long)c->a[0], (unsigned long long)c->a[1], (unsigned long long)c->a[2],
                    (unsigned long long)c->a[3], (unsigned long long)c->a[4], (unsigned long long)c->a[5],
                    (unsigned long long)c->to, c->spawn_ci >= 0 ? " (spawn fz_worker)" : "");
    uint64_t flags = gen_rflags(), flags_after = 0;
    uint8_t before[sizeof(struct mica_obj_counts)];
    uint64_t kept = c->nr == SYS_DEBUG_COUNTS ? straddle_snapshot(c->a[0], sizeof before, before) : 0;
    fpu_canary_set(calls_done);
    wd_seq = calls_done;
    wd_inflight = 1;
    if (c->spawn_ci >= 0) {
        mica_handle_t th = 0;
        c->st = mica_thread_spawn((mica_handle_t)c->a[0], fz_worker, c->a[3], (void *)(uintptr_t)c->a[2],
                                  (int)c->a[4], (struct mica_ipc_buffer *)(uintptr_t)c->a[5], &th);
        r0 = th;
        m = (struct mica_msg){0};
    } else {
        c->st = exchange_flags(c->nr, c->a[0], &m, c->to, &r0, flags, &flags_after);
        if ((flags_after & FL_KEPT) != (flags & FL_KEPT)) {
            fail_call(c, "RFLAGS came back changed (NT, DF, AC or an arithmetic flag)");
            wd_inflight = 0;
            return;
        }
    }
    wd_inflight = 0;
    if (!fpu_canary_ok()) {
        fail_call(c, "init's FPU/SSE registers changed across the call");
        return;
    }
    if (kept && c->st != MICA_OK && __builtin_memcmp(before, (const void *)(uintptr_t)c->a[0], kept) != 0) {
        fail_call(c, "a failed call wrote the part of its buffer that was mapped");
        return;
    }
    if (calls_done >= trace_from)
        mica_printf("#   -> %d 0x%llx\n", c->st, (unsigned long long)r0);
    c->r[0] = r0;
    c->r[1] = m.info;
    for (int i = 0; i < 4; i++)
        c->r[2 + i] = m.mr[i];
    unsigned row = c->nr < NCALLS ? (unsigned)c->nr : NCALLS;
    if (c->st > 0 || c->st < -(NSTATUS - 1)) {
        cov[row][NSTATUS]++;
        fail_call(c, "status outside the ABI (not MICA_OK or a MICA_E* of abi.h)");
        return;
    }
    cov[row][-c->st]++;
    if (wd_aborted_seq == calls_done) {
        /* The watchdog ended it.  Only a call's wait for the reply may last. */
        if (c->nr == SYS_CALL && c->st == MICA_EABORTED) {
            st_rescues++;
            pass();
        } else {
            fail_call(c, "a bounded wait lasted longer than the watchdog's limit");
        }
        return;
    }
    if (c->allowed & BIT(c->st))
        pass();
    else
        fail_call(c, c->why ? c->why : "status the model does not allow");
}

/* ---- the model after a call ------------------------------------------------------ */

static void kid_free(int ci)
{
    kids[ci] = (struct child){0};
}

/* Handles that arrived with a message received (info: the sender's). */
static void take_received(uint64_t info)
{
    uint32_t nh = MICA_INFO_HANDLES(info);
    if (MICA_INFO_LABEL(info) == MICA_LABEL_FAULT)
        st_faults_received++;
    for (uint32_t i = 0; i < nh && i < MICA_MSG_MAX_HANDLES; i++) {
        uint64_t h = mica_ipcbuf->recv_handles[i];
        struct call q;
        call_init(&q, SYS_HANDLE_INFO);
        q.a[0] = h;
        allow(&q, 0, BIT(MICA_OK), NULL);
        q.why = "a handle just received must exist";
        issue(&q);
        st_received_handles++;
        if (q.st == MICA_OK)
            model_add(h, (unsigned)q.r[0], (uint32_t)q.r[1], q.r[2], 0);
    }
}

/* Update the model after c (which is checked already). */
static void apply(const struct call *c)
{
    bool sends = c->nr == SYS_SEND || c->nr == SYS_CALL || c->nr == SYS_REPLY || c->nr == SYS_REPLY_RECV;
    for (uint32_t i = 0; sends && i < MICA_INFO_HANDLES(c->a[1]) && i < MICA_MSG_MAX_HANDLES; i++)
        flag(mica_ipcbuf->send_handles[i], F_LENT); /* maybe delivered */
    if (c->nr == SYS_TASK_GIVE && c->st == MICA_OK && c->a[0] != self_task)
        flag(c->a[1], F_LENT);
    if (c->nr == SYS_TASK_SET_PAGER && c->st == MICA_OK)
        flag(c->a[1], F_PAGER);
    if ((c->nr == SYS_REPLY || c->nr == SYS_REPLY_RECV) &&
        (c->st == MICA_OK || c->st == MICA_ENOREPLY || c->st == MICA_EDEAD))
        owe_fault = false;
    if ((c->nr == SYS_RECV || c->nr == SYS_REPLY_RECV) && c->st == MICA_OK &&
        MICA_INFO_LABEL(c->r[1]) == MICA_LABEL_FAULT)
        owe_fault = true;
    if (c->st == MICA_EDEAD && c->nr != SYS_SEND && c->nr != SYS_CALL && present(c->a[0]) &&
        tab[c->a[0]].type == MICA_OBJ_TASK && child_of_obj(tab[c->a[0]].obj) >= 0)
        kids[child_of_obj(tab[c->a[0]].obj)].dead = true;
    if (c->st != MICA_OK) {
        if (c->st == MICA_ENOMEM)
            enomem_seen = true;
        return;
    }
    uint64_t h = c->a[0];
    switch (c->nr) {
    case SYS_RECV:
    case SYS_REPLY_RECV:
    case SYS_CALL:
        take_received(c->r[1]);
        break;
    case SYS_ENDPOINT_CREATE:
        model_add(c->r[0], MICA_OBJ_ENDPOINT, MICA_R_SEND | MICA_R_RECV | MICA_R_TRANSFER, 0, ++next_obj);
        break;
    case SYS_NOTIFICATION_CREATE:
        model_add(c->r[0], MICA_OBJ_NOTIFICATION, MICA_R_SIGNAL | MICA_R_WAIT | MICA_R_TRANSFER, 0,
                  ++next_obj);
        break;
    case SYS_TASK_CREATE:
        model_add(c->r[0], MICA_OBJ_TASK, MICA_R_ALL, 0, ++next_obj);
        for (int i = 0; i < MAX_CHILDREN; i++)
            if (!kids[i].used) {
                kids[i] = (struct child){
                    .used = true, .role = ROLE_CRASHY, .task = (mica_handle_t)c->r[0], .obj = next_obj};
                st_children++;
                return;
            }
        fail_note("no child record free for task handle %llu", c->r[0], 0, 0);
        break;
    case SYS_THREAD_CREATE:
        model_add(c->r[0], MICA_OBJ_THREAD, MICA_R_CONTROL | MICA_R_TRANSFER, 0, ++next_obj);
        st_threads++;
        break;
    case SYS_HANDLE_CLOSE: {
        int ci = child_of_task(h);
        if (ci >= 0)
            kid_free(ci);
        model_del(h);
        break;
    }
    case SYS_HANDLE_MINT:
        if (present(h))
            model_add(c->r[0], tab[h].type, (uint32_t)c->a[1], c->a[2], tab[h].obj);
        break;
    case SYS_TASK_GIVE:
        if (h == self_task && present(c->a[1]))
            model_add(c->r[0], tab[c->a[1]].type, (uint32_t)c->a[2], c->a[3], tab[c->a[1]].obj);
        break;
    case SYS_TASK_KILL: {
        int ci = present(h) ? child_of_obj(tab[h].obj) : -1;
        if (ci >= 0)
            kids[ci].dead = true;
        break;
    }
    case SYS_MAP:
    case SYS_UNMAP:
    case SYS_PROTECT:
        if (h == self_task && in_range(c->a[c->nr == SYS_MAP ? 2 : 1], ALIAS_BASE, ALIAS_PAGES * PAGE)) {
            uint64_t dst = c->nr == SYS_MAP ? c->a[2] : c->a[1], n = c->nr == SYS_MAP ? c->a[3] : c->a[2];
            uint8_t rights = c->nr == SYS_MAP       ? (uint8_t)c->a[4]
                             : c->nr == SYS_PROTECT ? (uint8_t)c->a[3]
                                                    : 0;
            for (uint64_t i = (dst - ALIAS_BASE) / PAGE; n > 0 && i < ALIAS_PAGES; i++, n--)
                alias[i] = rights;
        }
        break;
    default:
        break;
    }
}

/* Issue c, check it, update the model.  (avoid_known: a fault init holds
 * is answered before init receives again.) */
static void run(struct call *c)
{
    if (avoid_known && owe_fault && c->nr == SYS_RECV) {
        struct call k;
        call_init(&k, SYS_REPLY);
        k.a[1] = MICA_FAULT_KILL;
        allow(&k, 0, BIT(MICA_OK) | BIT(MICA_EDEAD) | BIT(MICA_ENOREPLY), NULL);
        k.why = "a pager's KILL answer";
        issue(&k);
        apply(&k);
    }
    issue(c);
    apply(c);
}

/* ---- generating one call --------------------------------------------------------- */

/* The registers of a message: the info word, mr0..3, and the handles and
 * rights in init's IPC buffer (all four rewritten, so no stale number of a
 * handle the fuzzer must not pass can be sent).  A reply labelled
 * MICA_FAULT_MAP maps from init: its source follows the map rules. */
static void gen_message(struct call *c)
{
    unsigned r = (unsigned)below(100);
    uint64_t label = r < 60   ? below(0x10000)
                     : r < 70 ? MICA_LABEL_FAULT
                     : r < 82 ? MICA_FAULT_MAP
                     : r < 88 ? MICA_FAULT_KILL
                              : 0;
    r = (unsigned)below(100);
    uint64_t words = r < 60   ? 0
                     : r < 80 ? 1 + below(MICA_MSG_MAX_WORDS)
                     : r < 85 ? MICA_MSG_MAX_WORDS
                     : r < 90 ? MICA_MSG_MAX_WORDS + 1
                              : below(256);
    r = (unsigned)below(100);
    uint64_t nh = r < 70 ? 0 : r < 92 ? 1 + below(MICA_MSG_MAX_HANDLES) : MICA_MSG_MAX_HANDLES + 1 + below(3);
    uint64_t high = chance(20) ? rnd() & ~((1ull << 27) - 1) : 0;
    c->a[1] = label | words << 16 | nh << 24 | high;
    for (int i = 0; i < 4; i++)
        c->a[2 + i] = chance(30) ? below(16) : rnd();
    if (label == MICA_FAULT_MAP) {
        struct maparg m;
        gen_map(false, &m);
        m.rights &= ~(uint64_t)MX; /* a faulting thread never runs what init lends it */
        c->a[2] = m.src;
        c->a[3] = m.dst;
        c->a[4] = m.pages;
        c->a[5] = m.rights;
    }
    for (int i = 0; i < MICA_MSG_MAX_HANDLES; i++) {
        uint64_t h = not_foreign((uint32_t)gen_handle(0));
        mica_ipcbuf->send_handles[i] = lendable(h) ? (uint32_t)h : 0;
        mica_ipcbuf->send_rights[i] = (uint32_t)gen_rights(MICA_R_ALL);
    }
}

/* Kill the child behind record ci (its original handle) before that handle
 * is closed. */
static void kill_record(int ci)
{
    struct call c;
    call_init(&c, SYS_TASK_KILL);
    c.a[0] = kids[ci].task;
    allow(&c, 0, BIT(MICA_OK) | BIT(MICA_EDEAD), NULL);
    c.why = "killing a child by its own handle";
    run(&c);
    kids[ci].dead = true;
}

/* What an IPC call c (its registers and init's IPC buffer set) may answer. */
static void expect_ipc(struct call *c)
{
    bool send = c->nr == SYS_SEND || c->nr == SYS_CALL;
    if (c->nr == SYS_REPLY) {
        allow(c, 0, ALL_ST & ~BIT(MICA_ENOSYS), NULL);
        return;
    }
    uint32_t e = lookup_err(c->a[0], MICA_OBJ_ENDPOINT, send ? MICA_R_SEND : MICA_R_RECV);
    if (c->nr == SYS_RECV) {
        allow(c, e, BIT(MICA_OK) | BIT(MICA_ETIMEOUT) | BIT(MICA_EFAULT) | BIT(MICA_ENOHANDLES),
              "recv: the handle");
    } else if (c->nr == SYS_REPLY_RECV) {
        allow(c, e ? ALL_ST & ~(BIT(MICA_OK) | BIT(MICA_ETIMEOUT) | BIT(MICA_ENOSYS)) : 0,
              ALL_ST & ~BIT(MICA_ENOSYS), "reply_recv: a bad handle cannot succeed");
    } else {
        e |= message_err(c->a[1]);
        /* EDEAD: no handle that could receive is left (the partner died). */
        uint32_t ok = BIT(MICA_OK) | BIT(MICA_ETIMEOUT) | BIT(MICA_EDEAD);
        if (c->nr == SYS_CALL)
            ok |= BIT(MICA_EDEAD) | BIT(MICA_ENOREPLY) | BIT(MICA_EFAULT) | BIT(MICA_ENOHANDLES);
        allow(c, e, ok, "send/call: the handle or the message");
    }
}

static void gen_ipc(struct call *c)
{
    c->a[0] = gen_handle(MICA_OBJ_ENDPOINT);
    gen_message(c);
    c->to = gen_timeout();
    expect_ipc(c);
}

static void gen_thread_create(struct call *c, bool self)
{
    c->a[0] = self ? self_task : gen_handle(MICA_OBJ_TASK);
    int ci = child_of_task(c->a[0]), si = (int)below(SLOTS);
    int wc = present(c->a[0]) ? child_of_obj(tab[c->a[0]].obj) : -1;
    bool wild = wc >= 0 && kids[wc].role == ROLE_WILD;
    c->a[1] = gen_entry(wild);
    c->a[2] = ci >= 0 && chance(60) ? slot_stack_top(ci, si) - 64 : gen_entry(false);
    c->a[3] = rnd();
    c->a[4] = gen_prio();
    c->a[5] = gen_ipcbuf(ci, si);
    for (int tries = 0;; tries++) {
        uint32_t e = lookup_err(c->a[0], MICA_OBJ_TASK, MICA_R_CONTROL);
        bool task_ok = e == 0;
        e |= addr_err(c->a[1]) | addr_err(c->a[2]);
        if (c->a[5] != 0)
            e |= range_err(c->a[5], 1);
        if (c->a[4] > MICA_PRIO_MAX)
            e |= BIT(MICA_EINVAL);
        else if (c->a[4] > my_prio)
            e |= BIT(MICA_EUPGRADE);
        if (free_slots() == 0)
            e |= BIT(MICA_ENOHANDLES);
        if (e && task_ok && !self)
            e |= BIT(MICA_EDEAD);
        if (self && !e && tries == 0) {
            c->a[1] = gen_hostile_addr(); /* never a new thread in init */
            continue;
        }
        allow(c, e, BIT(MICA_OK) | BIT(MICA_EDEAD) | BIT(MICA_ENOMEM),
              "thread_create: errors certain from its arguments");
        break;
    }
    if (ci >= 0 && c->a[2] == slot_stack_top(ci, si) - 64)
        kids[ci].slot[si].busy = true; /* maybe; never reused until the child dies */
}

/* Make c a SYS_MAP or SYS_UNMAP; in init itself only inside the alias
 * region (never its first page) or with an error certain. */
static void gen_map_call(struct call *c)
{
    bool self = chance(12);
    c->a[0] = self ? self_task : gen_handle(MICA_OBJ_TASK);
    struct maparg m;
    gen_map(self, &m);
    if (c->nr == SYS_MAP) {
        c->a[1] = m.src;
        c->a[2] = m.dst;
        c->a[3] = m.pages;
        c->a[4] = m.rights;
        expect_map(c, &m);
        if (self && (c->allowed & BIT(MICA_OK)) &&
            !(m.dst > ALIAS_BASE && m.dst + m.pages * PAGE <= ALIAS_BASE + ALIAS_PAGES * PAGE)) {
            m.dst = gen_hostile_addr();
            c->a[2] = m.dst;
            expect_map(c, &m);
        }
        return;
    }
    if (self && m.dst == ALIAS_BASE)
        m.dst += PAGE;
    c->a[1] = m.dst;
    c->a[2] = m.pages;
    uint32_t e = lookup_err(c->a[0], MICA_OBJ_TASK, MICA_R_MAP);
    bool task_ok = e == 0;
    if (m.pages == 0 || m.pages > 65536)
        e |= BIT(MICA_EINVAL);
    e |= range_err(m.dst, m.pages);
    if (self && !e && !(m.dst > ALIAS_BASE && m.dst + m.pages * PAGE <= ALIAS_BASE + ALIAS_PAGES * PAGE)) {
        c->a[1] = gen_hostile_addr();
        e |= range_err(c->a[1], m.pages);
    }
    if (e && task_ok && !self)
        e |= BIT(MICA_EDEAD);
    allow(c, e, BIT(MICA_OK) | BIT(MICA_ENOMEM) | (self ? 0 : BIT(MICA_EDEAD)),
          "unmap: errors certain from its arguments");
}

static bool in_alias(uint64_t dst, uint64_t pages)
{
    return dst >= ALIAS_BASE && pages <= ALIAS_PAGES && dst + pages * PAGE <= ALIAS_BASE + ALIAS_PAGES * PAGE;
}

/* What SYS_PROTECT (task a[0], dst a[1], pages a[2], rights a[3]) may
 * answer: lowering the rights of pages that must all be mapped. */
static void expect_protect(struct call *c)
{
    bool self = c->a[0] == self_task;
    uint64_t dst = c->a[1], pages = c->a[2], rights = c->a[3];
    uint32_t e = lookup_err(c->a[0], MICA_OBJ_TASK, MICA_R_MAP), maybe = BIT(MICA_ENOMEM);
    bool task_ok = e == 0, pages_ok = pages >= 1 && pages <= 65536;
    if (rights & ~7ull)
        e |= BIT(MICA_EINVAL);
    if (!pages_ok || rights == 0)
        maybe |= BIT(MICA_EINVAL); /* abi.md does not say what 0 means here */
    if (pages_ok)
        e |= range_err(dst, pages);
    if (!self)
        maybe |= BIT(MICA_EDEAD) | BIT(MICA_EINVAL) | BIT(MICA_EUPGRADE);
    for (uint64_t i = 0; self && pages_ok && !range_err(dst, pages) && i < pages; i++) {
        int r = i < 64 ? page_rights(dst + i * PAGE) : -1;
        if (r < 0)
            maybe |= BIT(MICA_EINVAL) | BIT(MICA_EUPGRADE);
        else if (r == 0)
            e |= BIT(MICA_EINVAL);
        else if (rights & 7 & ~(uint64_t)r)
            e |= BIT(MICA_EUPGRADE);
        if (i >= 64)
            break;
    }
    if (e && task_ok && !self)
        e |= BIT(MICA_EDEAD);
    allow(c, e ? e | maybe : 0, BIT(MICA_OK) | maybe,
          "protect: errors certain from the handle, sizes or init's own pages");
}

/* SYS_PROTECT: in init itself only inside the alias region or with an
 * error certain (lowering the rights of init's code or stack kills it). */
static void gen_protect(struct call *c)
{
    bool self = chance(12);
    c->a[0] = self ? self_task : gen_handle(MICA_OBJ_TASK);
    uint64_t dst = self ? gen_self_dst() : gen_child_dst();
    if (!self && chance(50)) /* where a provisioned child has pages */
        dst = chance(50) ? text_lo + below((text_hi - text_lo) / PAGE) * PAGE
                         : slot_stack(0, 0) + below(MAX_CHILDREN * SLOTS * SLOT_PAGES) * PAGE;
    else if (self && chance(50))
        dst = ALIAS_BASE + 2 * below(3) * PAGE; /* the pages set-up mapped */
    uint64_t pages = chance(60) ? 1 + below(4) : gen_len(), rights = gen_map_rights();
    if (self && rights == 0)
        rights = MR;
    if (self && in_alias(dst, 1) && pages >= 1 && pages <= 65536 && !in_alias(dst, pages))
        pages = 1 + below(ALIAS_PAGES - (dst - ALIAS_BASE) / PAGE);
    c->a[1] = dst;
    c->a[2] = pages;
    c->a[3] = rights;
    expect_protect(c);
    if (self && (c->allowed & BIT(MICA_OK)) && !in_alias(dst, pages)) {
        c->a[1] = gen_hostile_addr();
        expect_protect(c);
    }
}

static void gen_handle_call(struct call *c)
{
    uint64_t h;
    switch (c->nr) {
    case SYS_HANDLE_CLOSE:
        h = free_slots() < 40 && chance(70) ? pick_owned(0) : gen_handle(0);
        c->a[0] = h;
        if (h < NHANDLES && child_of_task(h) >= 0)
            kill_record(child_of_task(h));
        allow(c, present(h) ? 0 : BIT(MICA_EBADH), BIT(MICA_OK), "close: a handle init does not have");
        break;
    case SYS_HANDLE_INFO:
        c->a[0] = h = gen_handle(0);
        allow(c, present(h) ? 0 : BIT(MICA_EBADH), BIT(MICA_OK), "info: a handle init does not have");
        break;
    case SYS_HANDLE_MINT: {
        c->a[0] = h = gen_handle(0);
        uint32_t held = present(h) ? tab[h].rights : MICA_R_ALL;
        c->a[1] = gen_rights(held);
        c->a[2] = gen_badge(present(h) ? tab[h].badge : 0);
        uint32_t e = derive_err(h, c->a[1], c->a[2]);
        if (free_slots() == 0 && !(e & BIT(MICA_EBADH)))
            e |= BIT(MICA_ENOHANDLES);
        allow(c, e, BIT(MICA_OK), "mint: rights only shrink, a badge is set once, the table has 127 slots");
        break;
    }
    default: {
        /* SYS_TASK_GIVE */
        bool self = chance(15);
        c->a[0] = self ? self_task : gen_handle(MICA_OBJ_TASK);
        c->a[1] = h = gen_handle(0);
        if (!self && !lendable(h))
            c->a[1] = h = 0;
        c->a[2] = gen_rights(present(h) ? tab[h].rights : MICA_R_ALL);
        c->a[3] = gen_badge(present(h) ? tab[h].badge : 0);
        uint32_t e = lookup_err(c->a[0], MICA_OBJ_TASK, MICA_R_MAP);
        bool task_ok = e == 0;
        e |= derive_err(h, c->a[2], c->a[3]);
        if (self && free_slots() == 0)
            e |= BIT(MICA_ENOHANDLES);
        if (e && task_ok && !self)
            e |= BIT(MICA_EDEAD);
        allow(c, e, self ? BIT(MICA_OK) : BIT(MICA_OK) | BIT(MICA_EDEAD) | BIT(MICA_ENOHANDLES),
              "give: the task handle, then rights only shrink");
        break;
    }
    }
}

/* The task calls added with the pager work: set_pager, status, watch. */
static void gen_task_call(struct call *c)
{
    bool self = chance(15);
    c->a[0] = self ? self_task : gen_handle(MICA_OBJ_TASK);
    uint32_t e = lookup_err(c->a[0], MICA_OBJ_TASK, c->nr == SYS_TASK_STATUS ? 0 : MICA_R_CONTROL);
    bool task_ok = e == 0;
    if (c->nr == SYS_TASK_STATUS) {
        allow(c, e, BIT(MICA_OK), "task_status: the task handle");
        return;
    }
    unsigned type = c->nr == SYS_TASK_SET_PAGER ? MICA_OBJ_ENDPOINT : MICA_OBJ_NOTIFICATION;
    uint32_t right = c->nr == SYS_TASK_SET_PAGER ? MICA_R_SEND : MICA_R_SIGNAL;
    c->a[1] = c->nr == SYS_TASK_SET_PAGER && chance(20) ? 0 : gen_handle(type);
    c->a[2] = rnd();
    uint32_t e2 = c->nr == SYS_TASK_SET_PAGER && c->a[1] == 0 ? 0 : lookup_err(c->a[1], type, right);
    if (avoid_known && c->nr == SYS_TASK_SET_PAGER && !e2 && (flags_of(c->a[1]) & F_LENT))
        c->a[1] = 0;
    if (self && !e2 && !(c->nr == SYS_TASK_SET_PAGER && c->a[1] == 0)) {
        c->a[1] = 128; /* init gets no pager and no watcher */
        e2 = BIT(MICA_EBADH);
    }
    e |= e2;
    if (e && task_ok && !self)
        e |= BIT(MICA_EDEAD);
    allow(c, e, BIT(MICA_OK) | BIT(MICA_EDEAD),
          "set_pager/watch: the task and endpoint/notification handles");
}

/* Arguments for a number the fuzzer has no rules for (unknown, or added
 * later): handles, small numbers, hostile and scratch pointers only, so
 * that whatever the call does, it cannot hurt init. */
static uint64_t gen_safe_any(void)
{
    switch (below(6)) {
    case 0:
        return gen_handle(0);
    case 1:
        return below(130);
    case 2:
        return gen_hostile_addr();
    case 3:
        return va(scratch) + PAGE + below(PAGE);
    case 4:
        return ~0ull;
    default:
        return rnd() | (1ull << 63);
    }
}

static uint64_t pick_nr(void)
{
    static const uint8_t weighted[] = {
        SYS_SEND,
        SYS_CALL,
        SYS_CALL,
        SYS_RECV,
        SYS_RECV,
        SYS_REPLY_RECV,
        SYS_REPLY,
        SYS_NOTIFY_SIGNAL,
        SYS_NOTIFY_WAIT,
        SYS_ENDPOINT_CREATE,
        SYS_ENDPOINT_CREATE,
        SYS_NOTIFICATION_CREATE,
        SYS_HANDLE_CLOSE,
        SYS_HANDLE_CLOSE,
        SYS_HANDLE_CLOSE,
        SYS_HANDLE_MINT,
        SYS_HANDLE_MINT,
        SYS_HANDLE_INFO,
        SYS_TASK_GIVE,
        SYS_TASK_GIVE,
        SYS_THREAD_CREATE,
        SYS_MAP,
        SYS_MAP,
        SYS_MAP,
        SYS_UNMAP,
        SYS_UNMAP,
        SYS_THREAD_SET_PRIORITY,
        SYS_THREAD_ABORT,
        SYS_TASK_KILL,
        SYS_TASK_SET_PAGER,
        SYS_TASK_STATUS,
        SYS_TASK_WATCH,
        SYS_DEBUG_COUNTS,
        SYS_PROTECT,
        SYS_PROTECT,
    };
    static const uint64_t huge[] = {1ull << 32,
                                    (1ull << 32) + SYS_NULL,
                                    (1ull << 32) + SYS_YIELD,
                                    (1ull << 63) + SYS_TIME,
                                    ~0ull,
                                    0x100,
                                    0xffffffffull};
    unsigned r = (unsigned)below(1000);
    if (r < 5)
        return huge[below(sizeof huge / sizeof huge[0])];
    if (r < 450) {
        uint64_t nr;
        do
            nr = below(NCALLS);
        while (nr == SYS_THREAD_EXIT || nr == SYS_DEBUG_SHUTDOWN);
        return nr;
    }
    return weighted[below(sizeof weighted / sizeof weighted[0])];
}

/* Fill c with a random call and what the model allows of it. */
static void gen_call(struct call *c)
{
    uint64_t nr = pick_nr();
    if (nr == SYS_TASK_CREATE && children_used() >= CHILD_LIMIT)
        nr = SYS_TASK_STATUS;
    if (nr == SYS_THREAD_EXIT || nr == SYS_DEBUG_SHUTDOWN)
        nr = SYS_NULL; /* they would end the fuzzer or the run */
    call_init(c, nr);
    for (int i = 0; i < 6; i++)
        c->a[i] = chance(50) ? below(8) : rnd();
    c->to = gen_timeout();
    uint32_t room = free_slots() ? BIT(MICA_OK) | BIT(MICA_ENOMEM) : BIT(MICA_ENOHANDLES) | BIT(MICA_ENOMEM);
    switch (nr) {
    case SYS_NULL:
    case SYS_YIELD:
    case SYS_TIME:
        allow(c, 0, BIT(MICA_OK), NULL);
        break;
    case SYS_DEBUG_WRITE: {
        uint64_t p = gen_read_ptr(), len = gen_len();
        if (len <= 65536 && range_known(p, 1, MR) == 1) {
            /* Readable: print at most 64 newlines, all from p's page. */
            uint64_t left = PAGE - (p & (PAGE - 1));
            if (len > 64)
                len = below(65);
            if (len > left)
                len = left;
        }
        c->a[0] = p;
        c->a[1] = len;
        int k = range_known(p, len, MR);
        if (len > 65536)
            allow(c, BIT(MICA_EINVAL) | (k == 1 ? 0 : BIT(MICA_EFAULT)), 0, "debug_write: length over 65536");
        else if (len == 0)
            allow(c, 0, BIT(MICA_OK) | BIT(MICA_EFAULT), NULL);
        else
            allow(c, k == 0 ? BIT(MICA_EFAULT) : 0, k == 1 ? BIT(MICA_OK) : BIT(MICA_OK) | BIT(MICA_EFAULT),
                  "debug_write: a range that is not readable user memory");
        break;
    }
    case SYS_SEND:
    case SYS_RECV:
    case SYS_CALL:
    case SYS_REPLY:
    case SYS_REPLY_RECV:
        gen_ipc(c);
        break;
    case SYS_NOTIFY_SIGNAL:
    case SYS_NOTIFY_WAIT: {
        bool sig = nr == SYS_NOTIFY_SIGNAL;
        c->a[0] = gen_handle(MICA_OBJ_NOTIFICATION);
        c->a[1] = chance(20) ? 0 : rnd();
        allow(c, lookup_err(c->a[0], MICA_OBJ_NOTIFICATION, sig ? MICA_R_SIGNAL : MICA_R_WAIT),
              sig ? BIT(MICA_OK) : BIT(MICA_OK) | BIT(MICA_ETIMEOUT), "notify: the handle");
        break;
    }
    case SYS_SLEEP:
        c->a[0] = chance(50) ? below(3) : below(WAIT_MAX_US + 1);
        allow(c, 0, BIT(MICA_OK), NULL);
        break;
    case SYS_ENDPOINT_CREATE:
    case SYS_NOTIFICATION_CREATE:
    case SYS_TASK_CREATE:
        /* RDI: the child's kernel-memory quota (0: the default; below the
         * minimum: EINVAL, checked first; more than init has: ENOMEM). */
        if (nr == SYS_TASK_CREATE && c->a[0] != 0 && c->a[0] < MICA_KMEM_TASK_MIN)
            allow(c, BIT(MICA_EINVAL), 0, "task_create: a quota below the minimum");
        else
            allow(c, room & ~BIT(MICA_OK) & ~BIT(MICA_ENOMEM), room, "create: init's table is full");
        break;
    case SYS_KMEM_SET: {
        c->a[0] = gen_handle(MICA_OBJ_TASK);
        c->a[1] = chance(50) ? below(300) : rnd();
        uint32_t e = lookup_err(c->a[0], MICA_OBJ_TASK, MICA_R_CONTROL);
        /* init created every task it holds: it may move their pages. */
        if (e == 0 && c->a[1] < MICA_KMEM_TASK_MIN)
            e = BIT(MICA_EINVAL) | BIT(MICA_EDEAD);
        allow(c, e, BIT(MICA_OK) | BIT(MICA_EDEAD) | BIT(MICA_EBUSY) | BIT(MICA_ENOMEM),
              "kmem_set: the handle, or a limit below the minimum");
        break;
    }
    case SYS_KMEM_INFO:
        c->a[0] = chance(10) ? 0 : gen_handle(MICA_OBJ_TASK);
        allow(c, c->a[0] ? lookup_err(c->a[0], MICA_OBJ_TASK, 0) : 0, BIT(MICA_OK),
              "kmem_info: the handle (0: the caller)");
        break;
    case SYS_HANDLE_CLOSE:
    case SYS_HANDLE_MINT:
    case SYS_HANDLE_INFO:
    case SYS_TASK_GIVE:
        gen_handle_call(c);
        break;
    case SYS_TASK_KILL:
    case SYS_THREAD_ABORT: {
        bool kill = nr == SYS_TASK_KILL;
        c->a[0] = gen_handle(kill ? MICA_OBJ_TASK : MICA_OBJ_THREAD);
        allow(c, lookup_err(c->a[0], kill ? MICA_OBJ_TASK : MICA_OBJ_THREAD, MICA_R_CONTROL),
              BIT(MICA_OK) | BIT(MICA_EDEAD), "kill/abort: the handle");
        break;
    }
    case SYS_THREAD_CREATE:
        gen_thread_create(c, chance(10));
        break;
    case SYS_MAP:
    case SYS_UNMAP:
        gen_map_call(c);
        break;
    case SYS_DEBUG_COUNTS: {
        uint64_t p = gen_write_ptr();
        c->a[0] = p;
        int k = range_known(p, sizeof(struct mica_obj_counts), MW);
        allow(c, p != 0 && k == 0 ? BIT(MICA_EFAULT) : 0, BIT(MICA_OK),
              "debug_counts: not writable user memory");
        break;
    }
    case SYS_FASTPATH_SET:
        allow(c, 0, BIT(MICA_OK), NULL);
        break;
    case SYS_THREAD_SET_PRIORITY: {
        bool self = chance(5);
        c->a[0] = self ? self_thread : gen_handle(MICA_OBJ_THREAD);
        c->a[1] = gen_prio();
        if (self && c->a[1] < my_prio)
            c->a[1] = my_prio; /* never lower itself: it could not come back */
        uint32_t e = lookup_err(c->a[0], MICA_OBJ_THREAD, MICA_R_CONTROL);
        bool ok = e == 0;
        if (c->a[1] > MICA_PRIO_MAX)
            e |= BIT(MICA_EINVAL);
        else if (c->a[1] > my_prio)
            e |= BIT(MICA_EUPGRADE);
        if (e && ok && !self)
            e |= BIT(MICA_EDEAD);
        allow(c, e, self ? BIT(MICA_OK) : BIT(MICA_OK) | BIT(MICA_EDEAD),
              "set_priority: 0..63, not above the caller");
        break;
    }
    case SYS_TASK_SET_PAGER:
    case SYS_TASK_STATUS:
    case SYS_TASK_WATCH:
        gen_task_call(c);
        break;
    case SYS_PROTECT:
        gen_protect(c);
        break;
    default:
        for (int i = 0; i < 6; i++)
            c->a[i] = gen_safe_any();
        if (nr >= SYS_COUNT)
            allow(c, BIT(MICA_ENOSYS), 0, "no such call number");
        break;
    }
}

/* Checks on the results of c beyond its status. */
static void check_results(const struct call *c)
{
    if (c->st != MICA_OK)
        return;
    if (c->nr == SYS_HANDLE_INFO && present(c->a[0])) {
        const struct hslot *s = &tab[c->a[0]];
        check(c, c->r[0] == s->type && c->r[1] == s->rights && c->r[2] == s->badge,
              "handle_info differs from the model (type, rights, badge)");
    } else if (c->nr == SYS_TIME) {
        check(c, c->r[0] >= last_time, "time went backwards");
        last_time = c->r[0];
    } else if (c->nr == SYS_KMEM_INFO || c->nr == SYS_KMEM_SET) {
        check(c, c->r[0] <= c->r[1] && c->r[2] <= c->r[0], "kmem: used above the limit, or given above used");
    } else if (c->nr == SYS_TASK_STATUS) {
        /* enum mica_task_state grows (an exited state is being added):
         * only a value no enum could hold is wrong. */
        check(c, c->r[0] < 16, "task_status: state is not a small enum value");
    }
}

static void raw_call(void)
{
    struct call c;
    gen_call(&c);
    run(&c);
    check_results(&c);
}

/* ---- child tasks ---------------------------------------------------------------- */

/* What a worker in a child does (arg bits 0..3). */
enum {
    W_EXIT,
    W_ECHO,
    W_CALLER,
    W_SENDER,
    W_NOTIFY,
    W_SLEEP,
    W_YIELD,
    W_RAWSYS,
    W_RECV_EXIT,
    W_FAULT_W,
    W_FAULT_R,
    W_FAULT_X,
    W_TRAP,
    W_COMPAT, /* a call from a 32-bit code segment: stopped */
    W_TF,     /* a SYSCALL with TF set: stopped by its #DB in ring 3 */
    W_FPU,    /* dirty x87/SSE registers, then random calls */
    W_KINDS
};

/* A child's own random system calls (its handles only; nothing it can
 * reach belongs to init).  Runs in the child: no global is written.  Bit
 * 31 of the seed: create no task (fuzzavoid=known). */
static void worker_rawsys(uint64_t seed, unsigned n, mica_handle_t h)
{
    bool no_tasks = seed & (1u << 31);
    uint64_t s = seed | 1;
    for (unsigned i = 0; i < n; i++) {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        uint64_t x = s * 0x2545f4914f6cdd1dull, r0;
        uint64_t nr = x % NCALLS, a0 = (x >> 20) & 1 ? h : (x >> 24) % 130;
        if (nr == SYS_DEBUG_WRITE || nr == SYS_DEBUG_COUNTS)
            a0 |= 1ull << 63; /* nothing on the log */
        if (nr == SYS_SLEEP)
            a0 %= WAIT_MAX_US;
        if (nr == SYS_TASK_CREATE && no_tasks)
            nr = SYS_NULL;
        struct mica_msg m = {.info = (x >> 8) & 0x3ff0000ull, .mr = {x >> 3, x >> 5, x % 7, x >> 40}};
        mica_syscall_exchange(nr, a0, &m, x % WAIT_MAX_US, &r0);
    }
}

/* A worker's waits have no bound: a worker is a partner that is there
 * whenever init runs (it runs only while init waits); its task is killed
 * in the end. */
#define WORKER_WAIT MICA_TIMEOUT_INFINITE

/* Serve calls on h: echo each message back with its label + 1. */
static void worker_echo(unsigned n, mica_handle_t h)
{
    struct mica_msg m = {0};
    uint64_t badge;
    int st = mica_recv(h, &m, &badge, WORKER_WAIT);
    for (unsigned i = 0; i < n; i++) {
        if (st == MICA_OK) {
            m.info = MICA_INFO(mica_msg_label(&m) + 1, mica_msg_words(&m) % (MICA_MSG_MAX_WORDS + 1), 0);
            m.mr[0]++;
            st = mica_reply_recv(h, &m, &badge, WORKER_WAIT);
        } else if (st == MICA_ETIMEOUT || st == MICA_EFAULT || st == MICA_ENOHANDLES || st == MICA_EABORTED) {
            st = mica_recv(h, &m, &badge, WORKER_WAIT);
        } else {
            return;
        }
    }
}

/* Run in a child task, which has init's code but none of its data: it
 * touches no global and no constant data (no jump table either, hence the
 * attribute: the switch would read one from .rodata). */
__attribute__((optimize("no-jump-tables"))) static void fz_worker(uint64_t arg, struct mica_ipc_buffer *buf)
{
    unsigned kind = arg & 15, n = ((arg >> 4) & 0xff) + 1;
    mica_handle_t h = (mica_handle_t)((arg >> 12) & 0xfffff);
    uint64_t seed = arg >> 32;
    struct mica_msg m;
    uint32_t held = 0;
    switch (kind) {
    case W_ECHO:
        worker_echo(n, h);
        break;
    case W_CALLER:
    case W_SENDER:
        mica_handle_info(h, NULL, &held, NULL);
        for (unsigned i = 0; i < n; i++) {
            mica_msg_init(&m, (uint16_t)(seed + i));
            m.mr[0] = i;
            if (kind == W_SENDER && mica_buf_add_handle(buf, &m, h, (uint32_t)seed & held) != MICA_OK)
                break;
            int st = kind == W_CALLER ? mica_call(h, &m, i % 4 ? WORKER_WAIT : MICA_TIMEOUT_POLL)
                                      : mica_send(h, &m, WORKER_WAIT);
            if (st != MICA_OK && st != MICA_ETIMEOUT && st != MICA_ENOREPLY && st != MICA_EABORTED)
                break;
        }
        break;
    case W_NOTIFY:
        for (unsigned i = 0; i < n; i++) {
            uint64_t bits;
            int st = i % 2 ? mica_notify_signal(h, seed | 1) : mica_notify_wait(h, &bits, WORKER_WAIT);
            if (st != MICA_OK && st != MICA_ETIMEOUT && st != MICA_EABORTED)
                break;
        }
        break;
    case W_SLEEP:
        for (unsigned i = 0; i < n; i++)
            mica_sleep_us(seed % WAIT_MAX_US);
        break;
    case W_YIELD:
        for (unsigned i = 0; i < n; i++)
            mica_yield();
        break;
    case W_RAWSYS:
        worker_rawsys(seed, n, h);
        break;
    case W_RECV_EXIT: /* take one message and end without answering it */
        mica_recv(h, &m, NULL, WORKER_WAIT);
        break;
    case W_FAULT_W:
        *(volatile uint64_t *)(uintptr_t)(NEVER_MAPPED + (seed & 0xfffff000ull)) = arg;
        break;
    case W_FAULT_R:
        (void)*(volatile uint64_t *)(uintptr_t)(NEVER_MAPPED + (seed & 0xfffff000ull));
        break;
    case W_FAULT_X:
        ((void (*)(void))(uintptr_t)(NEVER_MAPPED + (seed & 0xfffff000ull)))();
        break;
    case W_TRAP:
        __builtin_trap();
        break;
    case W_COMPAT:
        to_compat(seed % 3 == 0   ? va(compat_syscall)
                  : seed % 3 == 1 ? va(compat_sysenter)
                                  : va(compat_int80),
                  buf);
        break;
    case W_TF:
        syscall_with_tf(seed, buf);
        break;
    case W_FPU:
        /* Registers full of this worker's values while init's canaries
         * are live in its own: a switch that mixed them shows in init. */
        __asm__ volatile("movq %0, %%xmm0\n\tmovq %0, %%xmm7\n\tmovq %0, %%xmm15\n\t"
                         "pushq %0\n\tfildq (%%rsp)\n\tfildq (%%rsp)\n\tpopq %0"
                         : "+r"(seed)
                         :
                         : "memory");
        worker_rawsys(seed, n, h);
        break;
    default:
        break;
    }
}

/* Map init's code (shared, like spawn_remote does) and the child's thread
 * slots into child ci.  No child gets init's read-only data or data: the
 * workers need neither, and a thread that ends up somewhere in init's code
 * (a wild one, or one whose stack was unmapped and replaced) then finds no
 * string of init to print. */
static void provision(int ci)
{
    uint64_t slots = slot_stack(ci, 0);
    const struct maparg parts[] = {
        {.src = text_lo,
         .dst = text_lo,
         .pages = (text_hi - text_lo) / PAGE,
         .rights = MR | MX,
         .cls = SRC_TEXT},
        {.src = slots, .dst = slots, .pages = SLOTS * SLOT_PAGES, .rights = MR | MW, .cls = SRC_CLASSES},
        /* The page whose last bytes make a call at the top of the user half. */
        {.src = va(hostile_top_page), .dst = utop - PAGE, .pages = 1, .rights = MR | MX, .cls = SRC_TEXT},
    };
    for (unsigned i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        struct call c;
        call_init(&c, SYS_MAP);
        c.a[0] = kids[ci].task;
        c.a[1] = parts[i].src;
        c.a[2] = parts[i].dst;
        c.a[3] = parts[i].pages;
        c.a[4] = parts[i].rights;
        expect_map(&c, &parts[i]);
        run(&c);
    }
    kids[ci].provisioned = true;
}

static void op_child_new(void)
{
    if (children_used() >= CHILD_LIMIT)
        return;
    struct call c;
    call_init(&c, SYS_TASK_CREATE);
    uint32_t room = free_slots() ? BIT(MICA_OK) | BIT(MICA_ENOMEM) : BIT(MICA_ENOHANDLES) | BIT(MICA_ENOMEM);
    allow(&c, 0, room, NULL);
    run(&c);
    int ci = c.st == MICA_OK ? child_of_task(c.r[0]) : -1;
    if (ci >= 0) {
        unsigned r = (unsigned)below(100);
        kids[ci].role = r < 60 ? ROLE_STABLE : r < 88 ? ROLE_CRASHY : ROLE_WILD;
    }
    if (ci >= 0 && (kids[ci].role != ROLE_CRASHY || chance(85)))
        provision(ci);
}

/* Kill a child and close its handle: a dead one first (its record is
 * taken), else any. */
static void op_child_kill(void)
{
    int ci = (int)below(MAX_CHILDREN);
    for (int i = 0; i < MAX_CHILDREN && !(kids[ci].used && kids[ci].dead); i++)
        ci = (ci + 1) % MAX_CHILDREN;
    for (int i = 0; i < MAX_CHILDREN && !kids[ci].used; i++)
        ci = (ci + 1) % MAX_CHILDREN;
    if (!kids[ci].used)
        return;
    mica_handle_t t = kids[ci].task;
    kill_record(ci);
    struct call c;
    call_init(&c, SYS_HANDLE_CLOSE);
    c.a[0] = t;
    allow(&c, 0, BIT(MICA_OK), NULL);
    run(&c);
}

/* A free thread slot of child ci, or -1.  A busy slot whose thread init
 * still names is free once that thread is dead (abort says EDEAD). */
static int free_slot(int ci)
{
    for (int si = 0; si < SLOTS; si++) {
        struct tslot *s = &kids[ci].slot[si];
        if (!s->busy)
            return si;
        if (s->obj && present(s->th) && tab[s->th].obj == s->obj) {
            struct call c;
            call_init(&c, SYS_THREAD_ABORT);
            c.a[0] = s->th;
            allow(&c, 0, BIT(MICA_OK) | BIT(MICA_EDEAD), NULL);
            run(&c);
            if (c.st == MICA_EDEAD) {
                *s = (struct tslot){0};
                return si;
            }
        }
    }
    return -1;
}

/* A live child record, or -1. */
static int pick_child(void)
{
    int ci = (int)below(MAX_CHILDREN);
    for (int i = 0; i < MAX_CHILDREN && (!kids[ci].used || kids[ci].dead); i++)
        ci = (ci + 1) % MAX_CHILDREN;
    return kids[ci].used && !kids[ci].dead ? ci : -1;
}

/* Start a thread in child ci: a worker with a handle given to it (of
 * kind `force` when that is not negative), or one that faults at once, or
 * one at a random code address. */
static void spawn_in(int ci, int force)
{
    if (!kids[ci].provisioned && chance(70))
        provision(ci);
    int si = free_slot(ci);
    if (si < 0)
        return;
    /* Give the child a handle to work with. */
    struct call g;
    call_init(&g, SYS_TASK_GIVE);
    uint64_t h = pick_owned(chance(70) ? MICA_OBJ_ENDPOINT : chance(50) ? MICA_OBJ_NOTIFICATION : 0);
    if (!lendable(h))
        h = 0;
    g.a[0] = kids[ci].task;
    g.a[1] = h;
    g.a[2] = present(h) && chance(80) ? tab[h].rights : gen_rights(present(h) ? tab[h].rights : 0);
    g.a[3] = present(h) ? tab[h].badge : 0;
    uint32_t e = derive_err(h, g.a[2], g.a[3]);
    allow(&g, e ? e | BIT(MICA_EDEAD) : 0, BIT(MICA_OK) | BIT(MICA_EDEAD) | BIT(MICA_ENOHANDLES),
          "give: rights only shrink");
    run(&g);
    uint64_t remote = g.st == MICA_OK ? g.r[0] : below(130);
    if (g.st == MICA_OK && tab[h].obj != 0)
        hot[hot_pos++ % 8] = tab[h].obj;
    if (g.st == MICA_EDEAD)
        kids[ci].dead = true;

    struct call c;
    call_init(&c, SYS_THREAD_CREATE);
    static const uint8_t calm[] = {W_ECHO,   W_ECHO,  W_ECHO,  W_CALLER, W_CALLER, W_SENDER,
                                   W_NOTIFY, W_SLEEP, W_YIELD, W_RAWSYS, W_EXIT,   W_RECV_EXIT};
    bool stable = kids[ci].role == ROLE_STABLE;
    unsigned kind = force >= 0 ? (unsigned)force
                    : stable   ? calm[below(sizeof calm)]
                               : (unsigned)below(W_KINDS);
    c.a[0] = kids[ci].task;
    c.a[1] = va(fz_worker);
    c.a[2] = slot_stack_top(ci, si);
    c.a[3] = kind | below(256) << 4 | (remote & 0xfffff) << 12 | rnd() << 32;
    if (avoid_known)
        c.a[3] |= 1ull << 63; /* the worker's seed bit 31: no tasks */
    c.a[4] = (uint64_t)(int64_t)(int)(chance(85) ? below(my_prio + 1) : gen_prio());
    c.a[5] = slot_buf(ci, si);
    unsigned r = force >= 0 || stable ? 0 : (unsigned)below(100);
    if (r < 65) {
        c.spawn_ci = ci;
        c.spawn_si = si;
    } else if (r < 80) {
        c.a[1] = NEVER_MAPPED + below(1ull << 30); /* faults at its first instruction */
    } else if (r < 92 && kids[ci].role == ROLE_WILD) {
        c.a[1] = text_lo + below(text_hi - text_lo); /* anywhere in init's code */
        c.a[2] -= 8 * below(64);
    } else if (r < 92) {
        c.a[1] = NEVER_MAPPED + below(1ull << 30);
    } else if (r < 96 || !kids[ci].provisioned) {
        c.a[1] = chance(50) ? 0 : utop - 2;
    } else {
        /* A call from the last two bytes of the user half: any number
         * (the fastpath's two most often) with the handle it was given.
         * It must be stopped before it does anything. */
        uint64_t *sp = (uint64_t *)(uintptr_t)(c.a[2] - 16);
        sp[0] = chance(40) ? SYS_CALL : chance(30) ? SYS_REPLY_RECV : below(NCALLS);
        sp[1] = remote;
        c.a[1] = utop - 4;
        c.a[2] -= 16;
    }
    uint32_t ce = lookup_err(c.a[0], MICA_OBJ_TASK, MICA_R_CONTROL);
    if (c.a[4] > MICA_PRIO_MAX)
        ce |= BIT(MICA_EINVAL);
    else if (c.a[4] > my_prio)
        ce |= BIT(MICA_EUPGRADE);
    if (free_slots() == 0)
        ce |= BIT(MICA_ENOHANDLES);
    allow(&c, ce ? ce | BIT(MICA_EDEAD) : 0, BIT(MICA_OK) | BIT(MICA_EDEAD) | BIT(MICA_ENOMEM),
          "thread_create in a child: priority or table");
    run(&c);
    if (c.st == MICA_OK && chance(60)) {
        struct call z; /* let it run up to its first wait */
        call_init(&z, SYS_SLEEP);
        z.a[0] = 1 + below(WAIT_MAX_US);
        allow(&z, 0, BIT(MICA_OK), NULL);
        run(&z);
    }
    if (c.st == MICA_OK) {
        kids[ci].slot[si] = (struct tslot){.busy = true, .th = (mica_handle_t)c.r[0], .obj = next_obj};
    } else if (c.st == MICA_EDEAD) {
        kids[ci].dead = true;
    }
}

/* IPC with the workers: a plain message (maybe with long words and
 * handles init may pass) on an endpoint a worker shares, waiting a little. */
static void op_ipc(void)
{
    static const uint8_t nrs[] = {SYS_CALL, SYS_CALL, SYS_SEND, SYS_RECV, SYS_RECV, SYS_REPLY_RECV};
    uint64_t ep = pick_hot(MICA_OBJ_ENDPOINT);
    if (ep == 0)
        return;
    struct call c;
    call_init(&c, nrs[below(sizeof nrs)]);
    c.a[0] = ep;
    uint64_t nh = chance(30) ? 1 + below(2) : 0;
    c.a[1] = below(0x1000) | below(MICA_MSG_MAX_WORDS + 1) << 16 | nh << 24;
    for (int i = 0; i < 4; i++)
        c.a[2 + i] = rnd();
    for (int i = 0; i < MICA_MSG_MAX_HANDLES; i++) {
        uint64_t h = pick_owned(0);
        if (!lendable(h))
            h = 0;
        mica_ipcbuf->send_handles[i] = (uint32_t)h;
        mica_ipcbuf->send_rights[i] = present(h) ? tab[h].rights & (uint32_t)rnd() : 0;
    }
    c.to = chance(30) ? MICA_TIMEOUT_POLL : 1 + below(WAIT_MAX_US);
    expect_ipc(&c);
    run(&c);
}

static void op_spawn(void)
{
    int ci = pick_child();
    if (ci >= 0) {
        spawn_in(ci, -1);
        return;
    }
    if (children_used() >= CHILD_LIMIT)
        op_child_kill();
    op_child_new();
}

/* Answer the fault that call rc received (as the pager): map something
 * over the faulting page (under the map rules: it comes from init), or
 * map it wrong, or kill, or a label the kernel does not know. */
static void reply_fault(const struct call *rc)
{
    struct call c;
    call_init(&c, SYS_REPLY);
    uint64_t page = rc->r[2] & ~(PAGE - 1);
    struct maparg m;
    gen_map(false, &m);
    unsigned r = (unsigned)below(100);
    uint64_t label = r < 55   ? MICA_FAULT_MAP
                     : r < 75 ? MICA_FAULT_KILL
                     : r < 90 ? MICA_FAULT_MAP
                              : below(0x10000);
    if (r < 55) {
        uint64_t back = below(2);
        if (chance(60)) {
            m.cls = chance(50) ? SRC_SCRATCH : SRC_BIG;
            m.src = gen_src(m.cls, &m.limit);
        }
        m.dst = page - back * PAGE;
        m.pages = back + 1 + below(2);
        if (chance(70))
            m.rights = chance(50) ? MR | MW : MR;
        map_fix(&m);
    }
    m.rights &= ~(uint64_t)MX; /* a faulting thread never runs what init lends it */
    c.a[1] = label;
    c.a[2] = m.src;
    c.a[3] = m.dst;
    c.a[4] = m.pages;
    c.a[5] = m.rights;
    if (label == MICA_FAULT_KILL)
        allow(&c, 0, BIT(MICA_OK) | BIT(MICA_EDEAD), NULL);
    else
        allow(&c, 0, ALL_ST & ~BIT(MICA_ENOSYS), NULL);
    c.why = "a pager's KILL answer to a fault it holds";
    run(&c);
}

/* The pager protocol: make one of init's endpoints a child's pager, start
 * a thread there that faults, receive the fault and answer it. */
static void op_pager(void)
{
    int ci = pick_child();
    if (ci < 0)
        return;
    uint64_t ep = avoid_known ? 0 : pick_hot(MICA_OBJ_ENDPOINT);
    if (!avoid_known &&
        (!present(ep) || (tab[ep].rights & (MICA_R_SEND | MICA_R_RECV)) != (MICA_R_SEND | MICA_R_RECV)))
        ep = pick_owned(MICA_OBJ_ENDPOINT);
    if (!present(ep) || (tab[ep].rights & (MICA_R_SEND | MICA_R_RECV)) != (MICA_R_SEND | MICA_R_RECV)) {
        struct call e;
        call_init(&e, SYS_ENDPOINT_CREATE);
        allow(&e, 0, ALL_ST, NULL);
        run(&e);
        if (e.st != MICA_OK)
            return;
        ep = e.r[0];
    }
    struct call c;
    call_init(&c, SYS_TASK_SET_PAGER);
    c.a[0] = kids[ci].task;
    c.a[1] = ep;
    allow(&c, 0, BIT(MICA_OK) | BIT(MICA_EDEAD), NULL);
    run(&c);
    if (tab[ep].obj && !avoid_known)
        hot[hot_pos++ % 8] = tab[ep].obj;
    if (!kids[ci].provisioned)
        provision(ci);
    static const int faulty[] = {W_FAULT_W, W_FAULT_R, W_FAULT_X, W_FAULT_W};
    spawn_in(ci, faulty[below(4)]);
    for (int i = 0; i < 3; i++) {
        struct call rc;
        call_init(&rc, SYS_RECV);
        rc.a[0] = ep;
        rc.to = WAIT_MAX_US;
        allow(&rc, 0, BIT(MICA_OK) | BIT(MICA_ETIMEOUT) | BIT(MICA_EFAULT) | BIT(MICA_ENOHANDLES), NULL);
        run(&rc);
        if (rc.st != MICA_OK || MICA_INFO_LABEL(rc.r[1]) != MICA_LABEL_FAULT)
            break;
        reply_fault(&rc);
    }
}

/* ---- the watchdog ------------------------------------------------------------------- */

/* A thread of init above the fuzzer: if one call of the main thread has
 * been waiting for WD_LIMIT_US, abort it (the call then returns
 * MICA_EABORTED and the fuzzer judges it). */
static void fz_watchdog(uint64_t main_thread, struct mica_ipc_buffer *buf)
{
    (void)buf;
    uint64_t last = ~0ull, since = mica_time_us();
    while (!wd_stop) {
        mica_sleep_us(WD_PERIOD_US);
        uint64_t now = mica_time_us(), seq = wd_seq;
        if (!wd_inflight || seq != last) {
            last = seq;
            since = now;
            continue;
        }
        if (now - since >= WD_LIMIT_US) {
            wd_aborted_seq = seq;
            wd_aborts++;
            mica_thread_abort((mica_handle_t)main_thread);
            since = now;
        }
    }
}

/* ---- spot checks ------------------------------------------------------------------ */

/* Issue nr(a0..a5) requiring a status in `allowed`; returns the call. */
static struct call spot(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                        uint32_t allowed, const char *why)
{
    struct call c;
    call_init(&c, nr);
    c.a[0] = a0;
    c.a[1] = a1;
    c.a[2] = a2;
    c.a[3] = a3;
    c.a[4] = a4;
    c.allowed = allowed;
    c.why = why;
    for (int i = 0; i < MICA_MSG_MAX_HANDLES; i++)
        mica_ipcbuf->send_handles[i] = 0;
    run(&c);
    check_results(&c);
    return c;
}

/* Close handles of the run until `n` slots are free. */
static void make_room(unsigned n)
{
    while (free_slots() < n && pick_owned(0)) {
        uint64_t h = pick_owned(0);
        if (child_of_task(h) >= 0)
            kill_record(child_of_task(h));
        spot(SYS_HANDLE_CLOSE, h, 0, 0, 0, 0, BIT(MICA_OK), "closing a handle of the run");
    }
}

/* Semantics that cannot be otherwise, checked before and after the run. */
static void spot_checks(void)
{
    make_room(16);
    uint64_t never = 0;
    for (unsigned h = NHANDLES - 1; h > 0 && never == 0; h--)
        if (tab[h].state == S_FREE)
            never = h;
    if (never) {
        spot(SYS_HANDLE_INFO, never, 0, 0, 0, 0, BIT(MICA_EBADH), "a handle number never returned is EBADH");
        spot(SYS_HANDLE_CLOSE, never, 0, 0, 0, 0, BIT(MICA_EBADH),
             "closing a number never returned is EBADH");
        spot(SYS_SEND, never, 0, 0, 0, 0, BIT(MICA_EBADH), "sending on a number never returned is EBADH");
    }
    spot(SYS_HANDLE_INFO, 0, 0, 0, 0, 0, BIT(MICA_EBADH), "handle 0 is EBADH");
    spot(SYS_HANDLE_INFO, 128, 0, 0, 0, 0, BIT(MICA_EBADH), "handle 128 is EBADH");
    spot(SYS_HANDLE_CLOSE, 1ull << 63, 0, 0, 0, 0, BIT(MICA_EBADH), "handle 2^63 is EBADH");

    struct call ep = spot(SYS_ENDPOINT_CREATE, 0, 0, 0, 0, 0, BIT(MICA_OK), "endpoint_create");
    if (ep.st == MICA_OK) {
        uint64_t e = ep.r[0];
        struct call s = spot(SYS_HANDLE_MINT, e, MICA_R_SEND | MICA_R_TRANSFER, 0, 0, 0, BIT(MICA_OK),
                             "mint a send copy");
        struct call nt =
            spot(SYS_HANDLE_MINT, e, MICA_R_SEND, 0, 0, 0, BIT(MICA_OK), "mint without transfer");
        if (s.st == MICA_OK) {
            spot(SYS_HANDLE_MINT, s.r[0], MICA_R_SEND | MICA_R_RECV, 0, 0, 0, BIT(MICA_EUPGRADE),
                 "minting more rights than held is EUPGRADE");
            spot(SYS_HANDLE_MINT, s.r[0], MICA_R_SEND | 0x80, 0, 0, 0, BIT(MICA_EINVAL),
                 "unknown rights bits are EINVAL");
            spot(SYS_HANDLE_MINT, s.r[0], MICA_R_SEND | (1ull << 32), 0, 0, 0, BIT(MICA_EINVAL),
                 "rights bit 32 is EINVAL (no truncation)");
            struct call b = spot(SYS_HANDLE_MINT, s.r[0], MICA_R_SEND | MICA_R_TRANSFER, 7, 0, 0,
                                 BIT(MICA_OK), "set a badge");
            if (b.st == MICA_OK) {
                spot(SYS_HANDLE_MINT, b.r[0], MICA_R_SEND, 8, 0, 0, BIT(MICA_EINVAL), "a badge is set once");
                spot(SYS_HANDLE_INFO, b.r[0], 0, 0, 0, 0, BIT(MICA_OK), "badge kept");
                spot(SYS_HANDLE_CLOSE, b.r[0], 0, 0, 0, 0, BIT(MICA_OK), "close");
            }
            spot(SYS_HANDLE_CLOSE, s.r[0], 0, 0, 0, 0, BIT(MICA_OK), "close");
        }
        if (nt.st == MICA_OK) {
            spot(SYS_HANDLE_MINT, nt.r[0], MICA_R_SEND, 0, 0, 0, BIT(MICA_ERIGHTS),
                 "minting needs MICA_R_TRANSFER");
            spot(SYS_HANDLE_CLOSE, nt.r[0], 0, 0, 0, 0, BIT(MICA_OK), "close");
        }
        spot(SYS_NOTIFY_SIGNAL, e, 1, 0, 0, 0, BIT(MICA_ETYPE), "signalling an endpoint is ETYPE");
        spot(SYS_TASK_KILL, e, 0, 0, 0, 0, BIT(MICA_ETYPE), "killing an endpoint is ETYPE");
        spot(SYS_HANDLE_CLOSE, e, 0, 0, 0, 0, BIT(MICA_OK), "close");
        spot(SYS_HANDLE_CLOSE, e, 0, 0, 0, 0, BIT(MICA_EBADH), "closing twice is EBADH");
        spot(SYS_HANDLE_INFO, e, 0, 0, 0, 0, BIT(MICA_EBADH), "a closed handle is EBADH");
        spot(SYS_RECV, e, 0, 0, 0, 0, BIT(MICA_EBADH), "receiving on a closed handle is EBADH");
    }
    for (uint64_t nr = SYS_COUNT; nr < NCALLS; nr++)
        spot(nr, 0, 0, 0, 0, 0, BIT(MICA_ENOSYS), "unknown call numbers are ENOSYS");
    spot((1ull << 32) + SYS_NULL, 0, 0, 0, 0, 0, BIT(MICA_ENOSYS),
         "call number 2^32 is ENOSYS (no truncation)");

    struct call t = spot(SYS_TASK_CREATE, 0, 0, 0, 0, 0, BIT(MICA_OK), "task_create");
    if (t.st == MICA_OK) {
        uint64_t task = t.r[0], src = va(scratch) + PAGE;
        spot(SYS_MAP, task, src, 0xffff800000000000ull, 1, MR, BIT(MICA_EKERNEL),
             "map into the kernel half is EKERNEL");
        spot(SYS_MAP, task, src, utop, 1, MR, BIT(MICA_ENONCANON), "map at user_top is ENONCANON");
        spot(SYS_MAP, task, NEVER_MAPPED, 0x200000, 1, MR, BIT(MICA_ENOTOWNER),
             "map of a page init never mapped");
        spot(SYS_MAP, task, text_lo, 0x200000, 1, MR | MW, BIT(MICA_EUPGRADE),
             "map of code with write is EUPGRADE");
        spot(SYS_MAP, task, src, 0x200000, 1, MR | MW, BIT(MICA_OK), "map");
        spot(SYS_MAP, task, src, 0x200000, 1, MR, BIT(MICA_EEXISTS), "map over a mapping is EEXISTS");
        spot(SYS_UNMAP, task, 0x200000, 1, 0, 0, BIT(MICA_OK), "unmap");
        spot(SYS_TASK_STATUS, task, 0, 0, 0, 0, BIT(MICA_OK), "status of a live task");
        spot(SYS_TASK_KILL, task, 0, 0, 0, 0, BIT(MICA_OK), "kill a live task");
        spot(SYS_TASK_KILL, task, 0, 0, 0, 0, BIT(MICA_EDEAD), "killing twice is EDEAD");
        spot(SYS_HANDLE_CLOSE, task, 0, 0, 0, 0, BIT(MICA_OK), "close");
    }
}

/* The same objects, and the same pool pages, page for page, but for the
 * page tables init's own space gained (its alias region, its heap); init's
 * quota is charged for exactly those. */
static bool counts_equal(const struct mica_obj_counts *a, const struct mica_obj_counts *b)
{
    for (int i = 0; i < MICA_TAG_COUNT; i++)
        if (i != MICA_TAG_PAGE_TABLE && a->live[i] != b->live[i])
            return false;
    uint64_t new_tables = b->live[MICA_TAG_PAGE_TABLE] - a->live[MICA_TAG_PAGE_TABLE];
    return b->live[MICA_TAG_PAGE_TABLE] >= a->live[MICA_TAG_PAGE_TABLE] &&
           b->pool_pages_free + new_tables == a->pool_pages_free && b->kmem_used == a->kmem_used + new_tables;
}

static void print_counts(const char *what, const struct mica_obj_counts *c)
{
    mica_printf(
        "# sysfuzz: %s: tasks %llu threads %llu endpoints %llu notifications %llu handle tables %llu "
        "page tables %llu kernel stacks %llu; pool pages free %llu of %llu; init's kernel memory %llu of "
        "%llu\n",
        what, (unsigned long long)c->live[MICA_TAG_TASK], (unsigned long long)c->live[MICA_TAG_THREAD],
        (unsigned long long)c->live[MICA_TAG_ENDPOINT], (unsigned long long)c->live[MICA_TAG_NOTIFICATION],
        (unsigned long long)c->live[MICA_TAG_HANDLE_TABLE], (unsigned long long)c->live[MICA_TAG_PAGE_TABLE],
        (unsigned long long)c->live[MICA_TAG_KSTACK], (unsigned long long)c->pool_pages_free,
        (unsigned long long)c->pool_pages_total, (unsigned long long)c->kmem_used,
        (unsigned long long)c->kmem_limit);
}

/* fuzzrepro=1: the shortest sequence found for a kernel panic.  A child
 * has init's endpoint as its pager and two threads that fault; init takes
 * the first fault and, without answering it, the second.  The kernel stops
 * the child for the unanswered fault (killing the second thread too) but
 * still makes init owe the second thread a reply; answering it panics. */
static void repro_pager_two_faults(void)
{
    struct call e = spot(SYS_ENDPOINT_CREATE, 0, 0, 0, 0, 0, BIT(MICA_OK), "endpoint_create");
    struct call t = spot(SYS_TASK_CREATE, 0, 0, 0, 0, 0, BIT(MICA_OK), "task_create");
    int ci = t.st == MICA_OK ? child_of_task(t.r[0]) : -1;
    if (e.st != MICA_OK || ci < 0)
        return;
    provision(ci);
    spot(SYS_TASK_SET_PAGER, t.r[0], e.r[0], 0, 0, 0, BIT(MICA_OK), "init's endpoint is the child's pager");
    for (int si = 0; si < 2; si++) {
        struct call c;
        call_init(&c, SYS_THREAD_CREATE);
        c.a[0] = t.r[0];
        c.a[1] = va(fz_worker);
        c.a[2] = slot_stack_top(ci, si);
        c.a[3] = W_FAULT_W | (uint64_t)(si + 1) << 44; /* writes at NEVER_MAPPED + 0x1000 * (si + 1) */
        c.a[4] = my_prio > 0 ? my_prio - 1 : 0;
        c.a[5] = slot_buf(ci, si);
        c.spawn_ci = ci;
        c.spawn_si = si;
        allow(&c, 0, BIT(MICA_OK), NULL);
        run(&c);
    }
    for (int i = 0; i < 2; i++) {
        struct call rc;
        call_init(&rc, SYS_RECV);
        rc.a[0] = e.r[0];
        rc.to = WAIT_MAX_US;
        allow(&rc, 0, BIT(MICA_OK), NULL);
        rc.why = "a fault of the child arrives";
        run(&rc);
        mica_printf("# sysfuzz: repro: recv %d -> %d, label 0x%llx, fault address 0x%llx\n", i, rc.st,
                    (unsigned long long)MICA_INFO_LABEL(rc.r[1]), (unsigned long long)rc.r[2]);
    }
    struct call r =
        spot(SYS_REPLY, 0, MICA_FAULT_KILL, 0, 0, 0, BIT(MICA_OK) | BIT(MICA_EDEAD) | BIT(MICA_ENOREPLY),
             "answering the second fault (its task is gone)");
    mica_printf("# sysfuzz: repro: reply KILL -> %d; now closing the handles\n", r.st);
    kill_record(ci);
    for (unsigned h = 1; h < NHANDLES; h++)
        if (tab[h].state == S_OWNED) {
            mica_printf("# sysfuzz: repro: closing handle %u (type %u)\n", h, tab[h].type);
            spot(SYS_HANDLE_CLOSE, h, 0, 0, 0, 0, BIT(MICA_OK), "close");
        }
}

/* Start fz_worker of `kind` on handle number h (in the child) in slot si
 * of child ci, at a priority below init's; then let it run 1 ms. */
static void repro_spawn(int ci, int si, unsigned kind, uint64_t h, uint64_t seed)
{
    struct call c;
    call_init(&c, SYS_THREAD_CREATE);
    c.a[0] = kids[ci].task;
    c.a[1] = va(fz_worker);
    c.a[2] = slot_stack_top(ci, si);
    c.a[3] = kind | h << 12 | seed << 32;
    c.a[4] = my_prio > 0 ? my_prio - 1 : 0;
    c.a[5] = slot_buf(ci, si);
    c.spawn_ci = ci;
    c.spawn_si = si;
    allow(&c, 0, BIT(MICA_OK), NULL);
    run(&c);
    spot(SYS_SLEEP, 1000, 0, 0, 0, 0, BIT(MICA_OK), "let it run");
}

/* fuzzrepro=2: a thread that is the pager of its own task ends while a
 * fault of a sibling waits for its answer.  The kernel stops the task
 * from inside the ending thread's own thread_kill (ipc_thread_dying ->
 * fault_unserved -> task_destroy -> thread_kill of the same thread), and
 * the outer thread_kill then drops a reference through th->task == NULL. */
static void repro_own_pager_exits(void)
{
    struct call t = spot(SYS_TASK_CREATE, 0, 0, 0, 0, 0, BIT(MICA_OK), "task_create");
    struct call e = spot(SYS_ENDPOINT_CREATE, 0, 0, 0, 0, 0, BIT(MICA_OK), "endpoint_create");
    int ci = t.st == MICA_OK ? child_of_task(t.r[0]) : -1;
    if (e.st != MICA_OK || ci < 0)
        return;
    provision(ci);
    struct call g =
        spot(SYS_TASK_GIVE, t.r[0], e.r[0], MICA_R_RECV, 0, 0, BIT(MICA_OK), "the child may receive");
    spot(SYS_TASK_SET_PAGER, t.r[0], e.r[0], 0, 0, 0, BIT(MICA_OK), "the same endpoint is the child's pager");
    mica_puts("# sysfuzz: repro: thread 1 receives once and ends; thread 2 faults");
    repro_spawn(ci, 0, W_RECV_EXIT, g.r[0], 0);
    repro_spawn(ci, 1, W_FAULT_W, 0, 1);
    mica_puts("# sysfuzz: repro: survived");
    kill_record(ci);
}

/* fuzzrepro=3: a task that was never killed and has no thread goes away
 * when its last handle is closed; the objects its own handle table names
 * (and its pager) should go with it, but stay live: the live counts grow
 * by one endpoint per round and nothing can ever free them. */
static void repro_task_table_leak(void)
{
    struct mica_obj_counts before, after;
    mica_debug_counts(&before);
    struct call t = spot(SYS_TASK_CREATE, 0, 0, 0, 0, 0, BIT(MICA_OK), "task_create");
    struct call e = spot(SYS_ENDPOINT_CREATE, 0, 0, 0, 0, 0, BIT(MICA_OK), "endpoint_create");
    struct call p = spot(SYS_ENDPOINT_CREATE, 0, 0, 0, 0, 0, BIT(MICA_OK), "endpoint_create");
    if (t.st != MICA_OK || e.st != MICA_OK || p.st != MICA_OK)
        return;
    spot(SYS_TASK_GIVE, t.r[0], e.r[0], MICA_R_SEND, 0, 0, BIT(MICA_OK), "the task's table names endpoint 1");
    spot(SYS_TASK_SET_PAGER, t.r[0], p.r[0], 0, 0, 0, BIT(MICA_OK), "endpoint 2 is the task's pager");
    spot(SYS_HANDLE_CLOSE, e.r[0], 0, 0, 0, 0, BIT(MICA_OK), "init's handle to endpoint 1");
    spot(SYS_HANDLE_CLOSE, p.r[0], 0, 0, 0, 0, BIT(MICA_OK), "init's handle to endpoint 2");
    spot(SYS_HANDLE_CLOSE, t.r[0], 0, 0, 0, 0, BIT(MICA_OK),
         "the last handle to the task (never killed, no thread)");
    mica_sleep_us(5000);
    mica_debug_counts(&after);
    print_counts("repro before", &before);
    print_counts("repro after", &after);
}

/* ---- the handle table against the model ------------------------------------------- */

/* Compare every slot with the kernel's answer; adopt the kernel's view
 * where they differ, so one difference is reported once. */
static void model_check(void)
{
    unsigned bad = 0;
    for (unsigned h = 1; h < NHANDLES; h++) {
        uint32_t type = 0, rights = 0;
        uint64_t badge = 0;
        int st = mica_handle_info(h, &type, &rights, &badge);
        struct hslot *s = &tab[h];
        bool same = st == MICA_OK
                        ? s->state != S_FREE && s->type == type && s->rights == rights && s->badge == badge
                        : st == MICA_EBADH && s->state == S_FREE;
        if (same)
            continue;
        if (bad++ < 4)
            fail_note("handle %llu: kernel says %llu (type/rights 0x%llx), model differs", h,
                      (uint64_t)(int64_t)st, (uint64_t)type << 8 | rights);
        if (st == MICA_OK && s->state != S_FOREIGN)
            *s = (struct hslot){.state = S_OWNED, .type = (uint8_t)type, .rights = rights, .badge = badge};
        else if (st == MICA_EBADH && s->state == S_OWNED)
            *s = (struct hslot){0};
    }
    if (bad == 0)
        pass();
}

/* ---- set-up and clean-up ------------------------------------------------------------ */

static int tap_n;

static void tap(bool ok, const char *name)
{
    tap_n++;
    /* A new line first: a wild child's stray output cannot end up in front. */
    mica_printf("\n%s %d - sysfuzz/%s\n", ok ? "ok" : "not ok", tap_n, name);
}

/* Memory (once per boot), the model of init's table, the alias region. */
static bool setup(void)
{
    utop = bootinfo->user_top;
    self_task = bootinfo->self_task;
    self_thread = bootinfo->self_thread;
    text_lo = va(__mica_image_start);
    text_hi = va(__mica_text_end);
    ro_hi = va(__mica_rodata_end);
    data_hi = va(__mica_image_end);
    if (scratch == NULL) {
        scratch = page_alloc(SCRATCH_PAGES);
        char *b = page_alloc(BIG_PAGES + 512);
        slot_mem = page_alloc(MAX_CHILDREN * SLOTS * SLOT_PAGES);
        if (scratch == NULL || b == NULL || slot_mem == NULL)
            return false;
        big = (char *)(uintptr_t)((va(b) + (2ull << 20) - 1) & ~((2ull << 20) - 1));
        for (uint64_t i = 0; i < PAGE; i++)
            scratch[i] = '\n';
    }
    for (unsigned h = 1; h < NHANDLES; h++) {
        uint32_t type, rights;
        uint64_t badge;
        tab[h] = (struct hslot){0};
        if (mica_handle_info(h, &type, &rights, &badge) == MICA_OK)
            tab[h] =
                (struct hslot){.state = S_FOREIGN, .type = (uint8_t)type, .rights = rights, .badge = badge};
    }
    for (int i = 0; i < MAX_CHILDREN; i++)
        kid_free(i);
    for (unsigned i = 0; i < ALIAS_PAGES; i++)
        alias[i] = 0;
    mica_unmap(self_task, ALIAS_BASE, ALIAS_PAGES); /* a second run finds the first one's pages */
    /* What the window lends: read-write, and execute if the probe says so. */
    win_rights = MR | MW;
    if (mica_map(self_task, va(scratch) + PAGE, ALIAS_BASE + 511 * PAGE, 1, MR | MW | MX) == MICA_OK) {
        win_rights |= MX;
        mica_unmap(self_task, ALIAS_BASE + 511 * PAGE, 1);
    }
    /* The alias region: page 0 for ever (it holds the region's page
     * table), page 2 read-write with page 3 unmapped after it, page 4 the
     * newlines read-only. */
    if (mica_map(self_task, va(scratch) + PAGE, ALIAS_BASE, 1, MR | MW) != MICA_OK ||
        mica_map(self_task, va(scratch) + 2 * PAGE, ALIAS_BASE + 2 * PAGE, 1, MR | MW) != MICA_OK ||
        mica_map(self_task, va(scratch), ALIAS_BASE + 4 * PAGE, 1, MR) != MICA_OK)
        return false;
    alias[0] = alias[2] = MR | MW;
    alias[4] = MR;
    stale_pos = 0;
    for (int i = 0; i < 8; i++)
        stale[i] = 0;
    return true;
}

/* Put the alias region back as set-up left it. */
static void alias_restore(void)
{
    mica_unmap(self_task, ALIAS_BASE + PAGE, ALIAS_PAGES - 1);
    for (unsigned i = 1; i < ALIAS_PAGES; i++)
        alias[i] = 0;
    mica_map(self_task, va(scratch) + 2 * PAGE, ALIAS_BASE + 2 * PAGE, 1, MR | MW);
    mica_map(self_task, va(scratch), ALIAS_BASE + 4 * PAGE, 1, MR);
    alias[2] = MR | MW;
    alias[4] = MR;
}

/* Kill every child, close every handle the run made; true when all went
 * as it must and the table is back to what the run found. */
static bool cleanup(void)
{
    uint64_t before = checks_failed;
    for (int ci = 0; ci < MAX_CHILDREN; ci++)
        if (kids[ci].used) {
            mica_handle_t t = kids[ci].task;
            kill_record(ci);
            spot(SYS_HANDLE_CLOSE, t, 0, 0, 0, 0, BIT(MICA_OK), "closing a child's task handle");
        }
    for (unsigned h = 1; h < NHANDLES; h++)
        if (tab[h].state == S_OWNED)
            spot(SYS_HANDLE_CLOSE, h, 0, 0, 0, 0, BIT(MICA_OK), "closing a handle of the run");
    alias_restore();
    mica_fastpath_set(1);
    model_check();
    return checks_failed == before;
}

/* Start the watchdog at the caller's priority, then go 10 below it. */
static bool watchdog_start(void)
{
    int p = MICA_PRIO_MAX;
    while (p > 0 && mica_thread_set_priority(self_thread, p) != MICA_OK)
        p--;
    wd_stop = 0;
    wd_seq = 0;
    wd_aborted_seq = ~0ull;
    wd_inflight = 0;
    if (spawn_local(fz_watchdog, self_thread, p, &wd_thread) != MICA_OK)
        return false;
    uint32_t type, rights;
    uint64_t badge;
    if (mica_handle_info(wd_thread, &type, &rights, &badge) == MICA_OK)
        tab[wd_thread] =
            (struct hslot){.state = S_FOREIGN, .type = (uint8_t)type, .rights = rights, .badge = badge};
    my_prio = (unsigned)(p >= 10 ? p - 10 : 0);
    mica_thread_set_priority(self_thread, (int)my_prio);
    return true;
}

static void watchdog_stop(void)
{
    wd_stop = 1;
    for (int i = 0; i < 100 && mica_thread_abort(wd_thread) != MICA_EDEAD; i++)
        mica_sleep_us(1000);
    mica_handle_close(wd_thread);
    tab[wd_thread] = (struct hslot){0};
}

/* ---- the run ---------------------------------------------------------------------- */

static void one_op(void)
{
    unsigned r = (unsigned)below(1000);
    if (free_slots() < 24 && chance(25)) {
        struct call c; /* keep room in init's table */
        call_init(&c, SYS_HANDLE_CLOSE);
        gen_handle_call(&c);
        run(&c);
        return;
    }
    if (r < 8 || (enomem_seen && r < 60)) {
        if (enomem_seen) {
            enomem_seen = false;
            op_child_kill();
        } else {
            op_child_new();
        }
    } else if (r < 40) {
        op_spawn();
    } else if (r < 46) {
        op_child_kill();
    } else if (r < 52) {
        op_pager();
    } else if (r < 110) {
        op_ipc();
    } else {
        raw_call();
    }
}

static void print_coverage(void)
{
    for (unsigned nr = 0; nr <= NCALLS; nr++) {
        char line[240];
        int n = fmt_snprintf(line, sizeof line, "# sysfuzz: cov %-19s",
                             nr < NCALLS ? call_name(nr) : "(huge numbers)");
        uint64_t total = 0;
        for (unsigned s = 0; s <= NSTATUS; s++)
            total += cov[nr][s];
        if (total == 0)
            continue;
        for (unsigned s = 0; s < NSTATUS && n < (int)sizeof line - 24; s++)
            if (cov[nr][s])
                n += fmt_snprintf(line + n, sizeof line - (size_t)n, " %d:%llu", -(int)s,
                                  (unsigned long long)cov[nr][s]);
        if (cov[nr][NSTATUS])
            fmt_snprintf(line + n, sizeof line - (size_t)n, " bad:%llu",
                         (unsigned long long)cov[nr][NSTATUS]);
        mica_puts(line);
    }
}

/* The command-line words sysfuzz.c reads itself (sysfuzz.h); returns the
 * reproducer fuzzrepro= selects, 0 for none. */
static uint64_t read_options(void)
{
    const char *v;
    size_t vlen;
    uint64_t repro = 0;
    if (!str_word_value(bootinfo->cmdline, "fuzztrace", &v, &vlen) || !str_parse_u64(v, vlen, &trace_from))
        trace_from = ~0ull;
    avoid_known = str_word_value(bootinfo->cmdline, "fuzzavoid", &v, &vlen) &&
                  ((vlen == 5 && __builtin_memcmp(v, "known", 5) == 0) ||
                   (vlen == 5 && __builtin_memcmp(v, "pager", 5) == 0));
    if (!str_word_value(bootinfo->cmdline, "fuzzrepro", &v, &vlen) || !str_parse_u64(v, vlen, &repro))
        repro = 0;
    return repro;
}

/* Everything a previous run in this boot left behind, back to zero. */
static void reset_run(uint64_t seed)
{
    seed_used = seed;
    seed_rng(seed);
    owe_fault = false;
    for (unsigned i = 0; i < OBJ_FLAGS; i++)
        obj_flags[i] = 0;
    for (unsigned i = 0; i < 8; i++)
        hot[i] = 0;
    calls_done = checks_passed = checks_failed = printed = 0;
    st_children = st_threads = st_faults_received = st_rescues = st_received_handles = 0;
    for (unsigned i = 0; i <= NCALLS; i++)
        for (unsigned s = 0; s <= NSTATUS; s++)
            cov[i][s] = 0;
    tap_n = 0;
}

/* The random calls, one TAP line per CHUNK; returns how many were made
 * (structured ops may pass `calls` by a few), the guest time in *ms. */
static uint64_t fuzz_chunks(uint64_t calls, uint64_t *ms)
{
    uint64_t t0 = mica_time_us(), start = calls_done;
    for (uint64_t lo = 0; lo < calls; lo += CHUNK) {
        uint64_t hi = lo + CHUNK < calls ? lo + CHUNK : calls;
        chunk_failed = 0;
        while (calls_done - start < hi)
            one_op();
        model_check();
        char name[64];
        fmt_snprintf(name, sizeof name, "calls/%llu-%llu", (unsigned long long)lo + 1,
                     (unsigned long long)hi);
        tap(chunk_failed == 0, name);
    }
    *ms = (mica_time_us() - t0) / 1000;
    return calls_done - start;
}

/* After clean-up: the kernel's live objects are those the run found. */
static bool back_to_baseline(const struct mica_obj_counts *base)
{
    struct mica_obj_counts end;
    mica_sleep_us(20000); /* the kernel frees dead threads' stacks when it next schedules */
    mica_debug_counts(&end);
    if (counts_equal(base, &end)) {
        pass();
        return true;
    }
    fail_note("live object counts differ after clean-up", 0, 0, 0);
    print_counts("before", base);
    print_counts("after", &end);
    return false;
}

int sysfuzz_run(uint64_t seed, uint64_t calls)
{
    uint64_t repro = read_options();
    if (repro)
        calls = 0;
    reset_run(seed);
    int nchunks = (int)((calls + CHUNK - 1) / CHUNK);
    mica_printf("# sysfuzz: seed=%llu calls=%llu\n", (unsigned long long)seed, (unsigned long long)calls);
    mica_printf("TAP version 13\n1..%d\n", nchunks + 5);

    struct mica_obj_counts base;
    bool ok = setup() && mica_debug_counts(&base) == MICA_OK && watchdog_start();
    tap(ok, "setup");
    if (!ok) {
        for (int i = 0; i < nchunks + 4; i++)
            tap(false, "skipped (set-up failed)");
        mica_printf("\n# sysfuzz: seed=%llu calls=0 passed=0 failed=1\n", (unsigned long long)seed);
        return 1;
    }
    mica_printf("# sysfuzz: %u-level paging, user_top 0x%llx, fuzzer at priority %u, page rights 0x%x\n",
                bootinfo->paging_levels, (unsigned long long)utop, my_prio, win_rights);
    last_time = mica_time_us();

    chunk_failed = 0;
    if (repro == 1)
        repro_pager_two_faults();
    else if (repro == 2)
        repro_own_pager_exits();
    else if (repro == 3)
        repro_task_table_leak();
    else
        spot_checks();
    tap(chunk_failed == 0, "spot_checks/before");

    uint64_t ms, fuzzed = fuzz_chunks(calls, &ms);

    chunk_failed = 0;
    spot_checks();
    tap(chunk_failed == 0, "spot_checks/after");
    bool clean = cleanup();
    watchdog_stop();
    tap(clean, "cleanup");
    tap(back_to_baseline(&base), "objects_back_to_baseline");

    print_coverage();
    mica_printf(
        "# sysfuzz: %llu calls in %llu ms of guest time (%llu calls/s); %llu child tasks, %llu threads, "
        "%llu faults received, %llu handles received, %llu calls rescued by the watchdog\n",
        (unsigned long long)fuzzed, (unsigned long long)ms, (unsigned long long)(ms ? fuzzed * 1000 / ms : 0),
        (unsigned long long)st_children, (unsigned long long)st_threads,
        (unsigned long long)st_faults_received, (unsigned long long)st_received_handles,
        (unsigned long long)st_rescues);
    mica_printf("\n# sysfuzz: seed=%llu calls=%llu passed=%llu failed=%llu\n", (unsigned long long)seed,
                (unsigned long long)calls_done, (unsigned long long)checks_passed,
                (unsigned long long)checks_failed);
    return checks_failed > 0x7fffffff ? 0x7fffffff : (int)checks_failed;
}

/* test=sysfuzz: the run fuzzseed= and fuzzcalls= ask for. */
static int sysfuzz_suite(void)
{
    return sysfuzz_run(guest_cmdline_number("fuzzseed", 1), guest_cmdline_number("fuzzcalls", 20000));
}

GUEST_SUITE(sysfuzz, .run = sysfuzz_suite);
