/* init as the server manager: start every GRUB module (after the pager) in
 * grub.cfg order, check its SHA-1, run the name service, and contain
 * crashes: a server that dies is reported in one line that names it and
 * decodes the fault, its names are dropped, and its restart policy decides
 * whether it comes back.  docs/init.md has the module syntax.
 *
 * Threads: the main thread serves the name-service endpoint and does all
 * bookkeeping; a supervisor thread waits for the death notification the
 * kernel signals (SYS_TASK_WATCH) and turns it into an NS_DEATH message to
 * the main thread, so the tables are only ever touched by one thread. */
#include <mica/names.h>
#include <mica/pager.h>
#include <mica/runtime.h>
#include <mica/start.h>

#include "base/elf.h"
#include "base/fmt.h"
#include "base/sha1.h"
#include "base/status.h"
#include "base/str.h"
#include "init.h"

#define MAX_SERVERS 48
#define MAX_NAMES 64
#define BADGE_SUPERVISOR 0x5000ull
#define BADGE_INIT 0x4000ull

struct name_entry {
    char name[NS_NAME_MAX + 1];
    mica_handle_t ep;
    int owner; /* server index, or -1 for init */
};

static struct server servers[MAX_SERVERS];
static int nservers;
static struct name_entry names[MAX_NAMES];
static mica_handle_t ns_ep, ns_send, deaths;
static int manager_ready;

/* ---- module command lines ------------------------------------------------------ */

/* Copy the first word of s (at most n - 1 bytes) into out. */
static void first_word(const char *s, char *out, size_t n)
{
    size_t i = 0;
    while (s[i] != '\0' && s[i] != ' ' && i + 1 < n) {
        out[i] = s[i];
        i++;
    }
    out[i] = '\0';
}

/* ---- starting ------------------------------------------------------------------ */

/* Make task a pager client with the server's quota and give it a send
 * handle badged as that client; its stack is a region of its own, which
 * grows on demand up to MICA_SERVER_STACK_BYTES.  Recorded in rec. */
static int attach_pager(struct server *s, mica_handle_t task, struct mica_start *rec)
{
    uint64_t badge = 0;
    mica_handle_t pe = 0;
    int st = pager_add_client(task, s->quota, 0, &s->pager_id, &badge);
    if (st == MICA_OK)
        st = mica_handle_mint(pager_mint, MICA_R_SEND, badge, &pe);
    if (st == MICA_OK)
        st = mica_task_set_pager(task, pe);
    if (pe)
        mica_handle_close(pe);
    if (st == MICA_OK)
        st = mica_task_give(task, pager_mint, MICA_R_SEND, badge, &rec->pager);
    uint64_t base = 0;
    if (st == MICA_OK)
        st = mica_pager_call(pager_admin, PAGER_VM_ALLOC_FOR, s->pager_id, MICA_SERVER_STACK_BYTES, &base,
                             NULL, NULL);
    if (st == MICA_OK) {
        rec->pager_client = s->pager_id;
        rec->quota_pages = s->quota;
        rec->stack_base = base;
        rec->stack_top = base + MICA_SERVER_STACK_BYTES;
    }
    return st;
}

/* Split s's words after `--` into rec's argv (addresses in the server). */
static void record_args(const struct server *s, struct mica_start *rec)
{
    const char *a = s->args;
    size_t n = 0;
    const uint64_t text_there = MICA_START_ADDR + __builtin_offsetof(struct mica_start, text);
    while (a != NULL && *a != '\0' && rec->argc < MICA_START_MAX_ARGS) {
        while (*a == ' ')
            a++;
        if (*a == '\0')
            break;
        size_t w = 0;
        while (a[w] != '\0' && a[w] != ' ')
            w++;
        if (n + w + 1 > MICA_START_TEXT)
            break; /* too long: the rest is left out (docs/servers.md) */
        __builtin_memcpy(rec->text + n, a, w);
        rec->argv[rec->argc++] = (const char *)(uintptr_t)(text_there + n);
        n += w + 1;
        a += w;
    }
}

/* Everything server i gets at start (docs/servers.md), written into rec:
 * its handles (the name service, its pager, its own task with the rights
 * to make threads and map within itself), its limits and its arguments. */
static int give_start_record(int i, mica_handle_t task, struct mica_start *rec)
{
    struct server *s = &servers[i];
    *rec = (struct mica_start){.magic = MICA_START_MAGIC,
                               .version = MICA_START_VERSION,
                               .size = sizeof *rec,
                               .ipc_buffer = MICA_IPCBUF_ADDR,
                               .prio = s->prio,
                               .generation = s->starts + 1};
    _Static_assert(sizeof rec->name == sizeof s->name, "the module name fits the record");
    __builtin_memcpy(rec->name, s->name, sizeof rec->name);
    int st = pager_admin ? attach_pager(s, task, rec) : MICA_OK;
    /* The name service, badged with its index, so it can register under
     * its own name. */
    if (st == MICA_OK)
        st = mica_task_give(task, ns_send, MICA_R_SEND, BADGE_INIT + 1 + (uint64_t)i, &rec->names);
    /* Its own task without MICA_R_TRANSFER: the kernel's checks keep it
     * within its priority and the pages it owns (docs/servers.md). */
    if (st == MICA_OK)
        st = mica_task_give(task, task, MICA_R_CONTROL | MICA_R_MAP, 0, &rec->self_task);
    rec->arg = s->arg == UINT64_MAX ? rec->names : s->arg;
    record_args(s, rec);
    if (st == MICA_OK)
        st = mica_map(task, (uint64_t)(uintptr_t)rec, MICA_START_ADDR, 1, MICA_MAP_READ);
    return st;
}

/* Start (or restart) server i; false when it could not be started. */
static bool server_start(int i)
{
    struct server *s = &servers[i];
    mica_handle_t task = 0;
    uint64_t entry = 0;
    int st = module_kmem_fits(s) ? load_program(s->mod, s->kmem, &task, &entry) : MICA_ENOMEM;
    if (st != MICA_OK)
        return false; /* load_program said why */
    struct mica_start *rec = page_alloc(1);
    st = rec != NULL ? give_start_record(i, task, rec) : MICA_ENOMEM;
    if (st == MICA_OK)
        st = mica_task_watch(task, deaths, 1ull << (i % 64));
    if (st == MICA_OK)
        st = run_program(task, entry, s->prio, MICA_START_ADDR, rec->stack_top, &s->thread);
    if (st != MICA_OK) {
        mica_printf("[FAIL] init: cannot start \"%s\": %s\n", s->name, status_name(st));
        mica_task_kill(task);
        mica_handle_close(task);
        return false;
    }
    s->task = task;
    s->running = 1;
    s->starts++;
    mica_printf("[ OK ] init: started \"%s\" (%s)\n", s->name, s->starts > 1 ? "restart" : "first start");
    return true;
}

int servers_start_all(void)
{
    if (mica_endpoint_create(&ns_ep) != MICA_OK || mica_notification_create(&deaths) != MICA_OK ||
        mica_handle_mint(ns_ep, MICA_R_SEND | MICA_R_TRANSFER, 0, &ns_send) != MICA_OK) {
        mica_puts("[FAIL] init: no name service");
        return 1;
    }
    manager_ready = 1;
    const struct mica_bootinfo_module *pager = find_module("pager");
    int failed = 0;
    for (uint64_t m = 1; m < bootinfo->nmodules && nservers < MAX_SERVERS; m++) {
        struct server *s = &servers[nservers];
        if (&bootinfo->modules[m] == pager)
            continue; /* pager_start checked and started it */
        if (!module_parse(s, &bootinfo->modules[m], MODULE_SERVER)) {
            failed++;
            continue;
        }
        if (servers_find(s->name) != NULL || str_eq(s->name, "init") || str_eq(s->name, "pager")) {
            /* Names are how servers are found: a second one would be unreachable. */
            mica_printf("[FAIL] init: module \"%s\": an earlier module has that name; not started\n",
                        s->name);
            failed++;
            continue;
        }
        s->used = 1;
        int i = nservers++;
        if (!module_check_integrity(s) || !server_start(i)) {
            s->refused = 1;
            failed++;
        }
    }
    return failed;
}

/* ---- crash reports -------------------------------------------------------------- */

static const char *const vector_names[32] = {
    "divide error",
    "debug",
    "NMI",
    "breakpoint",
    "overflow",
    "bound range",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor overrun",
    "invalid TSS",
    "segment not present",
    "stack fault",
    "general protection",
    "page fault",
    "reserved",
    "x87 error",
    "alignment check",
    "machine check",
    "SIMD error",
    "virtualization",
    "control protection",
};

/* " <name+0xoff>": the function of the server's ELF image holding rip, or
 * "" when its symbol table does not say. */
static void symbolize(const struct server *s, uint64_t rip, char *out, size_t n)
{
    const char *name;
    uint64_t off;
    if (elf_symbol((const void *)(uintptr_t)s->mod->vaddr, s->mod->size, rip, &name, &off))
        fmt_snprintf(out, n, " <%s+0x%llx>", name, (unsigned long long)off);
    else
        out[0] = '\0';
}

/* One line naming the server and decoding why it ended. */
static void report_end(struct server *s, const struct mica_task_status *st)
{
    char sym[64];
    symbolize(s, st->rip, sym, sizeof sym);
    if (st->state == MICA_TASK_EXITED) {
        /* error holds the exit code of its last thread for an exit. */
        mica_printf("[INFO] init: server \"%s\" exited with code %lld\n", s->name,
                    (long long)(int64_t)st->error);
    } else if (st->state == MICA_TASK_FAULTED && st->vector == 14) {
        mica_printf("[FAIL] init: server \"%s\" stopped: page fault at 0x%llx (%s, %s), rip 0x%llx%s\n",
                    s->name, (unsigned long long)st->addr,
                    (st->error & 0x10) ? "execute"
                    : (st->error & 2)  ? "write"
                                       : "read",
                    (st->error & 1) ? "protection" : "not present", (unsigned long long)st->rip, sym);
    } else if (st->state == MICA_TASK_FAULTED) {
        mica_printf(
            "[FAIL] init: server \"%s\" stopped: %s (vector %llu, error 0x%llx), rip 0x%llx%s\n", s->name,
            st->vector < 32 && vector_names[st->vector] ? vector_names[st->vector] : "exception",
            (unsigned long long)st->vector, (unsigned long long)st->error, (unsigned long long)st->rip, sym);
    } else {
        mica_printf("[INFO] init: server \"%s\" was killed\n", s->name);
    }
}

/* Drop every name server i registered. */
static void drop_names(int i)
{
    for (int n = 0; n < MAX_NAMES; n++) {
        if (names[n].name[0] && names[n].owner == i) {
            mica_handle_close(names[n].ep);
            names[n] = (struct name_entry){0};
        }
    }
}

/* True when the restart policy allows another start now, which is then
 * counted; at the limit, one [FAIL] line and the server is given up. */
static bool may_restart(struct server *s, const struct mica_task_status *st)
{
    if (s->restart == RESTART_NEVER || (s->restart == RESTART_ON_FAILURE && st->state != MICA_TASK_FAULTED))
        return false;
    uint64_t now = mica_time_us(), recent = 0;
    for (unsigned k = 0; k < s->nrecent; k++)
        recent += now - s->recent[k] < s->window_us;
    if (recent >= s->limit) {
        mica_printf("[FAIL] init: server \"%s\" failed %llu times in %llu s: not restarted again\n", s->name,
                    (unsigned long long)recent + 1, (unsigned long long)(s->window_us / 1000000));
        s->gave_up = 1;
        return false;
    }
    s->recent[s->nrecent++ % (sizeof s->recent / sizeof s->recent[0])] = now;
    if (s->nrecent > sizeof s->recent / sizeof s->recent[0])
        s->nrecent = sizeof s->recent / sizeof s->recent[0];
    return true;
}

/* Server i's task has ended: report, clean up, maybe restart. */
static void server_ended(int i)
{
    struct server *s = &servers[i];
    struct mica_task_status st;
    if (mica_task_status(s->task, &st) != MICA_OK || st.state == MICA_TASK_ALIVE)
        return;
    s->running = 0;
    s->ends++;
    s->last = st;
    report_end(s, &st);
    drop_names(i);
    if (pager_admin) {
        mica_pager_call(pager_admin, PAGER_REMOVE_CLIENT, s->pager_id, 0, NULL, NULL, NULL);
    }
    mica_handle_close(s->thread);
    mica_handle_close(s->task);
    s->task = s->thread = 0;
    if (may_restart(s, &st))
        server_start(i);
}

/* ---- the name service ------------------------------------------------------------ */

/* Unpack the name in m's registers; "" becomes the module name of `owner`. */
static void unpack_name(const struct mica_msg *m, int owner, char out[NS_NAME_MAX + 1])
{
    for (int k = 0; k < NS_NAME_MAX; k++)
        out[k] = (char)(m->mr[k / 8] >> (8 * (k % 8)));
    out[NS_NAME_MAX] = '\0';
    if (out[0] == '\0' && owner >= 0)
        first_word(servers[owner].name, out, NS_NAME_MAX + 1);
}

/* The name-service request in m from badge; m becomes the reply. */
static void ns_request(uint64_t badge, struct mica_msg *m)
{
    int owner = badge > BADGE_INIT && badge <= BADGE_INIT + MAX_SERVERS ? (int)(badge - BADGE_INIT - 1) : -1;
    char name[NS_NAME_MAX + 1];
    uint32_t label = mica_msg_label(m);
    if (label == NS_DEATH && badge == BADGE_SUPERVISOR) {
        uint64_t bits = m->mr[0];
        for (int i = 0; i < nservers; i++)
            if (servers[i].running && (bits & (1ull << (i % 64))))
                server_ended(i);
        mica_msg_init(m, NS_REPLY);
        return;
    }
    unpack_name(m, owner, name);
    int st = MICA_EINVAL;
    mica_handle_t give = 0;
    /* This is init's main thread: its own buffer, not a global. */
    struct mica_ipc_buffer *buf = (struct mica_ipc_buffer *)(uintptr_t)bootinfo->ipc_buffer;
    if (label == NS_REGISTER) {
        mica_handle_t ep = mica_buf_recv_handle(buf, m, 0);
        int free_slot = -1;
        st = ep ? MICA_OK : MICA_EINVAL;
        for (int n = 0; st == MICA_OK && n < MAX_NAMES; n++) {
            if (names[n].name[0] && str_eq(names[n].name, name))
                st = MICA_EEXISTS;
            else if (!names[n].name[0] && free_slot < 0)
                free_slot = n;
        }
        if (st == MICA_OK && (free_slot < 0 || name[0] == '\0'))
            st = free_slot < 0 ? MICA_ENOMEM : MICA_EINVAL;
        if (st == MICA_OK) {
            names[free_slot] = (struct name_entry){.ep = ep, .owner = owner};
            first_word(name, names[free_slot].name, sizeof names[free_slot].name);
        } else if (ep) {
            mica_handle_close(ep);
        }
    } else if (label == NS_LOOKUP) {
        st = MICA_EBADH;
        for (int n = 0; n < MAX_NAMES; n++)
            if (names[n].name[0] && str_eq(names[n].name, name)) {
                give = names[n].ep;
                st = MICA_OK;
            }
    }
    mica_msg_init(m, NS_REPLY);
    m->mr[0] = (uint64_t)(int64_t)st;
    if (give)
        mica_buf_add_handle(buf, m, give, MICA_R_SEND);
}

/* mica_serve's handler for the name service. */
static void ns_serve(void *ctx, uint64_t badge, struct mica_msg *m, struct mica_ipc_buffer *buf)
{
    (void)ctx, (void)buf;
    ns_request(badge, m);
}

/* The supervisor thread: every end of a watched task becomes NS_DEATH. */
static void supervisor(uint64_t send, struct mica_ipc_buffer *buf)
{
    (void)buf;
    for (;;) {
        uint64_t bits = 0;
        if (mica_notify_wait(deaths, &bits, MICA_TIMEOUT_INFINITE) != MICA_OK)
            continue;
        struct mica_msg m;
        mica_msg_init(&m, NS_DEATH);
        m.mr[0] = bits;
        mica_call((mica_handle_t)send, &m, MICA_TIMEOUT_INFINITE);
    }
}

mica_handle_t servers_ns_handle(void)
{
    mica_handle_t h = 0;
    if (manager_ready)
        mica_handle_mint(ns_send, MICA_R_SEND, BADGE_INIT, &h);
    return h;
}

const struct server *servers_find(const char *name)
{
    for (int i = 0; i < nservers; i++)
        if (servers[i].used && str_eq(servers[i].name, name))
            return &servers[i];
    return NULL;
}

void servers_serve(void)
{
    if (!manager_ready)
        for (;;)
            mica_sleep_us(1000000);
    mica_handle_t sup = 0, th = 0;
    mica_handle_mint(ns_send, MICA_R_SEND, BADGE_SUPERVISOR, &sup);
    spawn_local(supervisor, sup, MICA_PRIO_MAX, &th);
    /* Receiving fails only if ns_ep is gone, which init never lets happen. */
    for (;;)
        mica_serve(ns_ep, (struct mica_ipc_buffer *)(uintptr_t)bootinfo->ipc_buffer, ns_serve, NULL);
}
