/* The heap and the quota-checked pager regions under it; the contracts are
 * in <mica/runtime.h>, the design in docs/servers.md.
 *
 * Small blocks (up to 32 KiB) come in twelve power-of-two size classes.
 * A segment is one pager region of up to 4 MiB cut into 64 KiB spans; its
 * first span holds the segment's header (so only that span's first page is
 * touched for bookkeeping), every other span serves one class at a time:
 * a free list threaded through its freed blocks, and a bump offset for
 * blocks never handed out (so untouched pages stay untouched, and demand
 * paging only brings in what is used).  Each class keeps a list of its
 * spans that have room.  A span whose last block is freed goes back to its
 * segment; a segment whose spans are all free goes back to the pager,
 * except one kept for the next request (mica_heap_trim gives that one back
 * too).  Larger blocks are a pager region each.  One lock covers it all. */
#include <mica/pager.h>
#include <mica/runtime.h>

#define SPAN_BYTES (64u << 10)
#define SEG_BYTES (4u << 20)
#define SEG_SPANS (SEG_BYTES / SPAN_BYTES)
#define MAX_SEGS 64
#define MAX_LARGE 48
#define SPAN_FREE 0xff
#define PAGE MICA_PAGE_SIZE

/* One span: its blocks are all of class cls (SPAN_FREE: unused). */
struct span {
    struct span *next; /* in partial[cls], while listed */
    char *base;        /* its first byte */
    void *free;        /* freed blocks, linked through their first word */
    uint32_t bump;     /* bytes from base never handed out start here */
    uint16_t used;     /* live blocks */
    uint8_t cls, listed;
};

/* At the start of every segment (its span 0). */
struct segment {
    uint64_t base, bytes;
    uint32_t nspans, nfree; /* spans 1..nspans-1 serve blocks */
    struct span spans[SEG_SPANS];
};
_Static_assert(sizeof(struct segment) <= SPAN_BYTES, "a segment's header fits its first span");

/* All protected by heap_lock. */
static struct mica_lock heap_lock = MICA_LOCK_INIT;
static struct segment *segs[MAX_SEGS];
static struct span *partial[MICA_HEAP_CLASSES];
static struct segment *spare; /* an empty segment kept for the next request */
static struct {
    uint64_t addr, bytes;
} large[MAX_LARGE];

/* ---- regions within the quota ------------------------------------------------ */

static struct mica_lock region_lock = MICA_LOCK_INIT;
static uint64_t taken_pages; /* by region_lock */

/* Pages of the quota the runtime may hand out: quota= less the first
 * thread's stack region (which init took from the same quota). */
static uint64_t budget_pages(const struct mica_start *rec)
{
    uint64_t stack = (rec->stack_top - rec->stack_base) / PAGE;
    return rec->quota_pages > stack ? rec->quota_pages - stack : 0;
}

int mica_region_alloc(uint64_t bytes, uint64_t *addr)
{
    const struct mica_start *rec = mica_start_info();
    if (rec == NULL || rec->pager == 0 || bytes == 0)
        return MICA_EINVAL;
    uint64_t pages = (bytes + PAGE - 1) / PAGE;
    mica_lock(&region_lock);
    bool fits = pages <= budget_pages(rec) - taken_pages;
    if (fits)
        taken_pages += pages;
    mica_unlock(&region_lock);
    if (!fits)
        return MICA_ENOMEM;
    int st = mica_vm_alloc(rec->pager, pages * PAGE, addr);
    if (st != MICA_OK) {
        mica_lock(&region_lock);
        taken_pages -= pages;
        mica_unlock(&region_lock);
    }
    return st;
}

int mica_region_free(uint64_t addr, uint64_t bytes)
{
    const struct mica_start *rec = mica_start_info();
    if (rec == NULL || rec->pager == 0)
        return MICA_EINVAL;
    int st = mica_vm_free(rec->pager, addr, bytes);
    if (st == MICA_OK) {
        mica_lock(&region_lock);
        taken_pages -= (bytes + PAGE - 1) / PAGE;
        mica_unlock(&region_lock);
    }
    return st;
}

void mica_region_usage(uint64_t *taken, uint64_t *left)
{
    const struct mica_start *rec = mica_start_info();
    mica_lock(&region_lock);
    uint64_t t = taken_pages, b = rec != NULL ? budget_pages(rec) : 0;
    mica_unlock(&region_lock);
    if (taken)
        *taken = t;
    if (left)
        *left = b - t;
}

/* ---- size classes ----------------------------------------------------------- */

/* The class of a small request n (1 <= n <= MICA_HEAP_SMALL_MAX). */
static unsigned class_of(size_t n)
{
    unsigned c = 0;
    while ((16u << c) < n)
        c++;
    return c;
}

static uint32_t class_bytes(unsigned c)
{
    return 16u << c;
}

size_t mica_heap_class_size(size_t n)
{
    if (n == 0)
        return 0;
    if (n > MICA_HEAP_SMALL_MAX)
        return (n + PAGE - 1) & ~(size_t)(PAGE - 1);
    return class_bytes(class_of(n));
}

/* ---- segments and spans (heap_lock held) -------------------------------------- */

/* A new segment of up to SEG_BYTES (less when the quota is nearly spent),
 * or NULL. */
static struct segment *seg_new(void)
{
    int slot = -1;
    for (int i = 0; i < MAX_SEGS && slot < 0; i++)
        if (segs[i] == NULL)
            slot = i;
    uint64_t left = 0, addr = 0, bytes = SEG_BYTES;
    mica_region_usage(NULL, &left);
    if (left * PAGE < bytes)
        bytes = (left * PAGE) & ~(uint64_t)(SPAN_BYTES - 1);
    if (slot < 0 || bytes < 2 * SPAN_BYTES || mica_region_alloc(bytes, &addr) != MICA_OK)
        return NULL;
    struct segment *g = (struct segment *)(uintptr_t)addr; /* demand-zero: all fields 0 */
    g->base = addr;
    g->bytes = bytes;
    g->nspans = (uint32_t)(bytes / SPAN_BYTES);
    g->nfree = g->nspans - 1;
    for (uint32_t i = 0; i < g->nspans; i++) {
        g->spans[i].cls = SPAN_FREE;
        g->spans[i].base = (char *)(uintptr_t)(addr + (uint64_t)i * SPAN_BYTES);
    }
    segs[slot] = g;
    return g;
}

/* Give segment g (all spans free) back to the pager. */
static void seg_release(struct segment *g)
{
    for (int i = 0; i < MAX_SEGS; i++)
        if (segs[i] == g)
            segs[i] = NULL;
    mica_region_free(g->base, g->bytes);
}

/* A free span of some segment (making one if need be), set up for class c
 * and put on partial[c]; NULL when no memory is left. */
static struct span *span_take(unsigned c)
{
    struct segment *g = NULL;
    for (int i = 0; i < MAX_SEGS && g == NULL; i++)
        if (segs[i] != NULL && segs[i]->nfree > 0)
            g = segs[i];
    if (g == NULL && (g = seg_new()) == NULL)
        return NULL;
    if (g == spare)
        spare = NULL;
    struct span *s = &g->spans[1];
    while (s->cls != SPAN_FREE)
        s++;
    g->nfree--;
    *s = (struct span){.next = partial[c], .base = s->base, .cls = (uint8_t)c, .listed = 1};
    partial[c] = s;
    return s;
}

/* The segment holding address a, or NULL. */
static struct segment *seg_of(uint64_t a)
{
    for (int i = 0; i < MAX_SEGS; i++)
        if (segs[i] != NULL && a - segs[i]->base < segs[i]->bytes)
            return segs[i];
    return NULL;
}

/* Take s off partial[s->cls]. */
static void span_unlist(struct span *s)
{
    struct span **p = &partial[s->cls];
    while (*p != s)
        p = &(*p)->next;
    *p = s->next;
    s->listed = 0;
}

/* s has no live block left: back to its segment g, and g back to the
 * pager when it is all free (but keep one empty segment as the spare). */
static void span_release(struct segment *g, struct span *s)
{
    if (s->listed)
        span_unlist(s);
    s->cls = SPAN_FREE;
    g->nfree++;
    if (g->nfree + 1 < g->nspans)
        return;
    if (spare != NULL && spare != g)
        seg_release(spare);
    spare = g;
}

/* ---- malloc and free ---------------------------------------------------------- */

/* A block of class c (heap_lock held), or NULL. */
static void *small_alloc(unsigned c)
{
    struct span *s = partial[c];
    if (s == NULL && (s = span_take(c)) == NULL)
        return NULL;
    uint32_t size = class_bytes(c);
    void *p = s->free;
    if (p != NULL) {
        s->free = *(void **)p;
    } else {
        p = s->base + s->bump;
        s->bump += size;
    }
    s->used++;
    if (s->free == NULL && s->bump + size > SPAN_BYTES)
        span_unlist(s); /* full: off the list until a block comes back */
    return p;
}

/* A block of its own region (heap_lock held), or NULL. */
static void *large_alloc(size_t n)
{
    int slot = -1;
    for (int i = 0; i < MAX_LARGE && slot < 0; i++)
        if (large[i].addr == 0)
            slot = i;
    uint64_t bytes = (n + PAGE - 1) & ~(uint64_t)(PAGE - 1), addr = 0;
    if (slot < 0 || bytes < n || mica_region_alloc(bytes, &addr) != MICA_OK)
        return NULL;
    large[slot].addr = addr;
    large[slot].bytes = bytes;
    return (void *)(uintptr_t)addr;
}

void *malloc(size_t n)
{
    if (n == 0)
        n = 1; /* a unique pointer, as for any other size */
    mica_lock(&heap_lock);
    void *p = n <= MICA_HEAP_SMALL_MAX ? small_alloc(class_of(n)) : large_alloc(n);
    mica_unlock(&heap_lock);
    return p;
}

/* The usable size of block p (heap_lock held); 0 if p is no block. */
static size_t block_size(void *p)
{
    uint64_t a = (uint64_t)(uintptr_t)p;
    struct segment *g = seg_of(a);
    if (g != NULL) {
        struct span *s = &g->spans[(a - g->base) / SPAN_BYTES];
        return s->cls == SPAN_FREE ? 0 : class_bytes(s->cls);
    }
    for (int i = 0; i < MAX_LARGE; i++)
        if (large[i].addr == a)
            return large[i].bytes;
    return 0;
}

void free(void *p)
{
    if (p == NULL)
        return;
    uint64_t a = (uint64_t)(uintptr_t)p;
    mica_lock(&heap_lock);
    struct segment *g = seg_of(a);
    struct span *s = g != NULL ? &g->spans[(a - g->base) / SPAN_BYTES] : NULL;
    bool done = false;
    if (s != NULL && s != &g->spans[0] && s->cls != SPAN_FREE) {
        *(void **)p = s->free;
        s->free = p;
        if (--s->used == 0) {
            span_release(g, s);
        } else if (!s->listed) {
            s->next = partial[s->cls];
            partial[s->cls] = s;
            s->listed = 1;
        }
        done = true;
    }
    for (int i = 0; i < MAX_LARGE && !done && s == NULL; i++) {
        if (large[i].addr == a) {
            mica_region_free(large[i].addr, large[i].bytes);
            large[i].addr = large[i].bytes = 0;
            done = true;
        }
    }
    mica_unlock(&heap_lock);
    if (!done)
        mica_printf("[WARN] free: 0x%llx is not a block of this heap; ignored\n", (unsigned long long)a);
}

void mica_heap_trim(void)
{
    mica_lock(&heap_lock);
    if (spare != NULL)
        seg_release(spare);
    spare = NULL;
    mica_unlock(&heap_lock);
}

void *calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = malloc(count * size);
    if (p != NULL)
        __builtin_memset(p, 0, count * size);
    return p;
}

void *realloc(void *p, size_t n)
{
    if (p == NULL)
        return malloc(n);
    if (n == 0) {
        free(p);
        return NULL;
    }
    mica_lock(&heap_lock);
    size_t have = block_size(p);
    mica_unlock(&heap_lock);
    if (have >= n && (have <= MICA_HEAP_SMALL_MAX) == (n <= MICA_HEAP_SMALL_MAX))
        return p; /* it fits where it is */
    void *q = malloc(n);
    if (q == NULL)
        return NULL; /* p is left as it was, as C says */
    __builtin_memcpy(q, p, have < n ? have : n);
    free(p);
    return q;
}
