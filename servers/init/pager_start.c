/* Starting the pager (the "pager" module) and handing it every free frame.
 *
 * Init holds the free memory only from boot until here: it maps each free
 * range into the pager at the same address, unmaps it from itself, and
 * tells the pager (PAGER_ADD_MEMORY).  Init then becomes a client like any
 * other: its own heap is a pager region, and its page faults go there. */
#include <mica/pager.h>

#include "base/status.h"
#include "init.h"

mica_handle_t pager_admin, pager_self, pager_task, pager_mint;
uint64_t pager_self_id;

#define PAGER_PRIO 62                /* below init (63), above every test and server */
#define MAP_CHUNK MICA_MAP_MAX_PAGES /* pages per SYS_MAP (the kernel's limit) */
#define PAGES_2M 512ull
#define PROGRESS_SHIFT 36 /* a progress line per 64 GiB handed over */

static uint64_t handed; /* bytes moved to the pager so far */

/* Grant [va, va + bytes) of init to the pager (the mappings move: the
 * pager's become the roots of these frames), in chunks SYS_MAP takes,
 * keeping 2 MiB pages 2 MiB pages. */
static int grant(uint64_t va, uint64_t bytes)
{
    uint64_t pages = bytes / MICA_PAGE_SIZE;
    while (pages > 0) {
        uint64_t n = pages < MAP_CHUNK ? pages : MAP_CHUNK;
        uint64_t to_2m = ((va + (2ull << 20) - 1) & ~((2ull << 20) - 1)) - va;
        if (to_2m != 0 && to_2m / MICA_PAGE_SIZE < n)
            n = to_2m / MICA_PAGE_SIZE; /* reach a 2 MiB boundary first */
        /* Read, write and the right to grant execution (never W and X at once). */
        int st =
            mica_map(pager_task, va, va, n, MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC | MICA_MAP_GRANT);
        if (st != MICA_OK)
            return st;
        struct mica_msg m;
        mica_msg_init(&m, PAGER_ADD_MEMORY);
        m.mr[0] = va;
        m.mr[1] = n * MICA_PAGE_SIZE;
        /* The pager's own task: it takes frames back from every task
         * that reached them (docs/pager.md); it keeps the first. */
        st = mica_msg_add_handle(&m, pager_task, MICA_R_MAP);
        if (st == MICA_OK)
            st = mica_call(pager_admin, &m, MICA_TIMEOUT_INFINITE);
        if (st != MICA_OK || m.mr[0] != MICA_OK)
            return st != MICA_OK ? st : (int)(int64_t)m.mr[0];
        va += n * MICA_PAGE_SIZE;
        pages -= n;
        handed += n * MICA_PAGE_SIZE;
        if (handed % (1ull << PROGRESS_SHIFT) < n * MICA_PAGE_SIZE)
            mica_printf("[INFO] init: %llu GiB handed to the pager so far\n",
                        (unsigned long long)(handed >> 30));
    }
    return MICA_OK;
}

int pager_add_client(mica_handle_t task, uint64_t quota_pages, uint64_t flags, uint64_t *id, uint64_t *badge)
{
    return mica_pager_add_client(pager_admin, task, quota_pages, flags, id, badge);
}

/* Give the pager a handle to its own task and have it start the thread
 * that clears frames ahead of faults; without it every first use of a
 * frame clears it on the fault path (slower, still correct). */
static void start_cleaner(void)
{
    mica_handle_t remote = 0;
    struct mica_msg m;
    int st = mica_task_give(pager_task, pager_task, MICA_R_CONTROL, 0, &remote);
    if (st == MICA_OK) {
        mica_msg_init(&m, PAGER_START_CLEANER);
        m.mr[0] = remote;
        st = mica_call(pager_admin, &m, MICA_TIMEOUT_INFINITE);
        if (st == MICA_OK)
            st = (int)(int64_t)m.mr[0];
    }
    if (st != MICA_OK)
        mica_printf("[WARN] init: the pager's clearing thread did not start: %s; faults clear their frames\n",
                    status_name(st));
}

/* An upper bound of the page tables the pager's space needs for the
 * window of free memory it is given, charged to its kernel-memory quota on
 * top of its own (docs/kernel.md): per range, a page directory per GiB and
 * the page of mapping-database nodes that comes with its first 2 MiB page
 * (docs/pager.md), a pointer table per 512 GiB, and two tables of 4 KiB
 * pages with their node pages at its ends; then a top-level table per
 * level and the headroom a grant's up-front check asks for. */
#define TABLE_WITH_NODES 2
#define GRANT_HEADROOM 16
static uint64_t window_table_pages(void)
{
    uint64_t n = 5 + GRANT_HEADROOM;
    for (uint64_t i = 0; i < bootinfo->nranges; i++) {
        uint64_t base = bootinfo->ranges[i].vaddr, last = base + bootinfo->ranges[i].size - 1;
        if (bootinfo->ranges[i].size != 0)
            n += TABLE_WITH_NODES * ((last >> 30) - (base >> 30) + 1) + (last >> 39) - (base >> 39) + 1 +
                 2 * TABLE_WITH_NODES;
    }
    return n;
}

bool pager_start(void)
{
    const struct mica_bootinfo_module *mod = find_module("pager");
    struct server line;
    if (mod == NULL) {
        mica_puts("[FAIL] init: no module named \"pager\"; Mica cannot run without its pager (docs/init.md)");
        return false;
    }
    if (!module_parse(&line, mod, MODULE_PAGER) || !module_check_integrity(&line))
        return false;
    mica_handle_t ep = 0, th = 0;
    if (mica_endpoint_create(&ep) != MICA_OK ||
        start_program(mod, line.kmem + window_table_pages(), PAGER_PRIO, ep, MICA_R_RECV, 0, &pager_task,
                      &th) != MICA_OK ||
        mica_handle_mint(ep, MICA_R_SEND, PAGER_BADGE_INIT, &pager_admin) != MICA_OK) {
        mica_puts("[FAIL] init: the pager did not start");
        return false;
    }
    mica_handle_close(th);
    uint64_t granted = 0, va, bytes;
    for (uint64_t i = 0; mem_window_rest(i, &va, &bytes); i++) {
        bytes &= ~(MICA_PAGE_SIZE - 1);
        int st = bytes ? grant(va, bytes) : MICA_OK;
        if (st != MICA_OK) {
            mica_printf("[FAIL] init: handing memory to the pager failed: %s\n", status_name(st));
            return false;
        }
        granted += bytes;
    }
    start_cleaner();
    uint64_t badge = 0;
    if (pager_add_client(bootinfo->self_task, UINT64_MAX, PAGER_CLIENT_EXEC, &pager_self_id, &badge) !=
            MICA_OK ||
        mica_handle_mint(ep, MICA_R_SEND, badge, &pager_self) != MICA_OK ||
        mica_task_set_pager(bootinfo->self_task, pager_self) != MICA_OK) {
        mica_puts("[FAIL] init: cannot become a client of the pager");
        return false;
    }
    /* An unbadged send handle, to mint each client's badged one from; init
     * keeps no receive right: if the pager dies, faults fail at once. */
    if (mica_handle_mint(ep, MICA_R_SEND | MICA_R_TRANSFER, 0, &pager_mint) != MICA_OK) {
        mica_puts("[FAIL] init: no handle to give the pager to servers");
        return false;
    }
    mica_handle_close(ep);
    mem_use_pager(pager_self);
    mica_printf("[ OK ] init: pager started; %llu MiB of free memory handed to it\n",
                (unsigned long long)(granted >> 20));
    return true;
}
