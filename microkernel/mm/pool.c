/* The kernel object pool; see include/mica/pool.h.
 *
 * Pages: a LIFO free list threaded through the free pages themselves.
 * Small objects: one slab list per tag; a slab page is cut into objects of
 * the tag's size and stays with that tag (objects are reused, pages are not
 * given back), which bounds the pool by the peak number of each object. */
#include <stdbool.h>

#include "mica/arch.h"
#include "mica/bootmem.h"
#include "mica/log.h"
#include "mica/panic.h"
#include "mica/pool.h"

struct free_node {
    struct free_node *next;
};

static uint64_t pool_base, pool_end;
static struct free_node *free_pages;
static uint64_t pages_total, pages_free;
static uint64_t live[MICA_TAG_COUNT];
static size_t obj_size[MICA_TAG_COUNT];
static struct free_node *free_objs[MICA_TAG_COUNT];

static const char *const tag_names[MICA_TAG_COUNT] = {
    [MICA_TAG_TASK] = "task",
    [MICA_TAG_THREAD] = "thread",
    [MICA_TAG_ENDPOINT] = "endpoint",
    [MICA_TAG_NOTIFICATION] = "notification",
    [MICA_TAG_HANDLE_TABLE] = "handle table",
    [MICA_TAG_PAGE_TABLE] = "page table",
    [MICA_TAG_KSTACK] = "kernel stack",
    [MICA_TAG_FPU_STATE] = "FPU state",
    [MICA_TAG_MDB] = "map nodes",
};

/* Zero one page (8-byte stores: no SSE in ring 0). */
static void zero_page(void *p)
{
    uint64_t *q = p;
    for (unsigned i = 0; i < 512; i++)
        q[i] = 0;
}

int pool_init(uint64_t bytes)
{
    uint64_t base;
    /* Below 4 GiB is not needed: the direct map covers all RAM by now. */
    if (pm_take((struct pm_set *)bootmem_free(), bytes, PM_PAGE_SIZE, 1ull << 20, PM_PHYS_LIMIT, &base) !=
        PM_OK)
        return -1;
    pool_base = base;
    pool_end = base + bytes;
    for (uint64_t pa = pool_end; pa > pool_base;) {
        pa -= PM_PAGE_SIZE;
        struct free_node *n = phys_to_virt(pa);
        n->next = free_pages;
        free_pages = n;
    }
    pages_total = pages_free = bytes / PM_PAGE_SIZE;
    return 0;
}

void pool_range(uint64_t *base, uint64_t *end)
{
    *base = pool_base;
    *end = pool_end;
}

void *pool_page_alloc(enum mica_obj_tag tag)
{
    struct free_node *n = free_pages;
    if (n == NULL)
        return NULL;
    free_pages = n->next;
    pages_free--;
    zero_page(n);
    live[tag]++;
    return n;
}

uint64_t pool_pt_alloc(void)
{
    void *p = pool_page_alloc(MICA_TAG_PAGE_TABLE);
    return p ? virt_to_phys_direct(p) : 0;
}

void pool_page_free(void *page, enum mica_obj_tag tag)
{
    DEBUG_ASSERT(virt_to_phys_direct(page) >= pool_base && virt_to_phys_direct(page) < pool_end);
    struct free_node *n = page;
    n->next = free_pages;
    free_pages = n;
    pages_free++;
    live[tag]--;
}

void pool_set_obj_size(enum mica_obj_tag tag, size_t size)
{
    ASSERT(size >= sizeof(struct free_node) && size <= 2048);
    obj_size[tag] = (size + 15) & ~(size_t)15;
}

/* Cut a fresh page into objects of the tag's size; false if no page. */
static bool slab_grow(enum mica_obj_tag tag)
{
    struct free_node *n = free_pages;
    if (n == NULL)
        return false;
    free_pages = n->next;
    pages_free--;
    char *page = (char *)n;
    for (size_t off = 0; off + obj_size[tag] <= PM_PAGE_SIZE; off += obj_size[tag]) {
        struct free_node *o = (struct free_node *)(page + off);
        o->next = free_objs[tag];
        free_objs[tag] = o;
    }
    return true;
}

void *pool_obj_alloc(enum mica_obj_tag tag)
{
    ASSERT(obj_size[tag] != 0);
    if (free_objs[tag] == NULL && !slab_grow(tag))
        return NULL;
    struct free_node *o = free_objs[tag];
    free_objs[tag] = o->next;
    uint64_t *q = (uint64_t *)o;
    for (size_t i = 0; i < obj_size[tag] / 8; i++)
        q[i] = 0;
    live[tag]++;
    return o;
}

void pool_obj_free(void *obj, enum mica_obj_tag tag)
{
    struct free_node *o = obj;
    o->next = free_objs[tag];
    free_objs[tag] = o;
    live[tag]--;
}

void pool_counts(struct mica_obj_counts *out)
{
    for (int i = 0; i < MICA_TAG_COUNT; i++)
        out->live[i] = live[i];
    out->pool_pages_total = pages_total;
    out->pool_pages_free = pages_free;
}

void pool_print_counts(void)
{
    LOG_INFO("pool: %llu of %llu pages free", (unsigned long long)pages_free,
             (unsigned long long)pages_total);
    for (int i = 0; i < MICA_TAG_COUNT; i++)
        kprintf("         %-14s %6llu live\n", tag_names[i], (unsigned long long)live[i]);
}
