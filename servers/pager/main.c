/* The pager: the ring-3 owner of every free physical frame.
 *
 * Init maps all free memory into the pager's space (the "window") and tells
 * it where (PAGER_ADD_MEMORY); from then on the pager is the only task that
 * holds those frames, and it hands them out as demand-zero pages:
 *   - a client reserves a region (PAGER_VM_ALLOC) and its pages appear,
 *     zero-filled, when first touched: the kernel turns the page fault into
 *     a call to the pager, whose reply names the frame to map;
 *   - regions can be shared with another client (PAGER_VM_SHARE);
 *   - a region freed, or a client removed, gives its frames back.
 * docs/pager.md describes the protocol and the ownership model.
 *
 * Frames (frames.c): never-used memory as ranges with a bump pointer, freed
 * frames on a LIFO list (cleared when freed), and a ring a low-priority
 * thread clears ahead; nothing per page at hand-over.  Per client:
 * a quota and a count of frames.  Per region: a two-level table (directory
 * page -> leaf pages -> frame addresses), built lazily from frames too. */
#include <mica/ipc.h>
#include <mica/pager.h>
#include <mica/runtime.h>

#include "base/status.h"
#include "frames.h"

#define MAX_CLIENTS 32
#define MAX_REGIONS 64 /* a server's heap segments, large blocks and thread stacks are regions */
#define MAX_SHARERS 4
#define LEAF_SPAN 512ull              /* pages per leaf table */
#define REGION_MAX_PAGES (1ull << 18) /* 1 GiB */
#define GUARD_BYTES (64ull << 10)     /* unmapped gap between regions */
#define PAGER_DEBUG 0

struct sharer {
    uint32_t client, region;
};

struct region {
    uint64_t base, pages; /* pages == 0: a free slot */
    uint64_t **dir;       /* leaf tables, or NULL until the first fault */
    int borrowed;         /* its frames belong to owner_client's region */
    uint32_t owner_client, owner_region;
    struct sharer sharers[MAX_SHARERS];
    unsigned nsharers;
};

struct client {
    int used;
    mica_handle_t task;     /* the client's task, with MICA_R_MAP */
    uint64_t quota, frames; /* in pages */
    uint64_t flags;         /* PAGER_CLIENT_* */
    struct region regions[MAX_REGIONS];
};

static struct client clients[MAX_CLIENTS];
static const char *refusal; /* why the last frame_for gave nothing */
static uint64_t nmeta;
/* The pager's own task (MICA_R_MAP), from init with the first memory: to
 * take a frame back from every task it reached before the frame is reused. */
static mica_handle_t self_task;

#define LOG(...)                                                                                             \
    do {                                                                                                     \
        if (PAGER_DEBUG)                                                                                     \
            mica_printf("pager: " __VA_ARGS__);                                                              \
    } while (0)

/* ---- frames (frames.c) ---------------------------------------------------- */

/* A zeroed frame (its address in the pager's window), or 0. */
static uint64_t frame_alloc(void)
{
    return frames_take();
}

/* Clear frame f and make it free again (no task but the pager maps it). */
static void frame_put(uint64_t f)
{
    frames_give(f);
}

/* Take frame f back from every task that reached it from the pager's
 * mapping (whatever they did with it since: mapped it on, granted it);
 * *removed is how many mappings went.  MICA_OK, or the kernel's error (no
 * pool page to split the pager's 2 MiB page): then a task may still reach f. */
static int frame_take_back(uint64_t f, uint64_t *removed)
{
    *removed = 0;
    return self_task != 0 ? mica_unmap_ex(self_task, f, 1, MICA_UNMAP_DERIVED, removed) : MICA_OK;
}

/* A frame comes back: taken back from everyone, cleared, on the free list;
 * a frame that could not be taken back is never handed out again. */
static void frame_free(uint64_t f)
{
    static uint64_t kept_out;
    uint64_t removed;
    int st = frame_take_back(f, &removed);
    if (st == MICA_OK) {
        frame_put(f);
        return;
    }
    if (kept_out++ == 0)
        mica_printf("[WARN] pager: frame 0x%llx could not be taken back (%s); it and any such frame are kept "
                    "out of use\n",
                    (unsigned long long)f, status_name(st));
}

/* ---- region tables ---------------------------------------------------------- */

/* The slot holding the frame of page `idx` of r, creating the tables on
 * the way when `create`; NULL when absent (or out of frames). */
static uint64_t *frame_slot(struct region *r, uint64_t idx, int create)
{
    if (r->dir == NULL) {
        if (!create || (r->dir = (uint64_t **)frame_alloc()) == NULL)
            return NULL;
        nmeta++;
    }
    uint64_t **leaf = &r->dir[idx / LEAF_SPAN];
    if (*leaf == NULL) {
        if (!create || (*leaf = (uint64_t *)frame_alloc()) == NULL)
            return NULL;
        nmeta++;
    }
    return &(*leaf)[idx % LEAF_SPAN];
}

/* Give back r's table pages (and, when r owns them, its frames). */
static void region_release(struct client *c, struct region *r)
{
    if (r->dir != NULL) {
        for (uint64_t d = 0; d < (r->pages + LEAF_SPAN - 1) / LEAF_SPAN; d++) {
            uint64_t *leaf = r->dir[d];
            if (leaf == NULL)
                continue;
            for (uint64_t i = 0; i < LEAF_SPAN && !r->borrowed; i++) {
                if (leaf[i] != 0) {
                    frame_free(leaf[i]);
                    c->frames--;
                }
            }
            frame_put((uint64_t)leaf); /* the pager's own table: never mapped out */
            nmeta--;
        }
        frame_put((uint64_t)r->dir);
        nmeta--;
    }
    *r = (struct region){0};
}

/* The client's region containing addr, or NULL. */
static struct region *region_at(struct client *c, uint64_t addr, uint32_t *index)
{
    for (uint32_t i = 0; i < MAX_REGIONS; i++) {
        struct region *r = &c->regions[i];
        if (r->pages && addr >= r->base && addr - r->base < r->pages * MICA_PAGE_SIZE) {
            if (index)
                *index = i;
            return r;
        }
    }
    return NULL;
}

/* The lowest address of client c's slice where `pages` pages fit at least
 * GUARD_BYTES away from each of c's regions, so that a stack running off
 * the base of its region faults instead of reaching the next one; 0 when
 * the slice has no such room.  Freed addresses are used again, so a
 * client that allocates and frees for ever never runs out of addresses. */
static uint64_t region_place(const struct client *c, uint64_t pages)
{
    uint64_t lo = PAGER_VM_BASE + (uint64_t)(c - clients) * PAGER_VM_SLICE;
    uint64_t bytes = pages * MICA_PAGE_SIZE, at = lo;
    for (bool moved = true; moved;) {
        moved = false;
        for (uint32_t i = 0; i < MAX_REGIONS; i++) {
            const struct region *r = &c->regions[i];
            uint64_t end = r->base + r->pages * MICA_PAGE_SIZE;
            if (r->pages && at < end + GUARD_BYTES && r->base < at + bytes + GUARD_BYTES) {
                at = end + GUARD_BYTES; /* past r: every move goes up, so this ends */
                moved = true;
            }
        }
    }
    return at + bytes <= lo + PAGER_VM_SLICE ? at : 0;
}

/* A new region of `pages` pages in a free slot of c, placed by
 * region_place, or NULL (no slot, or no room). */
static struct region *region_new(struct client *c, uint64_t pages, uint32_t *index)
{
    uint64_t base = region_place(c, pages);
    for (uint32_t i = 0; i < MAX_REGIONS && base != 0; i++) {
        if (c->regions[i].pages == 0) {
            struct region *r = &c->regions[i];
            *r = (struct region){.base = base, .pages = pages};
            *index = i;
            return r;
        }
    }
    return NULL;
}

/* The client a badge names, or NULL. */
static struct client *client_of(uint64_t badge)
{
    uint64_t id = badge - PAGER_BADGE_CLIENT(0);
    if (badge < PAGER_BADGE_CLIENT(0) || id >= MAX_CLIENTS || !clients[id].used)
        return NULL;
    return &clients[id];
}

/* Unmap r from its client, and from every client it is shared with. */
static void region_unmap_everywhere(struct client *c, struct region *r)
{
    mica_unmap(c->task, r->base, r->pages);
    for (unsigned s = 0; s < r->nsharers; s++) {
        struct client *o = &clients[r->sharers[s].client];
        struct region *b = &o->regions[r->sharers[s].region];
        if (o->used && b->pages && b->borrowed) {
            mica_unmap(o->task, b->base, b->pages);
            region_release(o, b);
        }
    }
}

/* ---- page faults -------------------------------------------------------------- */

/* The frame for page idx of region r of client c, allocated on first use
 * (a borrowed region takes its owner's frame); 0 if out of frames/quota. */
static uint64_t frame_for(struct client *c, struct region *r, uint64_t idx)
{
    if (r->borrowed) {
        struct client *o = &clients[r->owner_client];
        return frame_for(o, &o->regions[r->owner_region], idx);
    }
    uint64_t *slot = frame_slot(r, idx, 1);
    if (slot == NULL) {
        refusal = "out of memory (no frame for the pager's tables)";
        return 0;
    }
    if (*slot == 0) {
        if (c->frames >= c->quota) {
            refusal = "out of memory: over its quota";
            return 0;
        }
        uint64_t f = frame_alloc();
        if (f == 0) {
            refusal = "out of memory: no free frame left";
            return 0;
        }
        *slot = f;
        c->frames++;
    }
    return *slot;
}

/* The address of the fault served last (reply_refused says it). */
static uint64_t last_fault_addr;

/* Serve one fault: set m to the MAP (or KILL) answer.  Forced inline, like
 * request below, so the fault path (make bench: pager_fault) pays no call
 * beyond mica_serve's loop. */
static inline __attribute__((always_inline)) void serve_fault(uint64_t badge, struct mica_msg *m)
{
    uint64_t addr = m->mr[0], access = m->mr[1];
    last_fault_addr = addr; /* for reply_refused's line */
    struct client *c = client_of(badge);
    struct region *r = c ? region_at(c, addr, NULL) : NULL;
    uint64_t f = 0, page = addr & ~(MICA_PAGE_SIZE - 1);
    refusal = NULL;
    if (r != NULL && !(access & (MICA_FAULT_PRESENT | MICA_FAULT_EXEC)))
        f = frame_for(c, r, (page - r->base) / MICA_PAGE_SIZE);
    if (f == 0) {
        if (refusal != NULL) /* the other refusals are the kernel's [FAIL] line */
            mica_printf("[WARN] pager: client %llu: fault at 0x%llx refused: %s (%llu of %llu pages)\n",
                        (unsigned long long)(c - clients), (unsigned long long)addr, refusal,
                        (unsigned long long)c->frames, (unsigned long long)c->quota);
        LOG("fault at 0x%llx (access 0x%llx) of client 0x%llx refused\n", (unsigned long long)addr,
            (unsigned long long)access, (unsigned long long)badge);
        mica_msg_init(m, MICA_FAULT_KILL);
        return;
    }
    m->info = MICA_INFO(MICA_FAULT_MAP, 0, 0);
    m->mr[0] = f;
    m->mr[1] = page;
    m->mr[2] = 1;
    m->mr[3] = MICA_MAP_READ | MICA_MAP_WRITE | ((c->flags & PAGER_CLIENT_EXEC) ? MICA_MAP_EXEC : 0);
}

/* ---- requests ------------------------------------------------------------------ */

/* Set m to a reply with a status and up to three results. */
static void answer(struct mica_msg *m, int status, uint64_t r1, uint64_t r2, uint64_t r3)
{
    mica_msg_init(m, PAGER_REPLY);
    m->mr[0] = (uint64_t)(int64_t)status;
    m->mr[1] = r1;
    m->mr[2] = r2;
    m->mr[3] = r3;
}

static void vm_alloc(struct client *c, struct mica_msg *m)
{
    uint64_t pages = (m->mr[0] + MICA_PAGE_SIZE - 1) / MICA_PAGE_SIZE;
    uint32_t idx;
    struct region *r;
    if (pages == 0 || pages > REGION_MAX_PAGES)
        answer(m, MICA_EINVAL, 0, 0, 0);
    else if ((r = region_new(c, pages, &idx)) == NULL)
        answer(m, MICA_ENOMEM, 0, 0, 0);
    else
        answer(m, MICA_OK, r->base, 0, 0);
}

/* From init: a region in client mr0 of mr1 bytes (a server's stack). */
static void vm_alloc_for(struct mica_msg *m)
{
    uint64_t id = m->mr[0];
    if (id >= MAX_CLIENTS || !clients[id].used) {
        answer(m, MICA_EINVAL, 0, 0, 0);
        return;
    }
    m->mr[0] = m->mr[1];
    vm_alloc(&clients[id], m);
}

static void vm_free(struct client *c, struct mica_msg *m)
{
    uint32_t idx;
    struct region *r = region_at(c, m->mr[0], &idx);
    if (r == NULL || r->base != m->mr[0]) {
        answer(m, MICA_EINVAL, 0, 0, 0);
        return;
    }
    region_unmap_everywhere(c, r);
    region_release(c, r);
    answer(m, MICA_OK, 0, 0, 0);
}

static void vm_share(struct client *c, uint32_t cid, struct mica_msg *m)
{
    uint32_t idx, bidx;
    struct region *r = region_at(c, m->mr[0], &idx);
    uint64_t target = m->mr[1];
    struct client *o =
        target < MAX_CLIENTS && clients[target].used && target != cid ? &clients[target] : NULL;
    struct region *b;
    if (r == NULL || r->base != m->mr[0] || r->borrowed || o == NULL || r->nsharers == MAX_SHARERS) {
        answer(m, MICA_EINVAL, 0, 0, 0);
        return;
    }
    if ((b = region_new(o, r->pages, &bidx)) == NULL) {
        answer(m, MICA_ENOMEM, 0, 0, 0);
        return;
    }
    b->borrowed = 1;
    b->owner_client = cid;
    b->owner_region = idx;
    r->sharers[r->nsharers++] = (struct sharer){(uint32_t)target, bidx};
    answer(m, MICA_OK, b->base, 0, 0);
}

static void add_memory(struct mica_msg *m, struct mica_ipc_buffer *buf)
{
    mica_handle_t task = mica_buf_recv_handle(buf, m, 0);
    if (task != 0 && self_task == 0)
        self_task = task; /* the first hand-over brings the pager's own task */
    else if (task != 0)
        mica_handle_close(task);
    int st = frames_add(m->mr[0], m->mr[1]); /* fresh from init: nobody else maps it */
    answer(m, st, frames_free(), frames_total(), 0);
}

static void add_client(struct mica_msg *m, struct mica_ipc_buffer *buf)
{
    mica_handle_t task = mica_buf_recv_handle(buf, m, 0);
    for (uint32_t id = 0; id < MAX_CLIENTS; id++) {
        if (!clients[id].used) {
            clients[id] = (struct client){.used = 1, .task = task, .quota = m->mr[0], .flags = m->mr[1]};
            answer(m, MICA_OK, id, PAGER_BADGE_CLIENT(id), 0);
            return;
        }
    }
    if (task)
        mica_handle_close(task);
    answer(m, MICA_ENOMEM, 0, 0, 0);
}

static void remove_client(struct mica_msg *m)
{
    uint64_t id = m->mr[0];
    if (id >= MAX_CLIENTS || !clients[id].used) {
        answer(m, MICA_EINVAL, 0, 0, 0);
        return;
    }
    struct client *c = &clients[id];
    for (uint32_t i = 0; i < MAX_REGIONS; i++) {
        if (c->regions[i].pages) {
            region_unmap_everywhere(c, &c->regions[i]);
            region_release(c, &c->regions[i]);
        }
    }
    mica_handle_close(c->task);
    c->used = 0;
    answer(m, MICA_OK, frames_free(), 0, 0);
}

/* A pattern word for word i of frame f: differs per frame and per word. */
static uint64_t pattern(uint64_t f, uint64_t i)
{
    return (f * 0x9e3779b97f4a7c15ull) ^ (i * 0xc2b2ae3d27d4eb4full) ^ 0x5a5a5a5a5a5a5a5aull;
}

/* Take every free frame, check that it is zero, fill it all with a
 * pattern, check that, give it back.  Word 0 of each taken frame links the
 * chain; it is patterned and checked last, one frame at a time, while the
 * link is held in a register.  A free frame that any other task still
 * reached would be an error: each is taken back from everyone first, and
 * whatever that removes counts as one.  mr1 frames, mr2 errors, mr3 frames
 * that were not zero when taken. */
static void every_frame(struct mica_msg *m)
{
    uint64_t chain = 0, n = 0, errors = 0, dirty = 0;
    frames_settle();
    for (uint64_t f; (f = frames_take()) != 0; n++) {
        uint64_t removed;
        errors += (frame_take_back(f, &removed) != MICA_OK) + removed;
        uint64_t *w = (uint64_t *)f, nonzero = 0;
        for (uint64_t i = 0; i < MICA_PAGE_SIZE / 8; i++)
            nonzero |= w[i];
        dirty += nonzero != 0;
        w[0] = chain;
        chain = f;
        for (uint64_t i = 1; i < MICA_PAGE_SIZE / 8; i++)
            w[i] = pattern(f, i);
    }
    for (uint64_t f = chain; f != 0;) {
        uint64_t *w = (uint64_t *)f, next = w[0];
        for (uint64_t i = 1; i < MICA_PAGE_SIZE / 8; i++)
            errors += w[i] != pattern(f, i);
        w[0] = pattern(f, 0);
        errors += w[0] != pattern(f, 0);
        frame_put(f);
        f = next;
    }
    frames_resume();
    answer(m, MICA_OK, n, errors, dirty);
}

/* Handle one request of client badge `badge` (m is replaced by the
 * answer): mica_serve's handler.  mica_serve is inline, so this is called
 * directly, and forced inline into the loop: without it the fault path
 * costs 18 guest instructions more (the call and its saved registers). */
static inline __attribute__((always_inline)) void request(void *ctx, uint64_t badge, struct mica_msg *m,
                                                          struct mica_ipc_buffer *buf)
{
    (void)ctx;
    uint32_t label = mica_msg_label(m);
    LOG("request label 0x%x badge 0x%llx mr0 0x%llx mr1 0x%llx mr2 0x%llx\n", label,
        (unsigned long long)badge, (unsigned long long)m->mr[0], (unsigned long long)m->mr[1],
        (unsigned long long)m->mr[2]);
    if (label == MICA_LABEL_FAULT) {
        serve_fault(badge, m);
        return;
    }
    if (badge == PAGER_BADGE_INIT) {
        switch (label) {
        case PAGER_ADD_MEMORY:
            add_memory(m, buf);
            return;
        case PAGER_ADD_CLIENT:
            add_client(m, buf);
            return;
        case PAGER_REMOVE_CLIENT:
            remove_client(m);
            return;
        case PAGER_EVERY_FRAME:
            every_frame(m);
            return;
        case PAGER_VM_ALLOC_FOR:
            vm_alloc_for(m);
            return;
        case PAGER_START_CLEANER:
            answer(m, frames_start_cleaner((mica_handle_t)m->mr[0], &nmeta), 0, 0, 0);
            return;
        case PAGER_SCRIBBLE_FRESH:
            answer(m, MICA_OK, frames_scribble(m->mr[0]), 0, 0);
            return;
        case PAGER_COLD_FAULTS:
            frames_set_cold(m->mr[0] != 0);
            answer(m, MICA_OK, 0, 0, 0);
            return;
        case PAGER_STATS:
            answer(m, MICA_OK, frames_free(), frames_total(), nmeta);
            return;
        default:
            break;
        }
    }
    struct client *c = client_of(badge);
    if (c == NULL) {
        answer(m, MICA_ERIGHTS, 0, 0, 0);
        return;
    }
    uint32_t cid = (uint32_t)(c - clients);
    switch (label) {
    case PAGER_VM_ALLOC:
        vm_alloc(c, m);
        break;
    case PAGER_VM_FREE:
        vm_free(c, m);
        break;
    case PAGER_VM_SHARE:
        vm_share(c, cid, m);
        break;
    case PAGER_STATS:
        answer(m, MICA_OK, frames_free(), nmeta, c->frames);
        break;
    default:
        answer(m, MICA_EINVAL, 0, 0, 0);
        break;
    }
}

/* A reply the kernel refused.  MICA_ENOMEM for a mapping: the client's
 * kernel-memory quota cannot pay for the page tables (docs/kernel.md).
 * Only its creator could raise it, so the pager refuses the fault and the
 * task stops with a reason rather than wait forever.  Anything else is a
 * pager bug: one [WARN] line (the log counts repeats). */
static void reply_refused(void *ctx, uint64_t badge, uint32_t label, int status)
{
    (void)ctx;
    if (status == MICA_ENOMEM && label == MICA_FAULT_MAP) {
        struct client *c = client_of(badge);
        mica_printf("[WARN] pager: client %llu: fault at 0x%llx refused: its kernel-memory quota cannot pay "
                    "for the page tables (MICA_ENOMEM)\n",
                    (unsigned long long)(c ? c - clients : 0), (unsigned long long)last_fault_addr);
        struct mica_msg m;
        mica_msg_init(&m, MICA_FAULT_KILL);
        mica_reply(&m);
        return;
    }
    mica_printf("[WARN] pager: reply or receive failed: %s; receiving again\n", status_name(status));
}

int main(const struct mica_bootinfo *bi, uint64_t ep)
{
    if (bi != NULL) {
        /* Only the first task gets boot information: the module list has
         * the pager where init belongs (the kernel checks this too). */
        mica_puts("[FAIL] pager: started as the first module; the first module must be init");
        return 1;
    }
    /* Returns only when receiving itself fails: the argument is no
     * endpoint we may receive on, so no request can ever come. */
    int st = mica_serve_with((mica_handle_t)ep, mica_ipcbuf, request, reply_refused, NULL);
    mica_printf("[FAIL] pager: cannot receive on handle %llu: %s; the pager must be started by init as the "
                "module named \"pager\"\n",
                (unsigned long long)ep, status_name(st));
    return 2;
}
